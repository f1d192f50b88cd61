from django.urls import path

from resonanz.desk.views import contacts as views
from resonanz.desk.views import privacy

app_name = "crm"
urlpatterns = [
    path("", views.contact_list, name="contacts"),
    path("<id:pk>/", views.contact_detail, name="contact"),
    path("<id:pk>/edit/", views.contact_edit, name="contact_edit"),
    path("<id:pk>/identities/", views.identity_add, name="identity_add"),
    path("<id:pk>/merge/", views.merge, name="merge"),
    path("<id:pk>/export/", privacy.export, name="export"),
    path("<id:pk>/export/page/", privacy.export_page, name="export_page"),
    path("<id:pk>/erase/", privacy.erase, name="erase"),
    path("<id:pk>/not-duplicate/", views.not_duplicate, name="not_duplicate"),
    path("duplicates/", views.duplicate_list, name="duplicates"),
]
