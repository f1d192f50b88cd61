from django.urls import path

from resonanz.desk.views import account, reply_window
from resonanz.desk.views import inbox as views
from resonanz.desk.views import macros as views_macros
from resonanz.desk.views import merge as views_merge
from resonanz.desk.views import retention as views_retention
from resonanz.desk.views import settings as views_admin
from resonanz.desk.views import start as views_start

app_name = "inbox"
urlpatterns = [
    path("", views.inbox, name="index"),
    path("updates/", views.updates, name="updates"),
    path("start/", views_start.start, name="start"),
    path("start/demo/", views_start.demo, name="start_demo"),
    path("start/hide/", views_start.hide, name="start_hide"),
    path("attachments/<id:pk>/", views.attachment, name="attachment"),
    path("profile/", views.profile, name="profile"),
    path("profile/two-factor/", account.two_factor, name="two_factor"),
    path("profile/tokens/", account.api_tokens, name="api_tokens"),
    path("profile/tokens/<id:pk>/revoke/", account.api_token_revoke, name="api_token_revoke"),
    path("macros/", views_macros.macros, name="macros"),
    path("macros/<id:pk>/", views_macros.macros, name="macro"),
    path("macros/<id:pk>/delete/", views_macros.macro_delete, name="macro_delete"),
    path("bulk/", views_macros.bulk, name="bulk"),
    path("views/", views_macros.save_view, name="save_view"),
    path("views/<id:pk>/delete/", views_macros.delete_view, name="delete_view"),
    path("conversations/<id:pk>/macro/", views_macros.apply_macro, name="apply_macro"),
    path("conversations/<id:pk>/", views.conversation, name="conversation"),
    path("conversations/<id:pk>/reply/", views.reply, name="reply"),
    path("conversations/<id:pk>/note/", views.note, name="note"),
    path("conversations/<id:pk>/update/", views.update, name="update"),
    path("conversations/<id:pk>/take/", views.take, name="take"),
    path("conversations/<id:pk>/merge/", views_merge.merge, name="merge"),
    path("conversations/<id:pk>/unmerge/", views_merge.unmerge, name="unmerge"),
    path("conversations/<id:pk>/split/", views_merge.split, name="split"),
    path("messages/<id:pk>/correct/", views.correct_analysis, name="correct"),
    path("messages/<id:pk>/suggestion/", views.suggestion_feedback, name="suggestion_feedback"),
    path("messages/<id:pk>/moderate/", views.moderate_comment, name="moderate_comment"),
    path("conversations/<id:pk>/filtered/", views.set_filtered, name="set_filtered"),
    path("conversations/<id:pk>/template/", reply_window.template_reply, name="template_reply"),
    path("conversations/<id:pk>/presence/", views.presence, name="presence"),
    path("settings/agents/", views_admin.agents, name="admin_agents"),
    path("settings/agents/<id:pk>/", views_admin.agent_edit, name="admin_agent"),
    path("settings/agents/<id:pk>/active/", views_admin.agent_active, name="admin_agent_active"),
    path("settings/teams/", views_admin.teams, name="admin_teams"),
    path("settings/teams/<id:pk>/", views_admin.team_edit, name="admin_team"),
    path("settings/catalog/", views_admin.catalog, name="admin_catalog"),
    path("settings/security/", views_admin.security, name="admin_security"),
    path("settings/retention/", views_retention.rules, name="admin_retention"),
    path("settings/retention/<id:pk>/delete/", views_retention.rule_delete, name="admin_retention_delete"),
    path("settings/channels/", views_admin.channels, name="admin_channels"),
    path("settings/channels/<id:pk>/", views_admin.channel_detail, name="admin_channel"),
    path("settings/channels/<id:pk>/check/", views_admin.channel_check, name="admin_channel_check"),
    path("settings/channels/<id:pk>/chat/", views_admin.channel_chat, name="admin_channel_chat"),
    path("settings/channels/<id:pk>/secret/", views_admin.channel_secret, name="admin_channel_secret"),
]
