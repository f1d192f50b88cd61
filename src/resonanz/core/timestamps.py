"""Sent times claimed by the outside world, kept within what can be true.

A channel tells us when a message was sent, but senders' clocks are wrong, parsers read
"0" as 1970 and forged webhooks can claim any date. A message dated 2099 would stay on top
of every inbox and break SLA and trend figures; one dated 1970 would vanish from them. So an
implausible ``sent_at`` is replaced by the time we received it (the only time we know is
real), and the caller records that it did so (``flagged``) and keeps the claimed value.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.conf import settings

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
MAX_AHEAD = timedelta(minutes=5)


def max_age() -> timedelta | None:
    """``RESONANZ_SENT_AT_MAX_AGE_DAYS`` (0 or unset: only the year-2000 floor applies)."""
    days = int(getattr(settings, "RESONANZ_SENT_AT_MAX_AGE_DAYS", 0) or 0)
    return timedelta(days=days) if days > 0 else None


def clamp_sent_at(value: datetime | None, now: datetime, *, oldest: timedelta | None = None,
                  ahead: timedelta = MAX_AHEAD) -> tuple[datetime, bool]:
    """(the sent time to store, whether the claimed one was replaced).

    ``None`` (no claim) becomes ``now``, unflagged. A time without a zone is read as UTC, which is
    what APIs mean when they leave it out. Times before 2000, older than ``oldest`` (default:
    the setting) or more than ``ahead`` in the future become ``now`` and are flagged; everything
    else is kept as it is, including clock skew of up to ``ahead``.
    """
    if now.tzinfo is None:
        raise ValueError("now must carry a time zone (django.utils.timezone.now())")
    if value is None:
        return now, False
    if not isinstance(value, datetime):
        raise TypeError(f"sent_at must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=UTC)
    oldest = max_age() if oldest is None else oldest
    try:
        floor = EARLIEST if oldest is None else max(EARLIEST, now - oldest)
    except OverflowError:  # an age reaching before year 1
        floor = EARLIEST
    if value < floor or value > now + ahead:
        return now, True
    return value, False
