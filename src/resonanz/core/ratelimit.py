"""Rate limits for public endpoints: per address or per key, counted in the database so every process shares them.

Each limit is "at most N requests per S seconds" in fixed windows, named in ``RESONANZ_RATE_LIMITS``
(settings; ``RESONANZ_RATE_LIMITS="help_search=60/60,webhook=600/60"`` overrides single entries, ``0/60``
switches one off). One counter row per name, client and window is bumped with a single atomic
``INSERT … ON CONFLICT … DO UPDATE … RETURNING`` (SQLite 3.35+ and PostgreSQL), so two web processes, or
two machines on one PostgreSQL, cut a burst at the same count. A refused request gets 429 with
``Retry-After`` (seconds until the window ends): JSON for API-like clients, a short page for people.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import wraps

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from resonanz.core import audit
from resonanz.core.models import RateCounter

log = logging.getLogger("resonanz.security")

#: one in this many hits also deletes counters whose window has ended
CLEANUP_EVERY = 500


@dataclass(frozen=True)
class Limit:
    count: int
    seconds: int


class RateLimited(Exception):
    def __init__(self, name: str, retry_after: int) -> None:
        super().__init__(f"rate limit {name} reached; retry after {retry_after} s")
        self.name, self.retry_after = name, retry_after


def limit(name: str) -> Limit | None:
    """The configured limit, or None when it is switched off (count 0)."""
    raw = settings.RESONANZ_RATE_LIMITS[name]
    count, _sep, seconds = str(raw).partition("/")
    value = Limit(int(count), int(seconds or 60))
    return value if value.count > 0 else None


def client_address(request: HttpRequest) -> str:
    """Who is asking: the address the sign-in lockout and the audit log use, so behind a proxy
    (``RESONANZ_BEHIND_PROXY``) it is the client's, not the proxy's, which all clients share."""
    return audit.client_address(request) or "unknown"


def _now() -> float:
    return time.time()


def _bump(key: str, expires: datetime) -> int:
    table = RateCounter._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO {table} ("key", "count", "expires_at") VALUES (%s, 1, %s) '
            f'ON CONFLICT ("key") DO UPDATE SET "count" = {table}."count" + 1 RETURNING "count"',
            [key, expires])
        return int(cursor.fetchone()[0])


def hit(name: str, who: str) -> None:
    """Count one request of ``who`` against limit ``name``; raises ``RateLimited`` past the limit."""
    rule = limit(name)
    if rule is None:
        return
    now = _now()
    window = int(now // rule.seconds) * rule.seconds
    ends = datetime.fromtimestamp(window + rule.seconds, tz=UTC)
    count = _bump(f"{name}:{who}:{window}"[:200], ends)
    if random.randrange(CLEANUP_EVERY) == 0:
        RateCounter.objects.filter(expires_at__lt=timezone.now() - timedelta(seconds=1)).delete()
    if count > rule.count:
        if count == rule.count + 1:
            log.warning("rate limit %s reached by %s (%s per %s s)", name, who, rule.count, rule.seconds)
        raise RateLimited(name, max(1, int(window + rule.seconds - now + 0.999)))


def check(request: HttpRequest, name: str, key: str = "") -> None:
    """``hit`` for the client's address (and an extra key such as a channel, when given)."""
    who = client_address(request) + (f":{key}" if key else "")
    hit(name, who)


def refusal(request: HttpRequest, exc: RateLimited, *, as_json: bool | None = None) -> HttpResponse:
    """429 with Retry-After: JSON for API clients and scripts, a page for people."""
    if as_json is None:
        accept = request.headers.get("Accept", "")
        as_json = (request.path.startswith(("/api/", "/hooks/", "/chat/")) or "json" in accept
                   or request.content_type == "application/json")
    detail = _("Too many requests. Please wait %(seconds)s seconds and try again.") % {"seconds": exc.retry_after}
    if as_json:
        response = JsonResponse({"detail": detail, "error": "rate_limited", "retry_after": exc.retry_after},
                                status=429)
    else:
        response = render(request, "rate_limited.html", {"detail": detail}, status=429)
    response["Retry-After"] = str(exc.retry_after)
    return response


#: limits reached by refused requests, remembered in this process until their window ends (see ``refused_only``)
_reached: dict[str, int] = {}


def refused_only(name: str, *, key):
    """View decorator for endpoints whose genuine callers authenticate every request (platforms' signed
    webhooks): only the requests the view refuses (4xx: a wrong signature, an unknown channel) are counted, per
    address plus ``key(request, *args, **kwargs)``. A platform pushing hundreds of accepted notifications a second
    costs no counter write per request, while a flood of forged or misdirected ones is cut as before. Once a
    window's limit is reached this process answers 429 without handling (or counting) the request until the
    window ends; other processes learn it from the shared count at their next refused request."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            rule = limit(name)
            if rule is None:
                return view(request, *args, **kwargs)
            now = _now()
            window = int(now // rule.seconds) * rule.seconds
            who = client_address(request) + f":{key(request, *args, **kwargs)}"
            marker = f"{name}:{who}:{window}"
            if marker in _reached:
                return refusal(request, RateLimited(name, max(1, int(window + rule.seconds - now + 0.999))))
            response = view(request, *args, **kwargs)
            if 400 <= response.status_code < 500:
                try:
                    hit(name, who)
                except RateLimited as exc:
                    if len(_reached) > 10_000:  # windows long past: forget them
                        _reached.clear()
                    _reached[marker] = window
                    return refusal(request, exc)
            return response

        return wrapper

    return decorate


def rate_limited(name: str, *, methods: tuple[str, ...] | None = ("POST",), key=None):
    """View decorator: count requests with these methods (None: every method) per address, plus
    ``key(request, *args, **kwargs)`` when given."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if methods is None or request.method in methods:
                try:
                    check(request, name, key(request, *args, **kwargs) if key else "")
                except RateLimited as exc:
                    return refusal(request, exc)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate
