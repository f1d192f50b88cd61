"""Daily rollups: the hourly rollups summed per day, so a year on the dashboard reads 365 days, not 8,760 hours.

**Whose day.** A day is a calendar day in the company's time zone, the installation's ``TIME_ZONE`` (the
zone the charts label their days in and SLAs count business hours in), not UTC: for a company in Berlin a
complaint at 00:30 local time belongs to that day, not to the evening before. An hour (rollups are kept
per UTC hour) belongs to the day on which it starts in that zone; the day's hours are
``[day_start(d), day_start(d + 1))``, which is 23 or 25 hours on the days the clocks change. (In the few
zones whose offset is not a whole hour, such as India's, the UTC hour that straddles midnight counts for
the day it starts in.)

**Always equal to the hourly counts.** ``refresh_rollups`` recounts, in the same transaction, every day
whose hours it recounted, by summing the hourly rows (``recount_days``), and the day's entities once more without channel and
language (``DailyEntityTotal``, summed from the day's entity rows), which the entities chart reads when no
channel or language is chosen. A dashboard range is split into
whole days, read from the daily rows, and the partial days at its two ends, read from the hourly rows
(``split``), so any range gives exactly the figures the hourly rows give, only faster.

**Changing the time zone** moves every day boundary: ``DailyRollupState`` records the zone the rows were
built for (the first count names it; a database upgraded from before daily rollups names none), and
dashboards read the hourly rows while it is not the installation's zone, until ``resonanz insights days``
(``resonanz setup`` runs it when needed) rebuilt the days for the new zone (``rebuild``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Min

from resonanz.insights.models import (
    DailyEntityRollup,
    DailyEntityTotal,
    DailyIntentRollup,
    DailyRollup,
    DailyRollupState,
    DailyUrgencyRollup,
    EntityRollup,
    IntentRollup,
    Rollup,
    UrgencyRollup,
)

ONE_DAY = timedelta(days=1)


def company_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def day_start(day: date, tz: ZoneInfo | None = None) -> datetime:
    """The first UTC hour that starts on ``day`` in the zone (local midnight, rounded up to a whole hour)."""
    midnight = datetime.combine(day, time.min, tzinfo=tz or company_zone()).astimezone(UTC)
    hour = midnight.replace(minute=0, second=0, microsecond=0)
    return hour if hour == midnight else hour + timedelta(hours=1)


def day_of(hour: datetime, tz: ZoneInfo | None = None) -> date:
    """The day an hour (UTC, whole) belongs to: the local date on which it starts."""
    return hour.astimezone(tz or company_zone()).date()


def split(start: datetime, end: datetime, tz: ZoneInfo | None = None
          ) -> tuple[tuple[date, date] | None, list[tuple[datetime, datetime]]]:
    """``[start, end)`` as whole local days (first, last; inclusive) and the hour ranges left at its ends."""
    tz = tz or company_zone()
    first = day_of(start, tz)
    if day_start(first, tz) < start:
        first += ONE_DAY
    last = day_of(end, tz)
    while day_start(last + ONE_DAY, tz) > end:
        last -= ONE_DAY
    if first > last:
        return None, [(start, end)]
    edges = []
    if start < day_start(first, tz):
        edges.append((start, day_start(first, tz)))
    if day_start(last + ONE_DAY, tz) < end:
        edges.append((day_start(last + ONE_DAY, tz), end))
    return (first, last), edges


def ready() -> bool:
    """Whether the daily rows fit the installation's time zone (dashboards read hourly rows otherwise).
    No state row: nothing was counted yet, or only by ``recount_days``, which writes the row first."""
    return not DailyRollupState.objects.exclude(zone=settings.TIME_ZONE).exists()


_COPY = (  # daily model, hourly model, the columns a day's rows are grouped by (the key besides ``day``)
    (DailyRollup, Rollup, "query_id, channel_id, language, sentiment"),
    (DailyIntentRollup, IntentRollup, "query_id, channel_id, language, intent"),
    (DailyUrgencyRollup, UrgencyRollup, "query_id, channel_id, language, urgency"),
    (DailyEntityRollup, EntityRollup, "query_id, channel_id, language, kind, entity, sentiment"),
)
# daily rows summed from the day's rows of another daily table just counted (fewer rows than its hours):
# the entities without channel and language, for the entities chart when no channel or language is chosen
_TOTALS = ((DailyEntityTotal, DailyEntityRollup, "query_id, kind, entity, sentiment"),)


def recount_days(days: Iterable[date], tz: ZoneInfo | None = None) -> None:
    """Replace the daily rows of these days by the sums of their hourly rows (inside the caller's transaction).

    Two workers recounting today at once are the normal case: the second one's insert finds the first
    one's committed rows and overwrites them with its own sums (``ON CONFLICT … DO UPDATE``, read after the
    first committed, so they include both), instead of failing and being retried."""
    tz = tz or company_zone()
    ops = connection.ops
    # the first count of a database names its zone; a later change of TIME_ZONE leaves the old name, so the
    # dashboards know the days no longer fit until ``rebuild``
    DailyRollupState.objects.get_or_create(pk=1, defaults={"zone": settings.TIME_ZONE})
    with connection.cursor() as cursor:
        for day in sorted(set(days)):
            lo, hi = ops.adapt_datetimefield_value(day_start(day, tz)), \
                ops.adapt_datetimefield_value(day_start(day + ONE_DAY, tz))
            # PostgreSQL takes the date itself (a string would reach the insert's select list as text)
            day_param = day if connection.vendor == "postgresql" else ops.adapt_datefield_value(day)
            for daily, hourly, key in _COPY:
                d, h = daily._meta.db_table, hourly._meta.db_table
                cursor.execute(f"DELETE FROM {d} WHERE day = %s", [day_param])
                cursor.execute(
                    f"INSERT INTO {d} (day, {key}, n) "
                    f"SELECT %s, {key}, SUM(n) FROM {h} WHERE hour >= %s AND hour < %s GROUP BY {key} "
                    f"ON CONFLICT (day, {key}) DO UPDATE SET n = excluded.n",
                    [day_param, lo, hi])
            for total, daily, key in _TOTALS:
                t, d = total._meta.db_table, daily._meta.db_table
                cursor.execute(f"DELETE FROM {t} WHERE day = %s", [day_param])
                cursor.execute(
                    f"INSERT INTO {t} (day, {key}, n) SELECT %s, {key}, SUM(n) FROM {d} WHERE day = %s "
                    f"GROUP BY {key} ON CONFLICT (day, {key}) DO UPDATE SET n = excluded.n",
                    [day_param, day_param])


def rebuild(progress: Callable[[int], None] | None = None, chunk: int = 31) -> int:
    """Build every day again for the current time zone (after a change of ``TIME_ZONE``, or on a database
    from before daily rollups); returns the number of days. Safe next to a running worker: each chunk of
    days is one transaction doing what the worker's recount does."""
    tz = company_zone()
    span = Rollup.objects.aggregate(lo=Min("hour"), hi=Max("hour"))
    days: list[date] = []
    if span["lo"] is not None:
        d, last = day_of(span["lo"], tz), day_of(span["hi"], tz)
        while d <= last:
            days.append(d)
            d += ONE_DAY
    for i in range(0, len(days), chunk):
        with transaction.atomic():
            recount_days(days[i:i + chunk], tz)
        if progress:
            progress(len(days[i:i + chunk]))
    with transaction.atomic():
        # days left from another zone, or added by the worker meanwhile: count them from their hours too
        # (a day without hourly rows ends up without daily rows)
        others: set[date] = set()
        for daily, _source, _key in _COPY + _TOTALS:
            rows = daily.objects.all()
            if days:
                rows = rows.exclude(day__range=(days[0], days[-1]))
            others |= set(rows.values_list("day", flat=True).distinct())
        recount_days(others, tz)
        DailyRollupState.objects.update_or_create(pk=1, defaults={"zone": settings.TIME_ZONE})
    return len(days)


def count_days() -> int:
    """How many days ``rebuild`` will go through (for a progress bar)."""
    span = Rollup.objects.aggregate(lo=Min("hour"), hi=Max("hour"))
    if span["lo"] is None:
        return 0
    return (day_of(span["hi"]) - day_of(span["lo"])).days + 1
