from django.urls import path

from resonanz.desk.views import insights as views
from resonanz.desk.views import insights_more as more

app_name = "insights"
urlpatterns = [
    path("", views.dashboard_page, name="dashboard"),
    path("terms/", views.terms_page, name="terms"),
    path("authors/", views.authors_page, name="authors"),
    path("ideas/", views.ideas_page, name="ideas"),
    path("items/", views.items_page, name="items"),
    path("export/<str:chart>.csv", views.export_csv, name="export"),
    path("alerts/<id:pk>/", views.alert_detail, name="alert"),
    path("goals/", views.goal_save, name="goal_save"),
    path("goals/<id:pk>/delete/", views.goal_delete, name="goal_delete"),
    path("launch/", more.launch_page, name="launch"),
    path("alert-channels/", more.alert_channels, name="alert_channels"),
    path("alert-channels/<id:pk>/delete/", more.alert_channel_delete, name="alert_channel_delete"),
    path("notifications/", more.notifications, name="notifications"),
]
