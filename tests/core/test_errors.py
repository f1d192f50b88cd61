"""Every unhandled error leaves a traceback in the log with the request id the error page shows.

Uses its own URLconf (this module) with views that fail on purpose, wired to the project's
error handlers, and the project's middleware and LOGGING.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import Client
from django.urls import get_resolver, path

from resonanz.core import errorpages

log = logging.getLogger("resonanz.tests.errors")


def fails(request):
    raise RuntimeError(f"deliberate failure {request.GET.get('marker', '')}")


def logs_and_answers(request):
    log.warning("working on it %s", request.GET.get("marker", ""))
    return HttpResponse("fine")


urlpatterns = [
    path("fails/", fails),
    path("api/fails/", fails),
    path("fine/", logs_and_answers),
]
handler404 = "resonanz.core.errorpages.page_not_found"
handler500 = "resonanz.core.errorpages.server_error"

pytestmark = pytest.mark.urls(__name__)


def log_text() -> str:
    file = Path(settings.LOGGING["handlers"]["file"]["filename"])
    return file.read_text(encoding="utf-8") if file.exists() else ""


def entry_with(request_id: str) -> str:
    """The log entry (first line plus its traceback) that carries this request id."""
    lines = log_text().splitlines()
    start = next(i for i, line in enumerate(lines) if f"[{request_id}]" in line)
    end = next((i for i in range(start + 1, len(lines)) if re.match(r"\d{4}-\d\d-\d\d ", lines[i])), len(lines))
    return "\n".join(lines[start:end])


def test_unhandled_error_is_logged_with_its_traceback_and_the_page_shows_the_request_id():
    marker = uuid.uuid4().hex
    response = Client(raise_request_exception=False).get(f"/fails/?marker={marker}", HTTP_ACCEPT="text/html")
    assert response.status_code == 500
    request_id = response["X-Request-ID"]
    page = response.content.decode()
    assert "Something went wrong" in page and request_id in page and page.startswith("<!doctype html>")
    assert marker not in page  # the page does not show the error itself
    entry = entry_with(request_id)
    assert "ERROR django.request" in entry
    assert "Traceback (most recent call last)" in entry
    assert f"RuntimeError: deliberate failure {marker}" in entry


def test_json_clients_get_json_with_the_request_id():
    client = Client(raise_request_exception=False)
    for response in (client.get("/api/fails/"), client.get("/fails/", HTTP_ACCEPT="application/json")):
        assert response.status_code == 500
        assert response["Content-Type"] == "application/json"
        body = response.json()
        assert body["request_id"] == response["X-Request-ID"] and "Server error" in body["detail"]
        assert "Traceback" in entry_with(body["request_id"])


def test_every_log_line_of_a_request_carries_its_id():
    marker = uuid.uuid4().hex
    response = Client().get(f"/fine/?marker={marker}")
    assert response.status_code == 200
    assert f"[{response['X-Request-ID']}] working on it {marker}" in log_text()


def test_a_sane_incoming_request_id_is_kept_and_an_odd_one_replaced():
    client = Client(raise_request_exception=False)
    kept = client.get("/fails/", HTTP_X_REQUEST_ID="lb-7f3a9c21-0001")
    assert kept["X-Request-ID"] == "lb-7f3a9c21-0001" and "lb-7f3a9c21-0001" in kept.content.decode()
    for odd in ("short", "x" * 200, "abc def ghi jkl", "abcdefgh\n2026-01-01 ERROR forged", "<script>1</script>"):
        replaced = client.get("/fine/", HTTP_X_REQUEST_ID=odd)["X-Request-ID"]
        assert re.fullmatch(r"[0-9a-f]{32}", replaced), replaced


def test_not_found_page_and_json():
    client = Client()
    page = client.get("/no/such/page/", HTTP_ACCEPT="text/html")
    assert page.status_code == 404 and "Page not found" in page.content.decode()
    assert page["X-Request-ID"] in page.content.decode()
    api = client.get("/api/no/such/thing/")
    assert api.status_code == 404 and api.json() == {"detail": "Not found.", "request_id": api["X-Request-ID"]}


def test_error_pages_in_german():
    client = Client(raise_request_exception=False)
    failed = client.get("/fails/", HTTP_ACCEPT_LANGUAGE="de")
    assert "Etwas ist schiefgelaufen" in failed.content.decode() and 'lang="de"' in failed.content.decode()
    missing = client.get("/nothing/", HTTP_ACCEPT_LANGUAGE="de")
    assert "Seite nicht gefunden" in missing.content.decode()


def test_the_404_page_escapes_the_path():
    page = Client().get("/<script>alert(1)</script>/").content.decode()
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page


@pytest.mark.urls("resonanz.urls")
def test_the_project_uses_these_handlers():
    resolver = get_resolver()
    assert resolver.resolve_error_handler(404) is errorpages.page_not_found
    assert resolver.resolve_error_handler(500) is errorpages.server_error


def test_django_request_errors_go_to_stderr_and_a_rotating_file():
    handlers = logging.getLogger("django.request").handlers
    assert any(type(h) is logging.StreamHandler for h in handlers)
    files = [h for h in handlers if isinstance(h, logging.handlers.RotatingFileHandler)]
    assert files and Path(files[0].baseFilename).parent == Path(settings.RESONANZ_LOG_DIR)
    assert files[0].maxBytes > 0 and files[0].backupCount > 0



class DatabaseGoneMiddleware:
    """Fails like a session or sign-in middleware does when PostgreSQL has no connection left."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.db import OperationalError

        raise OperationalError("connection failed: FATAL:  sorry, too many clients already")


def test_a_database_failure_outside_the_view_is_a_503_to_try_again_not_a_500(settings):
    """The load test on PostgreSQL answered 500 when the sign-in middleware found no free connection."""
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, f"{__name__}.DatabaseGoneMiddleware"]
    client = Client(raise_request_exception=False)
    page = client.get("/fine/", HTTP_ACCEPT="text/html", HTTP_ACCEPT_LANGUAGE="de")
    assert page.status_code == 503 and page["Retry-After"] == "5"
    assert "Einen Moment bitte" in page.content.decode() and page["X-Request-ID"] in page.content.decode()
    assert page.content.decode().startswith("<!doctype html>")  # nothing of the template's own comments shows
    api = client.get("/api/fails/")
    assert api.status_code == 503 and api["Retry-After"] == "5"
    assert "Send the request again" in api.json()["error"] and api.json()["request_id"] == api["X-Request-ID"]
