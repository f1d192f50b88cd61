from django.urls import path

from resonanz.chat import live, views

app_name = "chat"

urlpatterns = [
    path("<slug:slug>/config/", views.config, name="config"),
    path("<slug:slug>/session/", views.session, name="session"),
    path("<slug:slug>/messages/", views.messages, name="messages"),
    path("<slug:slug>/read/", views.read, name="read"),
    path("<slug:slug>/feedback/", views.feedback, name="feedback"),
    path("<slug:slug>/leave-message/", views.leave_message, name="leave_message"),
    path("<slug:slug>/typing/", views.typing_signal, name="typing"),
    path("<slug:slug>/upload/", views.upload, name="upload"),
    path("<slug:slug>/files/<str:key>/", views.file, name="file"),
    path("<slug:slug>/rating/", views.rating, name="rating"),
    path("<slug:slug>/stream/", live.stream, name="stream"),
]
