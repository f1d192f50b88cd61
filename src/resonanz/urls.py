from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from resonanz.connectors.views import push
from resonanz.core.views import healthz
from resonanz.portal.contact import contact_form

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="inbox:index", permanent=False)),
    path("healthz", healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/reset/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(
        success_url="/accounts/login/"), name="password_reset_confirm"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("inbox/", include("resonanz.desk.urls.inbox")),
    path("contacts/", include("resonanz.desk.urls.contacts")),
    path("contact/<slug:slug>/", contact_form, name="contact_form"),
    path("hooks/<slug:slug>/", push, name="webhook"),
    path("listening/", include("resonanz.desk.urls.listening")),
    path("automation/", include("resonanz.desk.urls.automation")),
    path("knowledge/", include("resonanz.desk.urls.knowledge")),
    path("help/", include("resonanz.portal.urls_help")),
    path("community/", include("resonanz.portal.urls_community")),
    path("moderation/", include("resonanz.desk.urls.community")),
    path("api/", include("resonanz.api.urls")),
    path("django-admin/", admin.site.urls),
]

handler404 = "resonanz.core.errorpages.page_not_found"
handler500 = "resonanz.core.errorpages.server_error"
