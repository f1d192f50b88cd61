"""Pooled request threads under ASGI (core/requestthreads.py): a request's synchronous code runs in a thread that
outlives it, so the next request finds its database connection open; concurrent requests still get a thread each."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
from django.db import connection
from django.http import JsonResponse
from django.urls import path

from resonanz.core.requestthreads import ReusedThreadsASGIHandler, close_idle_connections

_barrier: threading.Barrier | None = None


def where(request):
    """Which thread served this, and which database connection it used."""
    connection.ensure_connection()
    if request.GET.get("meet") and _barrier is not None:
        _barrier.wait(timeout=20)  # both requests must be inside a view at the same time
    return JsonResponse({"thread": threading.get_ident(), "connection": id(connection.connection)})


urlpatterns = [path("where/", where)]


async def _get(app, url: str) -> dict:
    sent: list[dict] = []
    body_given = False
    never = asyncio.Event()

    async def receive():
        nonlocal body_given
        if not body_given:
            body_given = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await never.wait()  # the client stays connected

    async def send(message):
        sent.append(message)

    route, _, query = url.partition("?")
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": route, "raw_path": route.encode(), "query_string": query.encode(), "root_path": "",
             "headers": [(b"host", b"testserver")], "client": ("127.0.0.1", 40000), "server": ("testserver", 80)}
    await app(scope, receive, send)
    assert sent[0]["status"] == 200, sent
    return json.loads(b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"))


@pytest.fixture
def app(settings):
    settings.ROOT_URLCONF = __name__
    yield ReusedThreadsASGIHandler()
    close_idle_connections()  # the test database can be dropped only without open connections


@pytest.mark.django_db(transaction=True)
def test_the_next_request_runs_in_the_same_thread_with_its_connection_still_open(app):
    first = asyncio.run(_get(app, "/where/"))
    second = asyncio.run(_get(app, "/where/"))
    assert second["thread"] == first["thread"]
    if connection.settings_dict["CONN_MAX_AGE"]:  # PostgreSQL keeps connections for a minute
        assert second["connection"] == first["connection"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_each_get_a_thread_of_their_own(app):
    global _barrier
    _barrier = threading.Barrier(2)

    async def both():
        return await asyncio.gather(_get(app, "/where/?meet=1"), _get(app, "/where/?meet=1"))

    try:
        a, b = asyncio.run(both())
    finally:
        _barrier = None
    assert a["thread"] != b["thread"]  # one thread for both would have waited at the barrier forever
