"""Early warning on the counted hours: a complaint spike raises one alert with its driving terms and first
items, emails the supervisors, and the detector continues from its saved state without repeating it."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from resonanz.automation.fields import topic_rising
from resonanz.core.pipeline import run_until_empty
from resonanz.inbox.actions import invite_agent
from resonanz.insights import alerts
from resonanz.insights.facts import hour_of, refresh_rollups
from resonanz.insights.models import Alert, DetectorState, Fact
from resonanz.listening.actions import InboundPost, ingest_post
from resonanz.understanding.models import Analysis

pytestmark = pytest.mark.django_db
CALM = ["Acme Wasserkocher gekauft, funktioniert.", "Wie entkalke ich den Acme Toaster?", "Acme Kundenservice war nett.",
        "Heute bei Acme im Laden gewesen.", "Acme Angebot im Newsletter gesehen."]
SPIKE = "Acme Lieferung schon wieder verspätet, Paket beschädigt, ich bin wütend!"


def post(channel, n, text, at):
    ingest_post(channel, InboundPost(external_id=f"x{n}", text=text, published_at=at))


def test_a_complaint_spike_raises_one_alert_with_driving_terms(feed, teams):
    invite_agent("lead@example.com", display_name="Lea Lead", role="supervisor", password="pw-lead-1234")
    rng = random.Random(7)
    now = timezone.now()
    spike_hour = hour_of(now) - timedelta(hours=2)
    n = 0
    hour = spike_hour - timedelta(days=4)
    while hour < hour_of(now):
        for _ in range(rng.choice((0, 1, 1, 2))):
            n += 1
            post(feed, n, rng.choice(CALM), hour + timedelta(minutes=rng.randint(0, 59)))
        hour += timedelta(hours=1)
    for k in range(40):
        n += 1
        post(feed, n, SPIKE if k % 2 else SPIKE.replace("wütend", "sauer"), spike_hour + timedelta(minutes=k))
    run_until_empty()
    made = alerts.check(now)
    volume = [a for a in made if a.key == "volume:all"]
    assert len(volume) == 1 and volume[0].hour == spike_hour
    a = volume[0]
    assert a.observed >= 40 and a.expected < 5
    terms = [t["term"] for t in a.terms]
    assert {"lieferung", "verspäten"} & set(terms), terms
    assert len(a.fact_ids) == 5
    assert any("early warning" in m.subject and "lieferung" in m.body for m in mail.outbox)
    # the saved state continues: running again raises nothing new
    assert DetectorState.objects.filter(key="volume:all").exists()
    assert alerts.check(now) == [] and alerts.check(now + timedelta(hours=1)) == []
    assert Alert.objects.filter(key="volume:all").count() == 1
    # the desk shows it, a supervisor acknowledges it
    client = Client()
    client.force_login(invite_agent("sup@example.com", display_name="Sup", role="supervisor", password="pw-sup-12345",
                                   language="de"))
    page = client.get(f"/insights/alerts/{a.pk}/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Volumenspitze" in page and "lieferung" in page and "Paket" in page
    assert "Volumenspitze" in client.get("/insights/").content.decode()
    client.post(f"/insights/alerts/{a.pk}/")
    a.refresh_from_db()
    assert a.acknowledged_at is not None


def test_a_quiet_series_does_not_alarm_on_three_posts(feed):
    now = timezone.now()
    for k in range(3):
        post(feed, k, "Acme Lieferung verspätet", hour_of(now) - timedelta(hours=1, minutes=-k))
    post(feed, 9, "Acme", now - timedelta(days=3))
    run_until_empty()
    assert alerts.check(now) == []


def read_as(intent: str, **post_filter) -> None:
    """What the engine would have read: these posts as ``intent`` (the test model labels few intents)."""
    analyses = Analysis.objects.filter(**{f"post__{k}": v for k, v in post_filter.items()})
    analyses.update(intent_labels=f",{intent},")
    facts = Fact.objects.filter(**{f"post__{k}": v for k, v in post_filter.items()})
    facts.update(intents=f",{intent},")
    refresh_rollups(set(facts.values_list("hour", flat=True)))


def test_rising_topic_is_the_intent_detector_alerting(feed):
    rng = random.Random(3)
    now = timezone.now()
    spike_hour = hour_of(now) - timedelta(hours=2)
    n, hour = 0, spike_hour - timedelta(days=4)
    while hour < hour_of(now):
        for _ in range(rng.choice((0, 1, 1, 2))):
            n += 1
            post(feed, n, rng.choice(CALM), hour + timedelta(minutes=rng.randint(0, 59)))
        hour += timedelta(hours=1)
    for k in range(40):
        post(feed, 1000 + k, SPIKE, spike_hour + timedelta(minutes=k))
    run_until_empty()
    read_as("complaint", text=SPIKE)
    made = alerts.check(now)
    assert [a.hour for a in made if a.key == "intent:complaint"] == [spike_hour]
    assert topic_rising(["complaint"], now) and topic_rising(["entity:Acme", "complaint"], now)
    assert not topic_rising(["complaint"], now + timedelta(days=2))  # a day after the alert it is over
    assert not topic_rising(["praise"], now)


def test_rising_topic_follows_the_detector_not_a_raw_count(feed):
    """Six complaints in a day where none came before: twice the week's average, which the old count took for
    a rising topic; the detector (a quiet topic, no alert) does not, while an entity keeps the count."""
    now = timezone.now()
    for k in range(6):
        post(feed, k, "Acme Lieferung verspätet, Paket kaputt, ich will mein Geld zurück!",
             now - timedelta(hours=3, minutes=-k))
    run_until_empty()
    read_as("complaint", text__contains="Acme")
    assert alerts.check(now) == [] and not topic_rising(["complaint"], now)
    assert alerts.topic_rising("entity:Acme", now) is None  # entities: no detector, the rules count them
