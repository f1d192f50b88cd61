"""Request guards that act before any view reads the body."""

from __future__ import annotations

import logging

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
