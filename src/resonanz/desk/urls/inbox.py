from django.urls import path

from resonanz.desk.views import inbox as views
from resonanz.desk.views import macros as views_macros
from resonanz.desk.views import settings as views_admin

app_name = "inbox"
urlpatterns = [
    path("", views.inbox, name="index"),
    path("updates/", views.updates, name="updates"),
    path("attachments/<int:pk>/", views.attachment, name="attachment"),
    path("profile/", views.profile, name="profile"),
    path("macros/", views_macros.macros, name="macros"),
    path("macros/<int:pk>/", views_macros.macros, name="macro"),
    path("macros/<int:pk>/delete/", views_macros.macro_delete, name="macro_delete"),
    path("bulk/", views_macros.bulk, name="bulk"),
    path("views/", views_macros.save_view, name="save_view"),
    path("views/<int:pk>/delete/", views_macros.delete_view, name="delete_view"),
    path("conversations/<int:pk>/macro/", views_macros.apply_macro, name="apply_macro"),
    path("conversations/<int:pk>/", views.conversation, name="conversation"),
    path("conversations/<int:pk>/reply/", views.reply, name="reply"),
    path("conversations/<int:pk>/note/", views.note, name="note"),
    path("conversations/<int:pk>/update/", views.update, name="update"),
    path("conversations/<int:pk>/take/", views.take, name="take"),
    path("conversations/<int:pk>/presence/", views.presence, name="presence"),
    path("messages/<int:pk>/correct/", views.correct_analysis, name="correct"),
    path("messages/<int:pk>/suggestion/", views.suggestion_feedback, name="suggestion_feedback"),
    path("settings/agents/", views_admin.agents, name="admin_agents"),
    path("settings/agents/<int:pk>/", views_admin.agent_edit, name="admin_agent"),
    path("settings/agents/<int:pk>/active/", views_admin.agent_active, name="admin_agent_active"),
    path("settings/teams/", views_admin.teams, name="admin_teams"),
    path("settings/teams/<int:pk>/", views_admin.team_edit, name="admin_team"),
    path("settings/catalog/", views_admin.catalog, name="admin_catalog"),
    path("settings/channels/", views_admin.channels, name="admin_channels"),
    path("settings/channels/<int:pk>/", views_admin.channel_detail, name="admin_channel"),
    path("settings/channels/<int:pk>/check/", views_admin.channel_check, name="admin_channel_check"),
    path("settings/channels/<int:pk>/secret/", views_admin.channel_secret, name="admin_channel_secret"),
]
