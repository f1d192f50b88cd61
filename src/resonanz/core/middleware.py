"""Request guards that act before any view reads the body."""

from __future__ import annotations

import logging
from inspect import iscoroutinefunction

from django.http import JsonResponse
from django.utils import translation

from resonanz.core.bodylimit import max_request_bytes
from resonanz.core.errorpages import too_large

log = logging.getLogger("resonanz.web")


class RequestSizeLimitMiddleware:
    """Refuse oversized bodies with 413 so a client knows to send less, not that it sent garbage.

    This sees the declared Content-Length only; bodies without one (chunked) are counted as they
    arrive by resonanz.core.bodylimit, which asgi.py and wsgi.py put in front of Django.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = max_request_bytes(request.path)
        if length > limit:
            return too_large(request, limit, length)
        return self.get_response(request)


class AgentLanguageMiddleware:
    """An agent's chosen language wins over the browser's; runs after authentication."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            language = getattr(getattr(request.user, "agent", None), "language", "")
            if language:
                translation.activate(language)
                request.LANGUAGE_CODE = language
        return self.get_response(request)


class DatabaseUnavailableMiddleware:
    """A database that is busy beyond its timeout, restarting or unreachable answers 503 with Retry-After.

    Nothing was stored (the transaction rolled back), so the client must send again, and a 503 says exactly
    that; a 500 would say the request itself was wrong. Ingestion is idempotent on the external id, so the
    retry never duplicates.
    """

    RETRY_AFTER = 5

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.db import InterfaceError, OperationalError

        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        log.warning("database unavailable for %s %s: %s", request.method, request.path, exception)
        response = JsonResponse({"error": "The database is busy or unavailable; nothing was stored. "
                                          "Send the request again in a few seconds."}, status=503)
        response["Retry-After"] = str(self.RETRY_AFTER)
        return response


class LeanPathMiddleware:
    """Machine-to-machine endpoints (platforms' webhooks at ``/hooks/``) skip what only a browser needs.

    A platform pushing hundreds of signed notifications a second sends no cookie, reads no page and never signs
    in, so sessions, locale negotiation, CSRF (the views are exempt anyway), authentication, messages, the
    two-factor and lockout checks and the page headers (CSP, frame options) are pure overhead there (about a
    third of such a request's CPU time, bench/webhook_intake.py). For paths starting with one of
    ``RESONANZ_LEAN_PATHS`` this middleware, placed after the request id, the body size limit and
    SecurityMiddleware, calls the resolved view itself; everything else goes down the whole stack. The view
    still answers 503 for an unavailable database, and other exceptions take Django's usual way (500, logged).
    """

    def __init__(self, get_response):
        from django.conf import settings

        from resonanz.core.audit import AuditContextMiddleware

        self.get_response = get_response
        self.prefixes = tuple(getattr(settings, "RESONANZ_LEAN_PATHS", ()))
        self.language = settings.LANGUAGE_CODE
        self.view = AuditContextMiddleware(self._view)  # audit entries written meanwhile know the address

    def __call__(self, request):
        if not self.prefixes or not request.path_info.startswith(self.prefixes):
            return self.get_response(request)
        from django.db import InterfaceError, OperationalError
        from django.urls import Resolver404, resolve

        try:
            request.resolver_match = resolve(request.path_info)
        except Resolver404:
            return self.get_response(request)  # the whole stack answers (its 404 page, a slash added…)
        if iscoroutinefunction(request.resolver_match.func):  # an async view (a live stream): the whole stack
            return self.get_response(request)
        translation.activate(self.language)  # the installation's language, not a former request's
        try:
            return self.view(request)
        except (OperationalError, InterfaceError) as exc:
            return DatabaseUnavailableMiddleware(self.get_response).process_exception(request, exc)

    @staticmethod
    def _view(request):
        match = request.resolver_match
        return match.func(request, *match.args, **match.kwargs)
