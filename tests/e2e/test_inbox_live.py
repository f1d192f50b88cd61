"""End to end in headless chromium: log in, watch messages arrive live, answer, find the reply via the API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token

from resonanz.connectors.actions import create_channel
from resonanz.inbox.actions import invite_agent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def api(base: str, token: str, path: str, payload: dict | None = None) -> dict:
    request = urllib.request.Request(
        base + path, data=json.dumps(payload).encode() if payload is not None else None,
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        method="POST" if payload is not None else "GET",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    return f"postgres://{s['USER'] or ''}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def test_agent_sees_new_messages_live_and_answers(live_server, page):
    user = invite_agent("live@example.com", display_name="Live Agent", role="admin", password="pw-live-123")
    token = Token.objects.create(user=user).key
    channel = create_channel(kind="api", name="Live API")
    base = live_server.url

    page.goto(base + "/inbox/")
    page.fill("input[name=username]", "live@example.com")
    page.fill("input[name=password]", "pw-live-123")
    page.click("button[type=submit]")
    page.wait_for_selector("#conversation-list")
    assert "Nothing to do" in page.inner_text("#conversation-list")

    # 1. A message posted through the API appears in the open inbox without reload.
    ids = api(base, token, f"/api/channels/{channel.pk}/inbound/", {
        "external_id": "live-1", "sender": {"handle": "kim@example.com", "name": "Kim"},
        "subject": "Paket kam beschädigt an", "text": "Der Karton war nass und der Inhalt kaputt."})
    page.wait_for_selector("text=Paket kam beschädigt an", timeout=30000)

    # 2. A message written by another process (as the worker does) appears as well.
    if connection.vendor == "sqlite" and ":memory:" in str(connection.settings_dict["NAME"]):
        pytest.fail("the e2e test needs a file database so another process can write to it")
    code = (
        "from resonanz.connectors.models import Channel\n"
        "from resonanz.connectors.drivers.base import InboundMessage\n"
        "from resonanz.inbox.actions import ingest\n"
        f"ingest(Channel.objects.get(pk={channel.pk}), InboundMessage(external_id='proc-1', "
        "sender_handle='lou@example.com', subject='Frage aus dem Worker', text='Hallo aus einem anderen Prozess'))\n"
    )
    env = {**os.environ, "DATABASE_URL": database_url(), "DJANGO_SETTINGS_MODULE": "resonanz.settings",
           "RESONANZ_TASKS_EAGER": "0", "CELERY_BROKER_URL": "memory://"}
    subprocess.run([sys.executable, "-m", "resonanz.cli", "shell", "-c", code], env=env, check=True, timeout=60)
    page.wait_for_selector("text=Frage aus dem Worker", timeout=30000)

    # 3. Keyboard: j selects the first row, Enter opens it.
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    page.wait_for_selector("#reply-text")
    assert "Frage aus dem Worker" in page.inner_text("h1")
    page.goto(base + f"/inbox/conversations/{ids['conversation_id']}/")

    # 4. A follow-up from the customer appears in the open conversation without reload.
    api(base, token, f"/api/channels/{channel.pk}/inbound/", {
        "external_id": "live-2", "sender": {"handle": "kim@example.com"}, "text": "Fotos habe ich auch."})
    page.wait_for_selector("text=Fotos habe ich auch.", timeout=30000)

    # 5. Answer with the keyboard and find the reply through the API.
    page.keyboard.press("r")
    page.keyboard.type("Das tut uns leid! Ersatz ist unterwegs.")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("text=Reply sent.")
    messages = api(base, token, f"/api/conversations/{ids['conversation_id']}/messages/")["results"]
    outbound = [m for m in messages if m["direction"] == "outbound"]
    assert [m["text"] for m in outbound] == ["Das tut uns leid! Ersatz ist unterwegs."]
    assert outbound[0]["author_user"] == user.pk


def test_inbox_is_usable_on_a_phone(live_server, browser):
    invite_agent("phone@example.com", display_name="Phone", role="agent", password="pw-phone-123")
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    page = context.new_page()
    page.goto(live_server.url + "/inbox/")
    page.fill("input[name=username]", "phone@example.com")
    page.fill("input[name=password]", "pw-phone-123")
    page.click("button[type=submit]")
    page.wait_for_selector("#conversation-list")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the inbox scrolls sideways on a phone ({width}px wide)"
    context.close()
