"""The request-size limit for bodies without a Content-Length (chunked or streamed).

Django's middleware runs too late for these: under ASGI, Django reads the whole body into a
temporary file before the first middleware sees the request, so a 300 MB chunked POST is
stored completely; under WSGI, Django reads nothing of a body without Content-Length, so a
chunked webhook silently loses its payload. These wrappers sit between the server and Django
(see asgi.py and wsgi.py): they count the bytes as they arrive, answer 413 as soon as the limit
is passed, and stop reading.
"""

from __future__ import annotations

import io
import json
import re

from django.conf import settings

from resonanz.core.requestid import incoming_or_new

# Where files are uploaded with a message (the desk's reply form, the API's reply, the public contact form):
# a larger limit there only.
UPLOAD_PATHS = re.compile(r"^/(?:(?:inbox|api)/conversations/\d+/reply|contact/[-a-zA-Z0-9_]+)/$")


def max_request_bytes(path: str = "") -> int:
    """RESONANZ_MAX_REQUEST_BYTES everywhere, RESONANZ_MAX_UPLOAD_BYTES where replies and forms carry files."""
    if path and UPLOAD_PATHS.match(path):
        return max(int(settings.RESONANZ_MAX_UPLOAD_BYTES), int(settings.RESONANZ_MAX_REQUEST_BYTES))
    return int(settings.RESONANZ_MAX_REQUEST_BYTES)


def too_large_payload(limit: int, size: int | None = None) -> dict:
    said = f"is {size} bytes" if size is not None else "is larger than that"
    return {"detail": f"Request body {said}; the limit is {limit} bytes (RESONANZ_MAX_REQUEST_BYTES).",
            "limit": limit}


class BodyLimitASGI:
    """ASGI wrapper: 413 once the received body passes the limit, without reading the rest."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = max_request_bytes(scope.get("path", ""))
        headers = dict(scope.get("headers") or [])
        request_id = incoming_or_new(headers.get(b"x-request-id", b"").decode("latin-1"))
        declared = headers.get(b"content-length", b"").strip()
        if declared.isdigit() and int(declared) > limit:
            await self._refuse(send, limit, int(declared), request_id)
            return
        received = 0
        cut_off = False
        started = False

        async def counting_receive():
            nonlocal received, cut_off
            if cut_off:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    cut_off = True  # the application sees a client that went away and stops
                    return {"type": "http.disconnect"}
            return message

        async def watching_send(message):
            nonlocal started
            if cut_off and not started:
                return  # the 413 below is the answer
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, counting_receive, watching_send)
        if cut_off and not started:
            await self._refuse(send, limit, None, request_id)

    @staticmethod
    async def _refuse(send, limit: int, size: int | None, request_id: str) -> None:
        body = json.dumps(too_large_payload(limit, size) | {"request_id": request_id}).encode()
        await send({"type": "http.response.start", "status": 413, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            (b"x-request-id", request_id.encode()), (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


class BodyLimitWSGI:
    """WSGI wrapper: reads a body without Content-Length up to the limit and hands it on with one.

    A chunked body is only read when the server promises the input ends (``wsgi.input_terminated``,
    as gunicorn and waitress do); otherwise the client is asked for a Content-Length (411) rather
    than Django silently seeing an empty body.
    """

    CHUNK = 64 * 1024

    def __init__(self, app) -> None:
        self.app = app

    def __call__(self, environ, start_response):
        limit = max_request_bytes(environ.get("PATH_INFO", ""))
        request_id = incoming_or_new(environ.get("HTTP_X_REQUEST_ID", ""))
        declared = (environ.get("CONTENT_LENGTH") or "").strip()
        if declared:
            if declared.isdigit() and int(declared) > limit:
                return self._answer(start_response, 413, too_large_payload(limit, int(declared)), request_id)
            return self.app(environ, start_response)
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if not chunked:
            return self.app(environ, start_response)
        if not environ.get("wsgi.input_terminated"):
            return self._answer(start_response, 411, {
                "detail": "This server needs a Content-Length for request bodies; send one instead of "
                          "chunked transfer encoding."}, request_id)
        stream, body = environ["wsgi.input"], bytearray()
        while len(body) <= limit:
            chunk = stream.read(min(self.CHUNK, limit + 1 - len(body)))
            if not chunk:
                break
            body += chunk
        if len(body) > limit:
            return self._answer(start_response, 413, too_large_payload(limit), request_id)
        environ["wsgi.input"] = io.BytesIO(bytes(body))
        environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)

    @staticmethod
    def _answer(start_response, status: int, payload: dict, request_id: str):
        body = json.dumps(payload | {"request_id": request_id}).encode()
        reason = {411: "Length Required", 413: "Content Too Large"}[status]
        start_response(f"{status} {reason}", [
            ("Content-Type", "application/json"), ("Content-Length", str(len(body))),
            ("X-Request-ID", request_id)])  # no Connection header: hop-by-hop headers are the server's
        return [body]
