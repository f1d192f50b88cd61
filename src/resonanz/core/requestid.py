"""A request id on every request, its response and every log line written while serving it.

An agent who hits an error page reads the id to the administrator, who finds the traceback
in the log by it. An id sent by a proxy or load balancer (``X-Request-ID``) is kept, so one id
follows the request through all of them, but only if it looks like an id: anything else
could be used to forge or break log lines.
"""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar

_current: ContextVar[str] = ContextVar("resonanz_request_id", default="-")
_SANE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,127}")


def new_id() -> str:
    return uuid.uuid4().hex


def incoming_or_new(value: str | None) -> str:
    """The incoming id if it is 8–128 letters, digits and ``. _ : -``; a fresh one otherwise."""
    value = (value or "").strip()
    return value if _SANE.fullmatch(value) else new_id()


def current() -> str:
    """The id of the request being served in this context, ``-`` outside of requests."""
    return _current.get()


class RequestIdMiddleware:
    """Gives the request its id (``request.request_id``) and puts it on the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = incoming_or_new(request.headers.get("X-Request-ID"))
        request.request_id = request_id
        token = _current.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response["X-Request-ID"] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to each record, so formats can say ``%(request_id)s``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _current.get()
        return True
