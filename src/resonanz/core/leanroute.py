"""Lean routes: the two machine-to-machine hot paths served in front of Django's ASGI handler.

Storing one pushed message costs ~1 ms of CPU; carrying it through Django's ASGI handler (the body spooled to a
temporary file, a thread hop per request, the signals, 15 middlewares) and, for the API, DRF (content negotiation,
authentication classes, a serializer that deep-copies its fields) cost 4–8 ms more (docs/benchmarks.md,
"Ingestion" and "Webhook intake"). A ``LeanRoutes`` application sits between the body limit
(``core/bodylimit.py``) and Django and serves only the ``POST`` routes it is given; everything else goes to
Django untouched.

A route's handler is ordinary synchronous Django code: it gets a Django request (``ASGIRequest`` over the
already-read body), runs in a pooled request thread (``core/requestthreads.py``, so its database connection stays
open), behind the middlewares that every answer needs (request id, declared-size limit, security headers), between
Django's ``request_started``/``request_finished`` signals (connection health checks as for any request). It
answers only the cases it is sure of; for anything else (a token it does not know, a body it cannot parse, a
channel that is missing or refuses, the back-pressure limit reached...) it raises ``FallThrough`` before it
changed anything, and the same request, body replayed, goes through the whole Django stack, which answers it as
before (error bodies, rate limits, translations, logging). The fast path therefore needs no error handling of its
own beyond "not mine", and cannot answer differently from Django.
"""

from __future__ import annotations

import asyncio
import contextvars
import io
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.core import signals
from django.core.handlers.asgi import ASGIRequest
from django.core.handlers.exception import response_for_exception
from django.http import HttpRequest, HttpResponse
from django.middleware.security import SecurityMiddleware
from django.urls import set_urlconf

from resonanz.core.middleware import LeanPathMiddleware, RequestSizeLimitMiddleware
from resonanz.core.requestid import RequestIdMiddleware
from resonanz.core.requestthreads import _pool


class FallThrough(Exception):  # noqa: N818 (a signal, not an error)
    """Raised by a lean handler before it changed anything: the whole Django stack answers this request."""


Handler = Callable[..., HttpResponse]


@dataclass(frozen=True)
class Route:
    """``POST`` requests whose path matches ``pattern`` (fully) go to ``handler(request, **groups)`` if
    ``wants(scope)`` says so (a cheap look at the headers, in the event loop, before any thread is used)."""

    pattern: re.Pattern
    handler: Handler
    wants: Callable[[dict], bool] = lambda scope: True


def header(scope: dict, name: bytes) -> bytes:
    for key, value in scope.get("headers") or ():
        if key == name:
            return value
    return b""


def _chain(handler: Handler) -> Callable[[HttpRequest], HttpResponse]:
    """The middlewares a /hooks/ request passes today (settings.MIDDLEWARE up to LeanPathMiddleware), in order."""

    def view(request: HttpRequest) -> HttpResponse:
        return handler(request, **request.lean_kwargs)

    return RequestIdMiddleware(RequestSizeLimitMiddleware(SecurityMiddleware(view)))


def _fall_through(request: HttpRequest) -> HttpResponse:
    raise FallThrough


def django_view(request: HttpRequest, **_kwargs) -> HttpResponse:
    """A route handler that calls the URLconf's view as ``LeanPathMiddleware`` does (for ``/hooks/<slug>/``: the
    push view with its signature check, back-pressure and refused-only rate limit, all unchanged)."""
    return _LEAN_VIEW(request)


_LEAN_VIEW = None  # LeanPathMiddleware over _fall_through, made on first use (it reads the settings)


#: platforms' webhooks: the URLconf's push view behind exactly the middlewares /hooks/ passes in Django's stack
hooks = Route(re.compile(r"/hooks/(?P<slug>[-a-zA-Z0-9_]+)/"), django_view)


class LeanRoutes:
    """ASGI application: the given routes served lean, all other requests by ``app`` (Django)."""

    def __init__(self, app, routes: list[Route]) -> None:
        global _LEAN_VIEW
        self.app = app
        self.routes = [(route.pattern, _chain(route.handler), route.wants) for route in routes]
        if _LEAN_VIEW is None:
            _LEAN_VIEW = LeanPathMiddleware(_fall_through)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        for entry in self.routes:
            match = entry[0].fullmatch(scope["path"])
            if match is not None and entry[2](scope):
                chain = entry[1]
                break
        else:
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        if body is None:
            return  # the client went away, or the body limit cut it off (core/bodylimit.py answers 413)
        executor = _pool.take()
        try:
            context = contextvars.copy_context()
            response = await asyncio.get_running_loop().run_in_executor(
                executor, context.run, _serve, chain, scope, body, match.groupdict())
        finally:
            _pool.give(executor)
        if response is None:
            await self.app(scope, _replay(body, receive), send)
            return
        await _send(send, response)


def _serve(chain, scope: dict, body: bytes, kwargs: dict) -> HttpResponse | None:
    """In a request thread: the request through the lean chain; None when it falls through to Django."""
    set_urlconf(None)
    signals.request_started.send(sender=LeanRoutes, scope=scope)
    request = ASGIRequest(scope, io.BytesIO(body))
    request.lean_kwargs = kwargs
    try:
        response = chain(request)
    except FallThrough:
        signals.request_finished.send(sender=LeanRoutes)
        return None
    except Exception as exc:  # what Django's handler does with an exception no middleware answered: 500, logged
        response = response_for_exception(request, exc)
    response.content  # noqa: B018 (rendered here, in the thread; a streaming answer is never lean)
    response.close()  # sends request_finished: connections too old or broken are closed, as after any request
    return response


async def _read_body(receive) -> bytes | None:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive):
    given = False

    async def replayed():
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # then whatever the client does (a disconnect)

    return replayed


async def _send(send, response: HttpResponse) -> None:
    content = response.content
    headers = [(name.encode("latin-1"), str(value).encode("latin-1")) for name, value in response.items()]
    if not response.has_header("Content-Length"):
        headers.append((b"content-length", str(len(content)).encode()))
    for cookie in response.cookies.values():
        headers.append((b"set-cookie", cookie.output(header="").strip().encode("latin-1")))
    await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": content})
