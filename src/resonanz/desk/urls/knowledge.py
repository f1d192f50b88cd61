from django.urls import path

from resonanz.desk.views import knowledge as views

app_name = "knowledge"
urlpatterns = [
    path("", views.article_list, name="list"),
    path("new/", views.article_new, name="new"),
    path("preview/", views.preview, name="preview"),
    path("<id:pk>/", views.article_detail, name="detail"),
    path("<id:pk>/edit/", views.article_edit, name="edit"),
    path("<id:pk>/status/", views.article_status, name="status"),
    path("<id:pk>/history/", views.history, name="history"),
    path("<id:pk>/history/<id:number>/", views.version, name="version"),
    path("<id:pk>/history/<id:number>/restore/", views.restore, name="restore"),
    path("categories/", views.categories, name="categories"),
    path("categories/<id:pk>/", views.category_edit, name="category_edit"),
    path("transfer/", views.transfer_page, name="transfer"),
    path("export.json", views.export_json, name="export_json"),
    path("export.zip", views.export_zip, name="export_zip"),
]
