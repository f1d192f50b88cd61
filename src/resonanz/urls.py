from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from resonanz.connectors.views import push
from resonanz.core.ratelimit import rate_limited
from resonanz.core.views import healthz
from resonanz.desk.views import account
from resonanz.portal.contact import contact_form
from resonanz.portal.survey import survey

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="inbox:index", permanent=False)),
    path("healthz", healthz, name="healthz"),
    # browsers ask for /favicon.ico on every page that names no icon (error pages, the help center)
    path("favicon.ico", RedirectView.as_view(url=static("resonanz/favicon.svg"), permanent=True)),
    path("accounts/login/", account.LoginView.as_view(), name="login"),
    path("accounts/login/code/", account.login_code, name="login_code"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/reset/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(
        success_url="/accounts/login/"), name="password_reset_confirm"),
    # Every agent changes their own password (checked against AUTH_PASSWORD_VALIDATORS) and can ask for a
    # reset link by email; the answer never says whether an address has an account.
    path("accounts/password/", auth_views.PasswordChangeView.as_view(
        success_url="/accounts/password/done/"), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("accounts/forgot/", rate_limited("password_reset")(auth_views.PasswordResetView.as_view(
        success_url="/accounts/forgot/sent/")), name="password_reset"),
    path("accounts/forgot/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("inbox/", include("resonanz.desk.urls.inbox")),
    path("contacts/", include("resonanz.desk.urls.contacts")),
    path("contact/<slug:slug>/", contact_form, name="contact_form"),
    path("survey/<str:token>/", survey, name="survey"),
    path("hooks/<slug:slug>/", push, name="webhook"),
    path("chat/", include("resonanz.chat.urls")),
    path("listening/", include("resonanz.desk.urls.listening")),
    path("insights/", include("resonanz.desk.urls.insights")),
    path("automation/", include("resonanz.desk.urls.automation")),
    path("knowledge/", include("resonanz.desk.urls.knowledge")),
    path("help/", include("resonanz.portal.urls_help")),
    path("community/", include("resonanz.portal.urls_community")),
    path("moderation/", include("resonanz.desk.urls.community")),
    path("api/", include("resonanz.api.urls")),
    # The Django admin signs in through the same two steps (password, then a code with two-factor sign-in):
    # its own login form would start a session on the password alone.
    path("django-admin/login/", account.LoginView.as_view(), name="django_admin_login"),
    path("django-admin/", admin.site.urls),
]

handler404 = "resonanz.core.errorpages.page_not_found"
handler500 = "resonanz.core.errorpages.server_error"
