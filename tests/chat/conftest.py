"""A chat channel embedded by one allowed site, and a client that speaks to the widget's endpoints like it."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
from django.core.cache import cache
from django.test import Client

from resonanz.connectors.actions import create_channel, update_channel

SITE = "https://shop.example.com"
SECRET = "host-site-secret-123"


@pytest.fixture(autouse=True)
def fresh_rate_limits(monkeypatch):
    """Limits count in fixed windows in the database (rolled back after each test); the clock stands still
    10 s into a fresh hour, so a burst never straddles the end of a window."""
    from resonanz.core import ratelimit

    moment = (int(time.time()) // 3600 + 1) * 3600 + 10
    monkeypatch.setattr(ratelimit, "_now", lambda: moment)
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def chat_channel(db):
    channel = create_channel(kind="chat", name="Website chat", settings={"allowed_origins": [SITE]})
    return update_channel(channel, credentials={"secret": SECRET})


def sign(user_id: str, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


class Widget:
    """What the widget's script does, over Django's test client, from a page on ``origin``."""

    def __init__(self, slug: str, origin: str = SITE) -> None:
        self.client, self.slug, self.origin, self.token = Client(), slug, origin, ""

    def url(self, path: str) -> str:
        return f"/chat/{self.slug}/{path}"

    def headers(self) -> dict:
        headers = {"HTTP_ORIGIN": self.origin}
        if self.token:
            headers["HTTP_X_RESONANZ_CHAT"] = self.token
        return headers

    def get(self, path: str):
        return self.client.get(self.url(path), **self.headers())

    def post(self, path: str, body=None, raw: bytes | None = None):
        data = raw if raw is not None else json.dumps(body or {})
        return self.client.post(self.url(path), data=data, content_type="application/json", **self.headers())

    def start(self, **body):
        response = self.post("session/", body)
        assert response.status_code == 200, response.content
        self.token = response.json()["token"]
        return response.json()

    def say(self, text: str, client_id: str):
        return self.post("messages/", {"client_id": client_id, "text": text, "page": f"{SITE}/pricing"})


@pytest.fixture
def widget(chat_channel):
    return Widget(chat_channel.slug)
