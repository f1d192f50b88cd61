"""Live delivery to the widget: Server-Sent Events from an async view, fed by one watcher per web process.

Why SSE and not WebSocket: the widget only needs a stream from the server (its own lines go out as ordinary
POSTs that are acknowledged with the stored message), EventSource reconnects by itself with ``Last-Event-ID``
(no message lost or shown twice after a network drop), it passes every proxy as plain HTTP, and it needs no
new server or dependency: Django's async views under uvicorn hold thousands of idle streams.

Why a watcher reading the database rather than an in-memory channel layer: a line reaches the database from
any process (the worker's bot answer, an agent on another web process, the API), so every web process looks
at the conversation event log (``ConversationEvent``, the same cursor the agent UI follows) with ONE query per
tick for all its streams, and wakes only the streams whose conversations changed. That works the same on the
embedded default (SQLite, one web process) and at scale (PostgreSQL, many web processes behind a balancer),
with no Redis needed for delivery. Typing signals come from the cache (see ``inbox.typing``).

Under WSGI (the test server, or a site that serves Django without ASGI) a stream cannot be held open, so
``config`` tells the widget ``live: false`` and it polls ``messages/`` as before; it also falls back to
polling whenever the stream fails.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import time

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.db import close_old_connections, connection
from django.http import HttpRequest, JsonResponse, StreamingHttpResponse

from resonanz.chat.access import Refused, Visitor, own_origin, request_origin, with_cors
from resonanz.chat.transcript import conversations, update
from resonanz.connectors.models import Channel
from resonanz.inbox import typing
from resonanz.inbox.models import ConversationEvent

WINDOW = 50  # event ids looked at again (see Watcher.changes)
log = logging.getLogger("resonanz.chat")
TICK = 0.05  # seconds between looks at the event log while any stream is open
HEARTBEAT = 15  # seconds: a comment line keeps proxies from closing an idle stream
LIFETIME = 300  # seconds: then the stream ends and EventSource reconnects (spreads load, frees stale ones)
TYPING_EVERY = 1.0  # seconds between looks at the agent's typing signal per stream


def in_pool(function):
    """Database work of the streams in the shared thread pool (a few threads, a few database connections),
    not in one thread per request as Django's default would: 500 open streams must not mean 500 connections.
    On PostgreSQL each call gives its connection back to the pool when it is done: the pool's threads live on,
    and a connection kept per idle thread would be lost to the web requests. On SQLite there is no pool and
    nothing to lose, so each thread keeps its connection (opening one costs about as much CPU as a stream's
    whole update; the watcher alone would open twenty a second)."""

    def work(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        finally:
            if connection.vendor != "sqlite":
                close_old_connections()
            elif connection.errors_occurred and not connection.is_usable():
                connection.close()

    return sync_to_async(work, thread_sensitive=False)


def can_stream(request: HttpRequest) -> bool:
    return isinstance(request, ASGIRequest)


class Watcher:
    """One per process: follows the event log of chat conversations and wakes the streams that wait on them."""

    def __init__(self) -> None:
        self.waiting: dict[int, set[asyncio.Event]] = {}  # contact id -> streams' events
        self.cursor: int | None = None
        self.seen: set[int] = set()
        self.task: asyncio.Task | None = None

    def add(self, contact_id: int, event: asyncio.Event) -> None:
        self.waiting.setdefault(contact_id, set()).add(event)
        if self.task is None or self.task.done():
            # a fresh context: the watcher outlives the stream that started it
            self.task = asyncio.get_running_loop().create_task(self.run(), context=contextvars.Context())

    def remove(self, contact_id: int, event: asyncio.Event) -> None:
        events = self.waiting.get(contact_id)
        if events is not None:
            events.discard(event)
            if not events:
                del self.waiting[contact_id]

    async def run(self) -> None:
        while self.waiting:
            try:
                changed = await in_pool(self.changes)()
            except Exception:  # the database away for a moment: streams keep waiting, the next tick retries
                log.warning("chat live updates: could not read the event log", exc_info=True)
                changed = set()
            for contact_id in changed:
                for event in self.waiting.get(contact_id, ()):
                    event.set()
            await asyncio.sleep(TICK)
        self.task = None

    def changes(self) -> set[int]:
        """Contacts whose chat conversations have new events. The last WINDOW ids are looked at again, because
        on PostgreSQL a transaction that took a lower id may commit after a higher one became visible."""
        newest = ConversationEvent.objects.order_by("-id").values_list("pk", flat=True).first() or 0
        if self.cursor is None:
            self.cursor = newest
            return set()
        rows = (ConversationEvent.objects.filter(pk__gt=self.cursor - WINDOW, pk__lte=newest,
                                                 conversation__channel__kind="chat")
                .values_list("pk", "conversation__contact_id"))
        changed = {contact for pk, contact in rows if pk not in self.seen}
        self.seen = {pk for pk, _ in rows if pk > newest - WINDOW}
        self.cursor = newest
        return changed


watchers: dict[int, Watcher] = {}  # one per event loop (uvicorn runs one loop per process)


def watcher() -> Watcher:
    loop = id(asyncio.get_running_loop())
    if loop not in watchers:
        watchers[loop] = Watcher()
    return watchers[loop]


def _open(slug: str, origin: str, own: str, token: str) -> tuple[Channel, Visitor]:
    channel = Channel.objects.filter(slug=slug, kind="chat").first()
    if channel is None or not channel.enabled:
        raise Refused(404, "no such chat")
    if not (origin == own or channel.driver.origin_allowed(origin)):
        raise Refused(403, "this site may not embed the chat")
    return channel, Visitor.from_token(token, channel)


def _contact(channel: Channel, visitor: Visitor) -> int | None:
    return conversations(channel, visitor).values_list("contact_id", flat=True).first()


def _update(channel: Channel, visitor: Visitor, after: int, sent: set[int]) -> dict:
    shown, now, next_after = update(channel, visitor, after)
    fresh = [m for m in shown if m["id"] not in sent]  # lines behind a held-back cursor went out already
    sent.update(m["id"] for m in fresh)
    return {"messages": fresh, "state": now, "open": channel.driver.is_open(), "cursor": next_after}


def frame(kind: str, data: dict, event_id: int | None = None) -> bytes:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {kind}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


async def stream(request: HttpRequest, slug: str):
    """``GET /chat/<slug>/stream/?token=…&after=<id>``: the visitor's new lines and state as they happen
    (EventSource sends no headers, so the signed token comes in the address)."""
    origin = request_origin(request)
    try:
        if request.method != "GET":
            raise Refused(405, "method not allowed")
        channel, visitor = await in_pool(_open)(slug, origin, own_origin(request),
                                                      request.GET.get("token", ""))
        try:
            after = int(request.headers.get("Last-Event-ID") or request.GET.get("after") or 0)
        except ValueError:
            raise Refused(400, "after: a message id") from None
    except Refused as exc:
        response = JsonResponse({"error": exc.error}, status=exc.status)
        return with_cors(response, origin) if exc.status != 403 else response
    if not can_stream(request):
        return with_cors(JsonResponse({"error": "live updates need the ASGI server; poll messages/"},
                                      status=501), origin)
    response = StreamingHttpResponse(events(channel, visitor, max(0, after)), content_type="text/event-stream")
    response["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return with_cors(response, origin)


async def events(channel: Channel, visitor: Visitor, after: int):
    hub = watcher()
    wake = asyncio.Event()
    contact_id = await in_pool(_contact)(channel, visitor)
    if contact_id is not None:
        hub.add(contact_id, wake)
    started = last_beat = time.monotonic()
    shown_typing = None
    try:
        sent: set[int] = set()
        update = await in_pool(_update)(channel, visitor, after, sent)
        yield b"retry: 2000\n\n"
        after = update["cursor"]
        yield frame("update", update, after)
        shown_typing = update["state"].get("typing", "")
        conversation_id = update["state"].get("conversation")
        while time.monotonic() - started < LIFETIME:
            try:
                await asyncio.wait_for(wake.wait(), TYPING_EVERY if contact_id is not None else 1.0)
            except TimeoutError:
                pass
            if contact_id is None:  # no line yet: look for the conversation the first line makes
                contact_id = await in_pool(_contact)(channel, visitor)
                if contact_id is None:
                    continue
                hub.add(contact_id, wake)
                wake.set()
            if wake.is_set():
                wake.clear()
                update = await in_pool(_update)(channel, visitor, after, sent)
                after = update["cursor"]
                if len(sent) > 1000:  # only ids above the cursor can come again
                    sent = {i for i in sent if i > after}
                shown_typing = update["state"].get("typing", "")
                conversation_id = update["state"].get("conversation")
                yield frame("update", update, after)
            elif conversation_id:
                person = typing.typing(conversation_id, "agent")
                now_typing = (person["name"] or "…") if person else ""
                if now_typing != shown_typing:
                    shown_typing = now_typing
                    yield frame("typing", {"typing": now_typing})
            if time.monotonic() - last_beat > HEARTBEAT:
                last_beat = time.monotonic()
                yield b": keep-alive\n\n"
    finally:
        if contact_id is not None:
            hub.remove(contact_id, wake)
