"""Sends an agent whose role must use two-factor sign-in, and who has not set it up, to set it up first."""

from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from resonanz.core import twofactor

#: pages that work without it: signing in and out, the set-up page itself, public pages, files
OPEN_PREFIXES = ("/accounts/", "/static/", "/i18n/", "/help/", "/community/", "/chat/", "/hooks/", "/contact/",
                 "/survey/", "/healthz", "/favicon.ico", "/api/auth/token/", "/api/schema/", "/api/docs/")


class TwoFactorRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated and not request.path.startswith(OPEN_PREFIXES)
                and request.path != reverse("inbox:two_factor")
                and twofactor.required_for(user) and not twofactor.enabled(user)):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": _("Set up two-factor sign-in on your profile first.")}, status=403)
            return redirect(f"{reverse('inbox:two_factor')}?required=1")
        return self.get_response(request)
