from django.urls import path

from resonanz.desk.views import community as views

app_name = "community_desk"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("act/", views.moderate, name="moderate"),
    path("reports/<int:pk>/dismiss/", views.dismiss, name="dismiss"),
    path("ideas/", views.ideas, name="ideas"),
    path("ideas/clusters/", views.idea_clusters, name="idea_clusters"),
    path("ideas/clusters/new/", views.cluster_to_idea, name="cluster_to_idea"),
    path("ideas/clusters/merge/", views.cluster_merge, name="cluster_merge"),
    path("ideas/<int:pk>/", views.idea, name="idea"),
    path("ideas/<int:pk>/status/", views.idea_status, name="idea_status"),
    path("ideas/<int:pk>/link/", views.idea_link, name="idea_link"),
    path("ideas/<int:pk>/merge/", views.idea_merge, name="idea_merge"),
    path("from-conversation/<int:pk>/", views.from_conversation, name="from_conversation"),
    path("members/", views.members, name="members"),
    path("members/<int:pk>/", views.member, name="member"),
    path("members/<int:pk>/act/", views.member_action, name="member_action"),
]
