"""The entities per day without channel and language (``DailyEntityTotal``): what the "Products and
competitors" chart reads for whole days when no channel or language is chosen. Kept by the pipeline with the
other daily rows, rebuilt by ``resonanz insights days``, filled by its migration, and always giving the figures
the raw facts (and the per-channel rows) give; a selection with a channel or language keeps the old rows."""

from __future__ import annotations

import importlib
import random
from collections import Counter
from datetime import timedelta
from io import StringIO
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from resonanz.connectors.actions import create_channel
from resonanz.core.pipeline import run_until_empty
from resonanz.insights import actions, dashboard, days, topics
from resonanz.insights.dashboard import Selection
from resonanz.insights.models import DailyEntityRollup, DailyEntityTotal, EntityRollup, ListeningQuery
from resonanz.listening.actions import InboundPost, ingest_post
from resonanz.understanding.models import CatalogEntry

pytestmark = pytest.mark.django_db

TEXTS = [
    "Acme Wasserkocher ist kaputt, ich brauche sofort Ersatz, dringend!",
    "Globex liefert pünktlich, sehr zufrieden.",
    "Globex support never answers, this is terrible.",
    "The Acme kettle is great, thanks a lot!",
    "Globex ist zu teuer und der Support antwortet nie.",
    "Acme and Globex compared: both are fine.",
]


def post(channel, ext: str, text: str, at):
    return ingest_post(channel, InboundPost(external_id=ext, text=text, published_at=at,
                                            source="https://blog.example/feed", source_title="Blog")).post


@pytest.fixture
def two_channels(db):
    """Posts in German and English on two channels over the last 100 days, at every hour, and a brand query."""
    CatalogEntry.objects.create(name="Acme", kind="brand")
    CatalogEntry.objects.create(name="Globex", kind="competitor")
    CatalogEntry.objects.create(name="Wasserkocher", kind="product", aliases="Kettle")
    actions.save_query(None, None, name="Acme", expression="Acme", tag="brand")
    channels = [create_channel(kind="feed", name=name, settings={"feeds": []}) for name in ("Blogs", "Foren")]
    rng = random.Random(7)
    now = timezone.now()
    for k in range(120):
        post(channels[k % 2], f"t{k}", TEXTS[k % len(TEXTS)], now - timedelta(hours=rng.randint(0, 100 * 24)))
    run_until_empty()
    return channels


def summed_hours() -> Counter:
    """The hourly entity rows summed per local day without channel and language: what the totals must hold."""
    found: Counter = Counter()
    for r in EntityRollup.objects.values("hour", "query_id", "kind", "entity", "sentiment", "n"):
        found[(days.day_of(r["hour"]), r["query_id"], r["kind"], r["entity"], r["sentiment"])] += r["n"]
    return found


def totals() -> Counter:
    return Counter({(r.day, r.query_id, r.kind, r.entity, r.sentiment): r.n for r in DailyEntityTotal.objects.all()})


def raw(sel: Selection) -> Counter:
    found: Counter = Counter()
    for value, sentiment in sel.facts().values_list("entities", "sentiment"):
        for kind, name in topics.decode_entities(value):
            found[(kind, name, sentiment)] += 1
    return found


def charted(sel: Selection) -> Counter:
    return Counter({(r["kind"], r["entity"], s): r[s] for r in dashboard.entities(sel, top=1000)
                    for s in dashboard.SENTIMENT_ORDER if r[s]})


def previous(sel: Selection) -> dict:
    return {r["key"]: r["previous"] for r in dashboard.entities(sel, top=1000)}


def test_the_pipeline_keeps_the_totals_equal_to_the_hourly_rows(two_channels):
    assert days.ready() and totals() == summed_hours() and totals()
    # fewer rows than per channel and language: what makes a year cheap
    assert DailyEntityTotal.objects.count() < DailyEntityRollup.objects.count()
    before = {r["entity"]: r["n"] for r in dashboard.entities(Selection(days=30))}
    post(two_channels[1], "new", "Globex hat mein Paket verloren, unverschämt!", timezone.now() - timedelta(minutes=5))
    run_until_empty()
    assert {r["entity"]: r["n"] for r in dashboard.entities(Selection(days=30))}["Globex"] == before["Globex"] + 1
    assert totals() == summed_hours()


def test_every_selection_gives_the_raw_figures_with_or_without_a_filter(two_channels):
    acme = ListeningQuery.objects.get(name="Acme")
    for period in dashboard.PERIODS:
        for sel in (Selection(days=period), Selection(days=period, query=acme),
                    Selection(days=period, channel=two_channels[0].pk), Selection(days=period, language="en"),
                    Selection(days=period, channel=two_channels[1].pk, language="de", query=acme)):
            assert charted(sel) == raw(sel), (period, sel.params())
            prev = raw(sel.previous)
            assert previous(sel) == {topics.entity_key(k, e): sum(c for (k2, e2, _s), c in prev.items()
                                                                  if (k2, e2) == (k, e))
                                     for (k, e, _s) in charted(sel)}, (period, sel.params())
    assert charted(Selection(days=365)) and charted(Selection(days=365, language="en"))


def test_only_selections_without_channel_or_language_read_the_totals(two_channels):
    """Per-channel daily rows removed: the year without a filter is unchanged (read from the totals), one
    language falls short (it reads the per-channel rows, as before) until the days are rebuilt."""
    year, english = Selection(days=365), Selection(days=365, language="en")
    expected_year, expected_english = raw(year), raw(english)
    DailyEntityRollup.objects.all().delete()
    assert charted(year) == expected_year
    assert charted(english) != expected_english
    DailyEntityTotal.objects.all().delete()
    assert charted(year) != expected_year
    out = StringIO()
    call_command("insights", "days", stdout=out)
    assert "Daily rollups built" in out.getvalue()
    assert charted(year) == expected_year and charted(english) == expected_english and totals() == summed_hours()


def test_a_new_time_zone_cuts_the_totals_at_its_midnight(two_channels):
    with override_settings(TIME_ZONE="America/New_York"):
        call_command("insights", "days", stdout=StringIO())
        assert days.ready() and totals() == summed_hours()
        sel = Selection(days=90)
        assert charted(sel) == raw(sel)


def test_the_migration_fills_the_totals_from_the_days_already_counted(two_channels):
    expected = totals()
    DailyEntityTotal.objects.all().delete()
    migration = importlib.import_module("resonanz.insights.migrations.0005_daily_entity_total")
    # the function uses only the editor's connection (SQLite's schema editor refuses to open inside a test's
    # transaction)
    migration.fill_from_daily_entities(apps, SimpleNamespace(connection=connection))
    assert totals() == expected == summed_hours()
