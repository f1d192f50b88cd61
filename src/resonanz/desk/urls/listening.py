from django.urls import path

from resonanz.desk.views import listening as views

app_name = "listening"
urlpatterns = [
    path("", views.stream, name="stream"),
    path("posts/<id:pk>/convert/", views.convert, name="convert"),
]
