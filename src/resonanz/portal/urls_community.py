from django.urls import path

from resonanz.portal.community import curation, ideas, members, moderation, questions

app_name = "community"
urlpatterns = [
    path("", questions.home, name="home"),
    path("tags/", curation.tags, name="tags"),
    path("tags/<int:pk>/edit/", curation.edit_tag, name="tag_edit"),
    path("tags/<str:tag>/", questions.home, name="tag"),
    path("ask/", questions.ask, name="ask"),
    path("similar/", questions.similar, name="similar"),
    path("report/", questions.report, name="report"),
    path("moderation/", moderation.queue, name="moderation"),
    path("moderate/", moderation.moderate, name="moderate"),
    path("q/<int:pk>/", questions.question, name="question"),
    path("q/<int:pk>/answer/", questions.answer, name="answer"),
    path("q/<int:pk>/vote/", questions.vote, name="vote"),
    path("q/<int:pk>/comment/", questions.comment, name="comment"),
    path("q/<int:pk>/follow/", questions.follow, name="follow"),
    path("q/<int:pk>/move/", curation.move, name="move"),
    path("q/<int:pk>/merge/", curation.merge, name="merge"),
    path("q/<int:pk>/accept/<int:answer_pk>/", questions.accept, name="accept"),
    path("q/<int:pk>/article/<int:answer_pk>/", questions.draft_article, name="draft_article"),
    path("ideas/", ideas.ideas, name="ideas"),
    path("ideas/new/", ideas.new_idea, name="idea_new"),
    path("ideas/done/", ideas.showcase, name="showcase"),
    path("ideas/<int:pk>/", ideas.idea, name="idea"),
    path("ideas/<int:pk>/vote/", ideas.vote_idea, name="idea_vote"),
    path("ideas/<int:pk>/comment/", ideas.comment_idea, name="idea_comment"),
    path("login/", members.login, name="login"),
    path("login/<str:token>/", members.redeem, name="redeem"),
    path("logout/", members.logout, name="logout"),
    path("lang/<str:lang>/", members.set_language, name="lang"),
    path("members/<int:pk>/", members.profile, name="profile"),
    path("members/<int:pk>/avatar/<int:version>.webp", members.avatar, name="avatar"),
    path("me/", members.edit_profile, name="edit_profile"),
    path("me/avatar/", members.upload_avatar, name="upload_avatar"),
]
