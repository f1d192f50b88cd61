"""Back-pressure: when the pipeline is far behind, public endpoints refuse new work instead of queueing it.

Rate limits (core/ratelimit.py) stop one address; a burst from many addresses passes them. Every line such a
burst stores waits in the pipeline's queue (analysis, rules, the bot) in front of the next real customer's
mail. So admission is bounded by the backlog itself: the number of messages stored but not yet processed
(``pipeline_state = pending``, read through the partial index ``msg_pipeline``, never counted past the limit).

Two tiers, because not every sender is alike:

- ``public`` (``RESONANZ_BACKLOG_LIMIT`` messages waiting, default 2,000): anonymous senders, whose work is the easiest to fake
  and the cheapest to postpone: contact forms, new chat sessions and a visitor's lines and files,
  "leave a message", community posts and votes.
- ``signed`` (``RESONANZ_BACKLOG_LIMIT_SIGNED``, default 20,000): senders that authenticated (signed webhooks,
  the API's inbound endpoint) and retry by themselves on 503: platforms redeliver, API clients get
  ``Retry-After``.

At its tier's limit an endpoint answers 503 with ``Retry-After`` before it reads the body or writes anything;
what was accepted before stays stored and is processed (nothing accepted is lost), and signed-in agents' pages
are never refused. The count is read at most once a second per process (``CHECK_SECONDS``), so a burst costs
one indexed query per second, not one per request; a limit of 0 switches a tier off.
"""

from __future__ import annotations

import logging
import random
import time
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from resonanz.core import pipeline
from resonanz.core.models import PipelineState

log = logging.getLogger("resonanz.security")

#: how long one process trusts the last count (seconds)
CHECK_SECONDS = 1.0
TIERS = {"public": "RESONANZ_BACKLOG_LIMIT", "signed": "RESONANZ_BACKLOG_LIMIT_SIGNED"}

_checked: dict[int, tuple[float, bool]] = {}  # limit -> (when, over it)
_over: dict[str, bool] = {}  # tier -> state last logged


class Overloaded(Exception):
    def __init__(self, tier: str, retry_after: int) -> None:
        super().__init__(f"the pipeline's backlog is over the {tier} limit; retry after {retry_after} s")
        self.tier, self.retry_after = tier, retry_after


def limit(tier: str) -> int:
    return int(getattr(settings, TIERS[tier], 0) or 0)


def backlog_reaches(count: int) -> bool:
    """Whether ``count`` or more messages wait for the pipeline. Reads at most ``count`` index entries."""
    for source in pipeline.sources():
        if source.kind == "message":
            return source.model.objects.filter(
                pipeline_state=PipelineState.PENDING).values("pk")[count - 1:count].exists()
    return False


def _over_limit(count: int) -> bool:
    now = time.monotonic()
    cached = _checked.get(count)
    if cached is not None and now - cached[0] < CHECK_SECONDS:
        return cached[1]
    over = backlog_reaches(count)
    _checked[count] = (now, over)
    return over


def retry_after() -> int:
    """Seconds a refused client should wait, spread a little so refused clients do not all return at once."""
    base = max(1, int(getattr(settings, "RESONANZ_BACKLOG_RETRY_SECONDS", 30)))
    return base + random.randrange(base // 2 + 1)


def admit(tier: str) -> None:
    """Raise ``Overloaded`` when the backlog reached ``tier``'s limit (0: never)."""
    count = limit(tier)
    over = bool(count) and _over_limit(count)
    if over != _over.get(tier, False):
        _over[tier] = over
        if over:
            log.warning("back-pressure: %d messages wait for the pipeline; %s endpoints answer 503",
                        count, tier)
        else:
            log.info("back-pressure: the pipeline's backlog is under %d again; %s endpoints accept", count, tier)
    if over:
        raise Overloaded(tier, retry_after())


def refusal(request: HttpRequest, exc: Overloaded, *, as_json: bool | None = None) -> HttpResponse:
    """503 with Retry-After: JSON for widgets, platforms and API clients, a short page for people."""
    if as_json is None:
        as_json = (request.path.startswith(("/api/", "/hooks/", "/chat/")) or "json" in request.headers.get("Accept", "")
                   or request.content_type == "application/json")
    detail = busy_message(exc.retry_after)
    if as_json:
        response = JsonResponse({"detail": detail, "error": "busy", "retry_after": exc.retry_after}, status=503)
    else:
        response = render(request, "busy.html", {"detail": detail}, status=503)
    response["Retry-After"] = str(exc.retry_after)
    return response


def busy_message(seconds: int) -> str:
    return _("We are receiving very many messages right now. Please try again in %(seconds)s seconds; "
             "nothing you sent before is lost.") % {"seconds": seconds}


def shed(tier: str, *, methods: tuple[str, ...] = ("POST",)):
    """View decorator: requests with these methods are refused with 503 while the backlog is over ``tier``."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method in methods:
                try:
                    admit(tier)
                except Overloaded as exc:
                    return refusal(request, exc)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate
