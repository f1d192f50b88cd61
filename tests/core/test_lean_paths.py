"""Platforms' webhooks (/hooks/) skip the browser's middleware but keep the request id, the security headers,
the 503 for an unavailable database and Django's answer for paths that name no webhook."""

from __future__ import annotations

import json
import time

import pytest
from django.db import OperationalError
from django.http import JsonResponse
from django.test import Client

from resonanz.connectors import views as push_views
from resonanz.connectors.actions import create_channel
from resonanz.connectors.drivers.webhook import sign
from resonanz.inbox.models import Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def hook():
    return create_channel(kind="webhook", name="Lean hook", credentials={"secret": "k"},
                          settings={"mapping": {"external_id": "id", "sender": "from", "text": "text"}})


def signed(client, channel, body: bytes):
    stamp = str(int(time.time()))
    return client.post(f"/hooks/{channel.slug}/", data=body, content_type="application/json",
                       HTTP_X_RESONANZ_TIMESTAMP=stamp, HTTP_X_RESONANZ_SIGNATURE=sign("k", stamp, body),
                       HTTP_ACCEPT_LANGUAGE="de", HTTP_X_REQUEST_ID="platform-req-0001")


def test_a_webhook_skips_sessions_locale_and_page_headers_but_keeps_its_id(hook):
    client = Client()
    response = signed(client, hook, json.dumps({"id": "1", "from": "kim@example.com", "text": "Hallo"}).encode())
    assert response.status_code == 201 and Message.objects.count() == 1
    assert response["X-Request-ID"] == "platform-req-0001"
    assert response["X-Content-Type-Options"] == "nosniff"  # SecurityMiddleware still runs
    assert "Content-Security-Policy" not in response and "Set-Cookie" not in response
    assert "Accept-Language" not in response.get("Vary", "") and "Cookie" not in response.get("Vary", "")
    page = client.get("/accounts/login/")  # every other path keeps the whole stack
    assert "Content-Security-Policy" in page and "Cookie" in page["Vary"]


def test_paths_that_name_no_webhook_get_the_usual_answers():
    assert Client().get("/hooks/").status_code == 404
    assert Client().post("/hooks/no-such-channel/", data=b"{}", content_type="application/json").status_code == 404


def test_an_unavailable_database_answers_503_so_the_platform_retries(hook, monkeypatch):
    def busy(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(push_views.fastsql, "get", busy)
    response = signed(Client(), hook, b'{"id": "2", "from": "kim@example.com", "text": "x"}')
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert not Message.objects.exists()


def test_the_chat_widgets_endpoints_are_lean_too_but_not_its_live_stream():
    from resonanz.chat import live

    channel = create_channel(kind="chat", name="Lean chat", settings={"allowed_origins": ["https://shop.example"]})
    response = Client().get(f"/chat/{channel.slug}/config/", HTTP_ORIGIN="https://shop.example",
                            HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 200 and response["Access-Control-Allow-Origin"] == "https://shop.example"
    assert "Content-Security-Policy" not in response and "Set-Cookie" not in response
    assert "Accept-Language" not in response.get("Vary", "")
    seen = []
    original = live.stream

    async def stream(request, slug):  # an async view must not be called from the lean (synchronous) path
        seen.append(slug)
        return JsonResponse({"streaming": True})

    from django.urls import get_resolver
    pattern = next(p for p in get_resolver().url_patterns if str(p.pattern) == "chat/")
    entry = next(p for p in pattern.url_patterns if p.name == "stream")
    entry.callback = stream
    try:
        answer = Client().get(f"/chat/{channel.slug}/stream/?token=x", HTTP_ORIGIN="https://shop.example")
    finally:
        entry.callback = original
    assert answer.json() == {"streaming": True} and seen == [channel.slug]
    assert "Content-Security-Policy" in answer  # the whole stack answered
