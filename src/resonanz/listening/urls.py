from django.urls import path

from resonanz.listening import views

app_name = "listening"
urlpatterns = [
    path("", views.stream, name="stream"),
    path("posts/<int:pk>/convert/", views.convert, name="convert"),
]
