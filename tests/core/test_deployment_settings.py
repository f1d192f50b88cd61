"""Switches an operator sets in the environment (issue 16, "Browser and transport"): running behind TLS is one
setting, and the API's schema and docs can be made private. Settings are read once at start, so each case runs
in a fresh interpreter with the variable set, as a deployment would start."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"

PROBE_TLS = """
import django, json
django.setup()
from django.conf import settings
from django.http import HttpResponse
from django.middleware.security import SecurityMiddleware
from django.test import RequestFactory

assert "django.middleware.security.SecurityMiddleware" in settings.MIDDLEWARE
middleware = SecurityMiddleware(lambda request: HttpResponse("ok"))
factory = RequestFactory()
behind_proxy = middleware(factory.get("/inbox/", HTTP_X_FORWARDED_PROTO="https"))
plain = middleware(factory.get("/inbox/"))
health = middleware(factory.get("/healthz"))
print(json.dumps({
    "session_secure": settings.SESSION_COOKIE_SECURE, "csrf_secure": settings.CSRF_COOKIE_SECURE,
    "proxy_header": list(settings.SECURE_PROXY_SSL_HEADER or []), "behind_proxy": settings.RESONANZ_BEHIND_PROXY,
    "hsts": behind_proxy.headers.get("Strict-Transport-Security", ""),
    "plain": [plain.status_code, plain.headers.get("Location", "")], "health": health.status_code,
    "session_age": settings.SESSION_COOKIE_AGE,
}))
"""

PROBE_DOCS = """
import django, json
django.setup()
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from drf_spectacular.views import SpectacularAPIView

request = RequestFactory().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
request.user = AnonymousUser()
response = SpectacularAPIView.as_view()(request)
print(json.dumps({"status": response.status_code}))
"""


def run(probe: str, tmp_path, **env) -> dict:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("RESONANZ_")}
    environment.update(DJANGO_SETTINGS_MODULE="resonanz.settings", PYTHONPATH=str(SRC),
                       RESONANZ_VAR_DIR=str(tmp_path), ALLOWED_HOSTS="testserver", **env)
    done = subprocess.run([sys.executable, "-c", probe], env=environment, capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_one_setting_switches_on_everything_tls_needs(tmp_path):
    off = run(PROBE_TLS, tmp_path)
    assert (off["session_secure"], off["csrf_secure"], off["hsts"], off["plain"][0]) == (False, False, "", 200)
    on = run(PROBE_TLS, tmp_path, RESONANZ_HTTPS="1", RESONANZ_SESSION_HOURS="8")
    assert on["session_secure"] and on["csrf_secure"] and on["behind_proxy"]
    assert on["proxy_header"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert on["hsts"].startswith("max-age=31536000")
    assert on["plain"] == [301, "https://testserver/inbox/"]  # plain http is sent to https
    assert on["health"] == 200  # the load balancer's health check may stay on http
    assert on["session_age"] == 8 * 3600


def test_the_schema_is_public_by_default_and_private_by_one_setting(tmp_path):
    assert run(PROBE_DOCS, tmp_path)["status"] == 200
    assert run(PROBE_DOCS, tmp_path, RESONANZ_API_DOCS_PUBLIC="0")["status"] in (401, 403)
