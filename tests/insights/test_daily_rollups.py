"""Daily rollups: kept by the pipeline with the hourly ones, cut at midnight in the company's time zone, read
for the whole days of long dashboard ranges, and always giving the figures the hourly rows give."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from resonanz.core.pipeline import run_until_empty
from resonanz.insights import actions, dashboard, days
from resonanz.insights.dashboard import Selection
from resonanz.insights.models import DailyRollup, DailyRollupState, Rollup
from resonanz.listening.actions import InboundPost, ingest_post

BERLIN = ZoneInfo("Europe/Berlin")


def post_at(channel, external_id: str, at: datetime, text: str = "Acme liefert zu spät, sehr ärgerlich."):
    return ingest_post(channel, InboundPost(external_id=external_id, text=text, published_at=at,
                                            source="https://blog.example/feed", source_title="Blog")).post


def hourly_only(monkeypatch):
    monkeypatch.setattr(days, "ready", lambda: False)


# --- the day boundaries, without a database -------------------------------------------------------------------

def test_a_day_starts_at_local_midnight_and_has_23_or_25_hours_when_the_clocks_change():
    assert days.day_start(date(2026, 1, 15), BERLIN) == datetime(2026, 1, 14, 23, tzinfo=UTC)
    assert days.day_start(date(2026, 7, 15), BERLIN) == datetime(2026, 7, 14, 22, tzinfo=UTC)
    spring = days.day_start(date(2026, 3, 30), BERLIN) - days.day_start(date(2026, 3, 29), BERLIN)
    autumn = days.day_start(date(2026, 10, 26), BERLIN) - days.day_start(date(2026, 10, 25), BERLIN)
    assert (spring, autumn) == (timedelta(hours=23), timedelta(hours=25))
    # India is 5:30 ahead: the UTC hour that straddles local midnight counts for the day it starts in
    kolkata = ZoneInfo("Asia/Kolkata")
    assert days.day_start(date(2026, 1, 15), kolkata) == datetime(2026, 1, 14, 19, tzinfo=UTC)
    assert days.day_of(datetime(2026, 1, 14, 18, tzinfo=UTC), kolkata) == date(2026, 1, 14)
    assert days.day_of(datetime(2026, 1, 14, 19, tzinfo=UTC), kolkata) == date(2026, 1, 15)


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC"])
def test_split_covers_the_range_exactly_with_whole_local_days_and_hourly_ends(zone):
    tz = ZoneInfo(zone)
    end = datetime(2026, 11, 30, 10, tzinfo=UTC)
    for length in (1, 2, 7, 30, 365):
        start = end - timedelta(days=length)
        whole, edges = days.split(start, end, tz)
        pieces = sorted(edges + ([(days.day_start(whole[0], tz), days.day_start(whole[1] + timedelta(days=1), tz))]
                                 if whole else []))
        assert pieces[0][0] == start and pieces[-1][1] == end
        assert all(a[1] == b[0] for a, b in zip(pieces, pieces[1:], strict=False))  # no gap, no overlap
        assert all(b - a < timedelta(days=2) for a, b in edges)
        if whole:
            assert days.day_of(days.day_start(whole[0], tz), tz) == whole[0]


# --- kept by the pipeline, read by the dashboard -------------------------------------------------------------

@pytest.fixture
def spread(feed):
    """Posts over the last 400 days, each just after or before local midnight in Berlin; a brand and a
    competitor query matching them."""
    actions.save_query(None, None, name="Acme", expression="Acme", tag="brand")
    actions.save_query(None, None, name="Globex", expression="Globex", tag="competitor")
    now = timezone.now()
    out = []
    for k in range(0, 400, 20):
        at = (now - timedelta(days=k)).astimezone(BERLIN).replace(hour=0, minute=30)
        out.append(post_at(feed, f"m{k}", at))                       # 00:30 Berlin: 23:30 or 22:30 UTC the day before
        out.append(post_at(feed, f"e{k}", at - timedelta(hours=1),    # 23:30 Berlin the day before
                           "Globex hat schnell geholfen, danke!"))
    out.append(post_at(feed, "recent", now - timedelta(minutes=20)))
    run_until_empty()
    return out


def test_the_pipeline_keeps_the_days_equal_to_the_sum_of_their_hours(spread):
    assert days.ready()
    hourly: dict = {}
    for r in Rollup.objects.values("hour", "query_id", "channel_id", "language", "sentiment", "n"):
        key = (days.day_of(r["hour"]), r["query_id"], r["channel_id"], r["language"], r["sentiment"])
        hourly[key] = hourly.get(key, 0) + r["n"]
    daily = {(r.day, r.query_id, r.channel_id, r.language, r.sentiment): r.n for r in DailyRollup.objects.all()}
    assert daily == hourly and daily


def total(row: dict) -> int:
    return row["negative"] + row["neutral"] + row["positive"]


def test_a_post_at_half_past_midnight_counts_on_that_local_day(spread):
    series = {row["bucket"]: row for row in dashboard.volume(Selection(days=30))["series"]}
    day = (timezone.now() - timedelta(days=20)).astimezone(BERLIN).date()
    # 00:30 and 23:30 the evening before: each on its own Berlin day (in UTC both fall on the day before)
    assert total(series[day.isoformat()]) == 1
    assert total(series[(day - timedelta(days=1)).isoformat()]) == 1


@pytest.mark.parametrize("period", [7, 30, 90, 365])
def test_every_long_range_gives_the_hourly_figures(spread, period, monkeypatch):
    sel = Selection(days=period)
    fast = (dashboard.volume(sel), dashboard.by_channel_and_language(sel), dashboard.intents(sel),
            dashboard.share_of_voice(sel))
    hourly_only(monkeypatch)
    slow = (dashboard.volume(sel), dashboard.by_channel_and_language(sel), dashboard.intents(sel),
            dashboard.share_of_voice(sel))
    assert fast == slow
    assert fast[0]["total"] > 0 and fast[3] and fast[1]["channels"]
    if 30 <= period < 365:  # posts every 20 days: a week before the last one may hold none
        assert fast[0]["previous_total"] > 0


def test_long_ranges_read_the_daily_rows(spread):
    """Hourly rows of the middle of the year removed: the year's total still counts them (from the days)."""
    sel = Selection(days=365)
    before = dashboard.volume(sel)["total"]
    cut = days.day_start(timezone.localdate() - timedelta(days=30))
    Rollup.objects.filter(hour__gte=sel.start + timedelta(days=3), hour__lt=cut).delete()
    assert dashboard.volume(sel)["total"] == before
    assert dashboard.volume(Selection(days=1))["total"] >= 1  # a day's view still reads hours


def test_a_new_time_zone_reads_hours_until_the_days_are_rebuilt_by_the_command(spread, monkeypatch):
    with override_settings(TIME_ZONE="America/New_York"):
        assert not days.ready()  # the days were cut at midnight in Berlin
        sel = Selection(days=30)
        on_hours = dashboard.volume(sel)
        assert on_hours["total"] > 0
        out = StringIO()
        call_command("insights", "days", stdout=out)
        assert "America/New_York" in out.getvalue()
        assert days.ready() and DailyRollupState.objects.get().zone == "America/New_York"
        assert dashboard.volume(sel) == on_hours
        # 00:30 in Berlin is 18:30 the evening before in New York: both posts of that night on one day there
        day = (timezone.now() - timedelta(days=20)).astimezone(BERLIN).date()
        series = {row["bucket"]: row for row in on_hours["series"]}
        assert total(series[(day - timedelta(days=1)).isoformat()]) == 2
        assert total(series[day.isoformat()]) == 0
    assert not days.ready()  # back in Berlin: the days are New York's now
    call_command("insights", "days", stdout=StringIO())
    assert days.ready()


def test_a_database_from_before_daily_rollups_is_built_by_setup(spread):
    DailyRollup.objects.all().delete()
    DailyRollupState.objects.update_or_create(pk=1, defaults={"zone": ""})  # what the migration leaves
    assert not days.ready()
    from django.apps import apps

    out = StringIO()
    apps.get_app_config("insights").on_setup(out)
    assert days.ready() and DailyRollup.objects.exists()
    assert "Daily rollups built" in out.getvalue()
