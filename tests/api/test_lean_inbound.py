"""The lean routes (core/leanroute.py, api/inbound.py): the ASGI application serves a successful
``POST /api/channels/<id>/inbound/`` and ``POST /hooks/<slug>/`` without Django's handler and DRF, and hands every
other request, body and all, to Django, which answers exactly as before. Each test posts through the application
``resonanz.asgi`` builds (in this process, as uvicorn would call it) and counts what reached Django."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.views import APIView

from resonanz.api.inbound import route as api_inbound
from resonanz.connectors.actions import create_channel, update_channel
from resonanz.connectors.drivers.webhook import sign
from resonanz.core import backpressure, pipeline, tokens
from resonanz.core.bodylimit import BodyLimitASGI
from resonanz.core.leanroute import LeanRoutes, hooks
from resonanz.core.models import ApiToken
from resonanz.core.requestthreads import ReusedThreadsASGIHandler, close_idle_connections
from resonanz.inbox.models import Message

pytestmark = pytest.mark.django_db(transaction=True)  # the requests run in other threads, on their connections


class CountingDjango:
    """Django's ASGI handler, counting the requests that reach it."""

    def __init__(self) -> None:
        self.django = ReusedThreadsASGIHandler()
        self.calls = 0

    async def __call__(self, scope, receive, send):
        self.calls += 1
        await self.django(scope, receive, send)


class Answer:
    def __init__(self, status: int, headers: dict, body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)


def call(app, method: str, path: str, body: bytes = b"", headers: dict | None = None,
         chunks: list[bytes] | None = None) -> Answer:
    """One request through an ASGI application; ``chunks``: the body in pieces without a Content-Length."""
    pieces = chunks if chunks is not None else [body]
    raw = [(b"host", b"testserver")]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    if chunks is None:
        raw.append((b"content-length", str(len(body)).encode()))
    sent: list[dict] = []

    async def run():
        queue = [{"type": "http.request", "body": p, "more_body": i < len(pieces) - 1} for i, p in enumerate(pieces)]
        never = asyncio.Event()

        async def receive():
            if queue:
                return queue.pop(0)
            await never.wait()

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
                 "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
                 "headers": raw, "client": ("127.0.0.1", 40000), "server": ("testserver", 80)}
        await app(scope, receive, send)

    asyncio.run(run())
    start = next(m for m in sent if m["type"] == "http.response.start")
    return Answer(start["status"], {k.decode().lower(): v.decode() for k, v in start["headers"]},
                  b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"))


@pytest.fixture
def django_app():
    app = CountingDjango()
    yield app
    close_idle_connections()  # the test database can be dropped only without open connections


@pytest.fixture
def app(django_app):
    """What resonanz.asgi serves: the body limit, the lean routes, Django."""
    return BodyLimitASGI(LeanRoutes(django_app, [api_inbound, hooks]))


@pytest.fixture
def key(agent_user):
    return Token.objects.get_or_create(user=agent_user)[0].key


@pytest.fixture(autouse=True)
def no_kick(monkeypatch):
    monkeypatch.setattr(pipeline, "kick", lambda: None)  # stored messages stay pending; nothing runs in a request


def post(app, channel_id, payload, key: str, **kwargs) -> Answer:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", "Authorization": f"Token {key}", **kwargs.pop("headers", {})}
    return call(app, "POST", f"/api/channels/{channel_id}/inbound/", body, headers, **kwargs)


def message(external_id="m-1", handle="kunde@example.com", text="Hallo, meine Bestellung fehlt.", **extra) -> dict:
    return {"external_id": external_id, "sender": {"handle": handle, "name": "Kim Kunde"}, "text": text, **extra}


def test_a_message_is_stored_without_django_and_a_redelivery_changes_nothing(app, django_app, api_channel, key,
                                                                            monkeypatch):
    def no_drf(*args, **kwargs):
        raise AssertionError("the success path must not go through DRF")

    monkeypatch.setattr(APIView, "dispatch", no_drf)
    first = post(app, api_channel.pk, message(), key)
    assert first.status == 201, first.body
    ids = first.json()
    assert set(ids) == {"message_id", "conversation_id", "contact_id"}
    assert first.headers["content-type"] == "application/json" and first.headers["x-request-id"]
    assert first.headers["x-content-type-options"] == "nosniff"
    stored = Message.objects.get(pk=ids["message_id"])
    assert (stored.external_id, stored.conversation_id, stored.text) == ("m-1", ids["conversation_id"],
                                                                         "Hallo, meine Bestellung fehlt.")
    again = post(app, api_channel.pk, message(text="anders"), key)
    assert again.status == 200 and again.json() == ids
    assert Message.objects.filter(channel=api_channel).count() == 1
    # the same customer's next message joins the open conversation
    follow = post(app, api_channel.pk, message("m-2", text="Und noch etwas."), key)
    assert follow.status == 201 and follow.json()["conversation_id"] == ids["conversation_id"]
    assert django_app.calls == 0


def test_the_answer_is_the_one_drf_gives(app, django_app, api_channel, key):
    lean = post(app, api_channel.pk, message("same-1"), key)
    whole = post(django_app, api_channel.pk, message("same-2", handle="other@example.com"), key)
    assert (lean.status, whole.status) == (201, 201) and django_app.calls == 1
    assert sorted(lean.json()) == sorted(whole.json())
    assert json.dumps(lean.json(), separators=(",", ":")).encode() == lean.body  # DRF's compact JSON


@pytest.mark.parametrize("case", ["unknown token", "read-only token", "malformed JSON", "too deep",
                                  "missing fields", "no text", "unknown channel", "form channel",
                                  "disabled channel"])
def test_refusals_are_answered_by_the_whole_stack_exactly_as_before(app, django_app, api_channel, agent_user, key,
                                                                    case):
    channel_id, payload, token = api_channel.pk, message(), key
    if case == "unknown token":
        token = "rz_" + "x" * 43
    elif case == "read-only token":
        token = tokens.create_token(agent_user, name="read", scope=ApiToken.Scope.READ)[1]
    elif case == "malformed JSON":
        payload = b'{"external_id": "m-1", '
    elif case == "too deep":
        payload = b'{"external_id": ' + b"[" * 200 + b"]" * 200 + b"}"
    elif case == "missing fields":
        payload = {"sender": {}}
    elif case == "no text":
        payload = message(text="   ")
    elif case == "unknown channel":
        channel_id = 999999
    elif case == "form channel":
        channel_id = create_channel(kind="web_form", name="Formular").pk
    elif case == "disabled channel":
        update_channel(api_channel, enabled=False)
    answer = post(app, channel_id, payload, token)
    reference = post(django_app, channel_id, payload, token)
    assert django_app.calls == 2  # the lean route handed it over, body and all
    assert answer.status == reference.status and answer.status in (400, 401, 403, 404)
    assert answer.json() == reference.json()
    assert not Message.objects.exists()


def test_back_pressure_refuses_with_503_and_stores_nothing(app, django_app, api_channel, key, settings, monkeypatch):
    monkeypatch.setattr(backpressure, "_over_limit", lambda count: True)
    settings.RESONANZ_BACKLOG_LIMIT_SIGNED = 1
    answer = post(app, api_channel.pk, message(), key)
    assert answer.status == 503 and answer.headers["retry-after"] and answer.json()["detail"]
    assert django_app.calls == 1 and not Message.objects.exists()
    backpressure._over.clear()


def test_oversized_bodies_are_413_with_or_without_a_length(app, django_app, api_channel, key, settings):
    settings.RESONANZ_MAX_REQUEST_BYTES = 2000
    big = json.dumps(message(text="x" * 5000)).encode()
    declared = post(app, api_channel.pk, big, key)
    chunked = post(app, api_channel.pk, b"", key, chunks=[big[:1500], big[1500:3000], big[3000:]])
    assert (declared.status, chunked.status) == (413, 413)
    assert not Message.objects.exists() and django_app.calls == 0
    small = json.dumps(message()).encode()
    assert post(app, api_channel.pk, b"", key, chunks=[small[:20], small[20:]]).status == 201


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_other_methods_are_405_in_json(app, django_app, api_channel, key, method):
    answer = call(app, method, f"/api/channels/{api_channel.pk}/inbound/", json.dumps(message()).encode(),
                  {"Content-Type": "application/json", "Authorization": f"Token {key}"})
    assert answer.status == 405 and "detail" in answer.json() and django_app.calls == 1


def test_the_database_connection_of_a_request_thread_is_kept(app, api_channel, key):
    for n in range(3):
        assert post(app, api_channel.pk, message(f"k-{n}"), key).status == 201
    assert Message.objects.count() == 3
    if connection.settings_dict["CONN_MAX_AGE"] is None or connection.settings_dict["CONN_MAX_AGE"] > 0:
        from resonanz.core.requestthreads import _pool

        assert _pool.idle()  # a thread (and its connection) waits for the next request


# ---- /hooks/<slug>/ ----------------------------------------------------------------------------------------------

@pytest.fixture
def hook(db):
    return create_channel(kind="webhook", name="Shop hook", credentials={"secret": "k"},
                          settings={"mapping": {"external_id": "id", "sender": "from", "text": "text"}})


def push(app, channel, payload: dict, secret: str = "k") -> Answer:
    body = json.dumps(payload).encode()
    stamp = str(int(time.time()))
    return call(app, "POST", f"/hooks/{channel.slug}/", body, {
        "Content-Type": "application/json", "X-Resonanz-Timestamp": stamp,
        "X-Resonanz-Signature": sign(secret, stamp, body)})


def test_a_signed_webhook_is_stored_without_django_once(app, django_app, hook):
    first = push(app, hook, {"id": "w-1", "from": "kim@example.com", "text": "Hallo"})
    assert first.status == 201, first.body
    assert first.headers["x-request-id"] and first.headers["x-content-type-options"] == "nosniff"
    assert push(app, hook, {"id": "w-1", "from": "kim@example.com", "text": "Hallo"}).status in (200, 201)
    assert Message.objects.filter(channel=hook, external_id="w-1").count() == 1
    assert django_app.calls == 0


def test_a_wrongly_signed_webhook_is_401_and_stores_nothing(app, hook):
    answer = push(app, hook, {"id": "w-2", "from": "kim@example.com", "text": "Hallo"}, secret="wrong")
    assert answer.status == 401 and not Message.objects.exists()


def test_an_unknown_webhook_is_404_and_back_pressure_503(app, hook, settings, monkeypatch):
    missing = call(app, "POST", "/hooks/no-such-hook/", b"{}", {"Content-Type": "application/json"})
    assert missing.status == 404 and missing.json() == {"error": "no such webhook"}
    monkeypatch.setattr(backpressure, "_over_limit", lambda count: True)
    settings.RESONANZ_BACKLOG_LIMIT_SIGNED = 1
    busy = push(app, hook, {"id": "w-3", "from": "kim@example.com", "text": "Hallo"})
    assert busy.status == 503 and busy.headers["retry-after"] and not Message.objects.exists()
    backpressure._over.clear()
