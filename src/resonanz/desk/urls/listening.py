from django.urls import path

from resonanz.desk.views import listening as views
from resonanz.desk.views import queries

app_name = "listening"
urlpatterns = [
    path("", views.stream, name="stream"),
    path("posts/<id:pk>/convert/", views.convert, name="convert"),
    path("queries/", queries.query_list, name="queries"),
    path("queries/new/", queries.query_edit, name="query_new"),
    path("queries/<id:pk>/", queries.query_edit, name="query_edit"),
    path("queries/<id:pk>/delete/", queries.query_delete, name="query_delete"),
]
