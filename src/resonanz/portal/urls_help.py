from django.urls import path, re_path

from resonanz.portal import help as help_views

app_name = "help"
LANG = r"(?P<lang>de|en)"
urlpatterns = [
    path("", help_views.root, name="root"),
    re_path(rf"^{LANG}/$", help_views.home, name="home"),
    re_path(rf"^{LANG}/search/$", help_views.search, name="search"),
    re_path(rf"^{LANG}/c/(?P<slug>[-\w]+)/$", help_views.category, name="category"),
    re_path(rf"^{LANG}/(?P<pk>[0-9]{{1,18}})-(?P<slug>[-\w]*)/$", help_views.article, name="article"),
    re_path(rf"^{LANG}/(?P<pk>[0-9]{{1,18}})/feedback/$", help_views.feedback, name="feedback"),
]
