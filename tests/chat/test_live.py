"""The live stream under a real ASGI server (uvicorn in its own process, on the test database): a line written
by another process (an agent's reply here) reaches the visitor's open stream at once; a reconnect with
Last-Event-ID shows nothing twice; a forged token and another site are refused; the agent's typing arrives."""

from __future__ import annotations

import json
import time

import pytest
import requests

from resonanz.connectors.actions import create_channel, update_channel
from resonanz.inbox.actions import send_reply
from resonanz.inbox.delivery import deliver_message
from resonanz.inbox.models import Conversation
from tests.chat.conftest import SITE
from tests.connectors.email.conftest import free_port
from tests.faults.conftest import WebServer, process_env  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def web(process_env):  # noqa: F811
    server = WebServer(process_env, free_port())
    server.start()
    yield f"http://127.0.0.1:{server.port}"
    server.kill()


def deliver_queued_replies(message):
    """What the worker does after commit (the fault tests' environment leaves it to a worker)."""
    return deliver_message(message.pk)


def read_events(lines, until, timeout=10.0):
    """(event, data) pairs from an SSE response's lines (one iterator for the whole response: a second
    ``iter_lines`` would close the connection) until ``until(events)`` is true."""
    events, kind, started = [], "message", time.monotonic()
    for raw in lines:
        if raw.startswith("event: "):
            kind = raw[7:]
        elif raw.startswith("data: "):
            events.append((kind, json.loads(raw[6:])))
            if until(events):
                return events
        if time.monotonic() - started > timeout:
            break
    raise AssertionError(f"stream ended without the expected event: {events}")


def test_a_reply_from_another_process_reaches_the_open_stream_at_once(web, agent_user):
    channel = create_channel(kind="chat", name="Website chat", settings={"allowed_origins": [SITE]})
    headers = {"Origin": SITE}
    assert requests.get(f"{web}/chat/{channel.slug}/config/", headers=headers, timeout=20).json()["live"] is True
    token = requests.post(f"{web}/chat/{channel.slug}/session/", json={}, headers=headers, timeout=20).json()["token"]
    said = requests.post(f"{web}/chat/{channel.slug}/messages/", json={"client_id": "c1", "text": "Hallo?"},
                         headers={**headers, "X-Resonanz-Chat": token}, timeout=20)
    assert said.status_code == 201
    first_id = said.json()["message"]["id"]
    stream = requests.get(f"{web}/chat/{channel.slug}/stream/", params={"token": token}, headers=headers,
                          stream=True, timeout=20)
    assert stream.headers["Content-Type"].startswith("text/event-stream")
    assert stream.headers["Access-Control-Allow-Origin"] == SITE
    lines = stream.iter_lines(decode_unicode=True)
    events = read_events(lines, lambda e: e and e[0][0] == "update")
    assert [m["text"] for m in events[0][1]["messages"]] == ["Hallo?"]
    sent = time.monotonic()
    deliver_queued_replies(send_reply(Conversation.objects.get(), agent_user, "Guten Tag, hier ist Berta."))
    events = read_events(lines, lambda e: any(m["from"] == "agent" for k, d in e if k == "update"
                                               for m in d["messages"]))
    assert time.monotonic() - sent < 2.0
    replies = [m for k, d in events if k == "update" for m in d["messages"]]
    assert [m["text"] for m in replies] == ["Guten Tag, hier ist Berta."]  # the visitor's line is not repeated
    stream.close()
    again = requests.get(f"{web}/chat/{channel.slug}/stream/", params={"token": token},
                         headers={**headers, "Last-Event-ID": str(first_id)}, stream=True, timeout=20)
    assert [m["text"] for m in read_events(again.iter_lines(decode_unicode=True), bool)[0][1]["messages"]] == \
        ["Guten Tag, hier ist Berta."]
    again.close()


def test_forged_tokens_and_other_sites_cannot_open_a_stream(web):
    channel = create_channel(kind="chat", name="Website chat", settings={"allowed_origins": [SITE]})
    update_channel(channel, credentials={"secret": "s"})
    url = f"{web}/chat/{channel.slug}/stream/"
    token = requests.post(f"{web}/chat/{channel.slug}/session/", json={}, headers={"Origin": SITE},
                          timeout=20).json()["token"]
    assert requests.get(url, params={"token": token[:-2] + "xx"}, headers={"Origin": SITE}, timeout=20
                        ).status_code == 401
    refused = requests.get(url, params={"token": token}, headers={"Origin": "https://evil.example.net"},
                           timeout=20)
    assert refused.status_code == 403 and "Access-Control-Allow-Origin" not in refused.headers
