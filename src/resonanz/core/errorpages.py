"""The 404, 413 and 500 answers: a page for people, JSON for programs, both with the request id.

They render without the request's context processors or the base template: a 500 may come
from the database being down or a broken template, and the error page must not fail the same
way. The traceback is logged by Django's ``django.request`` logger (see LOGGING in settings).
"""

from __future__ import annotations

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.utils import formats, translation
from django.utils.html import escape
from django.utils.translation import gettext

from resonanz.core.requestid import current

log = logging.getLogger("resonanz.core.errorpages")


def wants_json(request) -> bool:
    """API paths and clients that ask for JSON get JSON."""
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


def _request_id(request) -> str:
    return getattr(request, "request_id", None) or current()


def _page(template: str, status: int, context: dict, fallback: str) -> HttpResponse:
    try:
        body = loader.render_to_string(template, context)
    except Exception:  # the error page must not become the next error
        log.exception("could not render %s", template)
        body = f"<!doctype html><title>{status}</title><h1>{escape(fallback)}</h1>" \
               f"<p>Request ID: <code>{escape(context['request_id'])}</code></p>"
    return HttpResponse(body, status=status, content_type="text/html; charset=utf-8")


def page_not_found(request, exception=None):
    request_id = _request_id(request)
    if wants_json(request):
        return JsonResponse({"detail": gettext("Not found."), "request_id": request_id}, status=404)
    return _page("404.html", 404, {"request_path": request.path, "request_id": request_id},
                 gettext("Page not found"))


def server_error(request):
    request_id = _request_id(request)
    if isinstance(sys.exc_info()[1], OperationalError | InterfaceError):
        return database_unavailable(request, request_id)
    if wants_json(request):
        return JsonResponse({"detail": gettext("Server error. It has been logged; please quote the request id."),
                             "request_id": request_id}, status=500)
    return _page("500.html", 500, {"request_id": request_id}, gettext("Something went wrong"))


def database_unavailable(request, request_id: str) -> HttpResponse:
    """The database failed outside a view (in the session or sign-in middleware: no connection left, a restart):
    that is "busy, try again", a 503 with Retry-After like the views' own, not a 500 saying the request was wrong.
    Django calls the 500 handler inside its except block, so the exception is still at hand."""
    if wants_json(request):
        response = JsonResponse({"error": "The database is busy or unavailable; nothing was stored. "
                                          "Send the request again in a few seconds.", "request_id": request_id},
                                status=503)
    else:
        response = _page("503.html", 503, {"request_id": request_id},
                         gettext("Resonanz is busy for a moment. Please try again in a few seconds."))
    response["Retry-After"] = "5"
    return response
def too_large(request, limit: int, size: int) -> HttpResponse:
    """A body over the limit, refused before it is read. A person who sent a form with files (the contact form)
    reads in their language how much is allowed and that the browser's Back button brings the form back with
    the text; programs get the JSON they always got."""
    from resonanz.core.bodylimit import too_large_payload

    if wants_json(request) or "text/html" not in request.headers.get("Accept", ""):
        return JsonResponse(too_large_payload(limit, size), status=413)
    with translation.override(translation.get_language_from_request(request)):
        megabytes = {"size": formats.number_format(round(size / 2**20, 1), 1),
                     "max": formats.number_format(limit // 2**20, 0)}
        return _page("413.html", 413, {"request_id": _request_id(request), **megabytes},
                     gettext("Too much to send at once"))
