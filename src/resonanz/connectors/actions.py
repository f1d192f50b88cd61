"""Every change to channels goes through here."""

from __future__ import annotations

import logging
import secrets

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from resonanz.connectors.drivers import DriverError, driver_class, get_driver, kinds
from resonanz.connectors.models import Channel, SourceState
from resonanz.core.errors import ActionError

log = logging.getLogger("resonanz.connectors")
REJECTED_KEEP = 3600  # seconds a channel's count of rejected pushes is kept


@transaction.atomic
def create_channel(*, kind: str, name: str, settings: dict | None = None, credentials: dict | None = None,
                   enabled: bool = True, slug: str = "", default_team=None, is_demo: bool = False,
                   sign_replies: bool | None = None, poll_interval: int | None = None) -> Channel:
    if kind not in kinds():
        raise ActionError(f"Unknown channel kind {kind!r}; available: {', '.join(kinds())}.", "kind")
    name = (name or "").strip()
    if not name:
        raise ActionError("A channel needs a name.", "name")
    if Channel.objects.filter(name__iexact=name).exists():
        raise ActionError(f"A channel named {name!r} exists already.", "name", status=409)
    slug = slugify(slug or name) or "channel"
    base, n = slug, 2
    while Channel.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    if sign_replies is None:
        sign_replies = driver_class(kind).signs_replies
    settings = _clean_settings(driver_class(kind), settings or {})
    channel = Channel(kind=kind, name=name, slug=slug, settings=settings, enabled=enabled,
                      sign_replies=sign_replies, default_team=default_team, is_demo=is_demo)
    if poll_interval:
        channel.poll_interval = max(15, int(poll_interval))
    channel.credentials = credentials or {}
    channel.save()
    return channel


@transaction.atomic
def update_channel(channel: Channel, *, credentials: dict | None = None, **fields) -> Channel:
    allowed = {"name", "settings", "enabled", "sign_replies", "default_team", "poll_interval"}
    unknown = set(fields) - allowed
    if unknown:
        raise ActionError(f"Unknown channel fields: {', '.join(sorted(unknown))}.")
    if "name" in fields:
        name = (fields["name"] or "").strip()
        if not name:
            raise ActionError("A channel needs a name.", "name")
        if Channel.objects.filter(name__iexact=name).exclude(pk=channel.pk).exists():
            raise ActionError(f"A channel named {name!r} exists already.", "name", status=409)
        fields["name"] = name
    if "settings" in fields and not isinstance(fields["settings"], dict):
        raise ActionError("Settings must be a JSON object.", "settings")
    if "settings" in fields:
        fields["settings"] = _clean_settings(driver_class(channel.kind), fields["settings"])
    if "poll_interval" in fields:
        fields["poll_interval"] = max(15, int(fields["poll_interval"] or channel.poll_interval or 60))
    for key, value in fields.items():
        setattr(channel, key, value)
    if credentials:
        # Blank values keep what is stored: the form never shows secrets, so it cannot send them back.
        merged = {**channel.credentials, **{k: v for k, v in credentials.items() if v not in ("", None)}}
        channel.credentials = merged
        channel.credentials_refused_at = None  # new credentials: the next webhook may show the channel healthy
    channel.save()
    return channel


def _clean_settings(driver: type, settings: dict) -> dict:
    """The driver checks its own settings (a chat widget's colours and origins, say): a clear error, never a 500."""
    try:
        return driver(Channel(kind=driver.kind)).clean_settings(settings)
    except DriverError as exc:
        raise ActionError(str(exc), "settings") from None


#: the SourceState row that keeps a channel's last connection check (not a source the channel reads)
CHECK_KEY = "connection-check"


def check_channel(channel: Channel) -> tuple[bool, str]:
    """Run the driver's connection check (in the worker: ``request_check``) and record the channel's health and
    the check's answer for its page."""
    try:
        ok, detail = get_driver(channel).check_connection()
    except Exception as exc:
        ok, detail = False, str(exc)
    record_health(channel, ok, detail)
    SourceState.objects.update_or_create(channel=channel, key=CHECK_KEY, defaults={"cursor": {
        "ok": ok, "detail": detail[:2000], "at": timezone.now().isoformat()}})
    return ok, detail


def request_check(channel: Channel) -> None:
    """Queue a connection check for the worker. A check connects to the address in the channel's settings
    (through the outbound guard), which can take seconds or time out: never in a web request."""
    from resonanz.connectors.tasks import check_channel_task

    SourceState.objects.update_or_create(channel=channel, key=CHECK_KEY, defaults={"cursor": {
        **last_check(channel), "pending": True, "requested_at": timezone.now().isoformat()}})
    check_channel_task.delay(channel.pk)


def last_check(channel: Channel) -> dict:
    """The last connection check: ``ok``, ``detail``, ``at`` (ISO time), and ``pending`` while one is queued."""
    state = SourceState.objects.filter(channel=channel, key=CHECK_KEY).only("cursor").first()
    return dict(state.cursor) if state else {}


def record_health(channel: Channel, ok: bool, detail: str = "", *, refused: bool = False) -> None:
    """``refused``: the platform refused the channel's token or password. Only a call that shows the
    credentials work again (a poll, a connection check, ``record_token_works``) or saving new ones clears that: a webhook arriving
    (``record_ok``) shows that the platform reaches us, not that our token works."""
    now = timezone.now()
    if ok:
        fields = {"last_ok_at": now, "credentials_refused_at": None}
    else:
        fields = {"last_error": detail[:2000], "last_error_at": now}
        if refused:
            fields["credentials_refused_at"] = now
    Channel.objects.filter(pk=channel.pk).update(**fields)
    for name, value in fields.items():
        setattr(channel, name, value)


def record_token_works(channel: Channel) -> None:
    """A call with the channel's credentials succeeded: a channel whose token was refused is healthy again
    (nothing is written otherwise, so a driver may say this after every call)."""
    if channel.credentials_refused_at:
        record_health(channel, True)


def record_rejected(channel: Channel, remote: str, reason: str) -> None:
    """A push to /hooks/<slug>/ failed its signature or secret. Anyone can send such requests, so they write
    nothing to the database and never change the channel's health: they are counted in the cache (per channel
    for an hour; shared by every process when RESONANZ_CACHE_URL names Redis), shown on the channel's page,
    and logged at most once a minute per channel (the per-address rate limit ``webhook`` bounds them too)."""
    key = f"webhook-rejected:{channel.pk}"
    cache.add(f"{key}:count", 0, REJECTED_KEEP)
    try:
        count = cache.incr(f"{key}:count")
    except ValueError:  # expired between add and incr
        count = 1
        cache.set(f"{key}:count", 1, REJECTED_KEEP)
    cache.set(f"{key}:last", {"at": timezone.now(), "remote": remote[:64], "reason": reason[:200]}, REJECTED_KEEP)
    if cache.add(f"{key}:logged", 1, 60):
        log.warning("%s %s rejected a request from %s: %s (%d rejected in the last hour; more within a minute "
                    "are counted, not logged)", channel.kind, channel.slug, remote, reason, count)


def rejected_requests(channel: Channel) -> dict | None:
    """What the channel's page shows: how many pushes were rejected in the last hour, and the last one."""
    key = f"webhook-rejected:{channel.pk}"
    last = cache.get(f"{key}:last")
    return {"count": cache.get(f"{key}:count") or 1, **last} if last else None


def record_ok(channel: Channel, every: int = 60) -> None:
    """A webhook was handled: mark the channel healthy, but write at most once a minute while it stays healthy
    (a platform pushing hundreds of requests a second would otherwise update the channel row on each)."""
    if channel.credentials_refused_at:
        return  # the channel stays failing until its token works again (record_health)
    fresh = channel.last_ok_at and (timezone.now() - channel.last_ok_at).total_seconds() < every
    if not (channel.healthy and fresh):
        record_health(channel, True)


def new_webhook_secret(channel: Channel) -> str:
    """A fresh signing secret for a webhook channel; the caller shows it once, it is never shown again."""
    if not get_driver(channel).generates_secret:
        raise ActionError("Only webhook and chat channels have a signing secret.", "kind")
    secret = secrets.token_urlsafe(32)
    update_channel(channel, credentials={"secret": secret})
    return secret
