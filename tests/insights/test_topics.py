"""Urgency and entities on the dashboard, spikes per entity, and the idea clusters with their trend.

The urgency and entity rollups are kept by the pipeline as items arrive and must give exactly what the raw
facts give, for every period, query and whole-day/partial-day split; an entity named in a burst of posts
raises its own alert, delivered like the others; the dashboard's new charts open the items behind each bar.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from resonanz.automation.fields import topic_rising
from resonanz.core.pipeline import run_until_empty
from resonanz.inbox.actions import invite_agent
from resonanz.insights import actions, alerts, dashboard, ideas, topics
from resonanz.insights.dashboard import Selection
from resonanz.insights.facts import hour_of, refresh_rollups
from resonanz.insights.models import (
    Alert,
    DailyEntityRollup,
    DailyUrgencyRollup,
    EntityRollup,
    Fact,
    ListeningQuery,
    Notification,
    UrgencyRollup,
)
from resonanz.listening.actions import InboundPost, ingest_post
from resonanz.understanding.models import Analysis, CatalogEntry

pytestmark = pytest.mark.django_db

TEXTS = [
    "Acme Wasserkocher ist kaputt, ich brauche sofort Ersatz, dringend!",
    "Globex liefert pünktlich, sehr zufrieden.",
    "Der Acme Wasserkocher ist super, danke!",
    "Globex ist zu teuer und der Support antwortet nie.",
    "Wie entkalke ich den Acme Toaster?",
    "Heute schönes Wetter, nichts über Firmen.",
    "Acme und Globex im Vergleich: beide okay.",
]


@pytest.fixture
def catalog(db):
    CatalogEntry.objects.create(name="Acme", kind="brand")
    CatalogEntry.objects.create(name="Globex", kind="competitor")
    CatalogEntry.objects.create(name="Wasserkocher", kind="product", aliases="Kettle")
    CatalogEntry.objects.create(name="Initech", kind="competitor")


def post(channel, ext, text, at):
    return ingest_post(channel, InboundPost(external_id=ext, text=text, published_at=at,
                                            source="https://blog.example/feed", source_title="Blog")).post


@pytest.fixture
def spread(feed, catalog):
    """Posts over the last 100 days at every hour of the day, and a brand query."""
    actions.save_query(None, None, name="Acme", expression="Acme", tag="brand")
    rng = random.Random(5)
    now = timezone.now()
    for k in range(120):
        post(feed, f"s{k}", TEXTS[k % len(TEXTS)], now - timedelta(hours=rng.randint(0, 100 * 24)))
    run_until_empty()


def raw_urgency(sel: Selection) -> Counter:
    return Counter(dict((u, sel.facts().filter(urgency=u).count()) for u in topics.URGENCY_LEVELS))


def raw_entities(sel: Selection) -> Counter:
    found: Counter = Counter()
    for value, sentiment in sel.facts().values_list("entities", "sentiment"):
        for kind, name in topics.decode_entities(value):
            found[(kind, name, sentiment)] += 1
    return found


def rolled_entities(sel: Selection) -> Counter:
    return Counter({(r["kind"], r["entity"], s): r[s] for r in dashboard.entities(sel, top=1000)
                    for s in dashboard.SENTIMENT_ORDER if r[s]})


def assert_exact(query=None):
    for period in dashboard.PERIODS:
        sel = Selection(days=period, query=query)
        assert Counter({r["urgency"]: r["n"] for r in dashboard.urgency(sel)}) == raw_urgency(sel), period
        assert rolled_entities(sel) == raw_entities(sel), period


def test_the_engine_reading_lands_on_the_fact(spread):
    fact = Fact.objects.get(post__external_id="s0")  # the broken kettle, needed at once
    analysis = Analysis.objects.get(post=fact.post)
    assert fact.urgency == topics.urgency_level(analysis.urgency) and analysis.urgency >= topics.MEDIUM
    assert fact.entities == ",brand:Acme,product:Wasserkocher,"
    assert Fact.objects.get(post__external_id="s5").entities == ""  # the weather names nobody


def test_urgency_and_entity_rollups_equal_the_raw_facts_for_every_period_and_query(spread, feed):
    assert EntityRollup.objects.exists() and DailyEntityRollup.objects.exists() and DailyUrgencyRollup.objects.exists()
    assert_exact()
    assert_exact(ListeningQuery.objects.get(name="Acme"))
    # the worker keeps them as items arrive: a new post counts at once, in the hour and the day
    before = {r["entity"]: r["n"] for r in dashboard.entities(Selection(days=30))}
    post(feed, "new", "Globex hat mein Paket verloren, unverschämt!", timezone.now() - timedelta(minutes=5))
    run_until_empty()
    after = {r["entity"]: r["n"] for r in dashboard.entities(Selection(days=30))}
    assert after["Globex"] == before["Globex"] + 1
    assert_exact()
    # a re-count of the same hours never counts twice
    refresh_rollups(set(Fact.objects.values_list("hour", flat=True)))
    assert_exact()


def test_entities_carry_their_sentiment_and_the_previous_period(spread):
    rows = {r["entity"]: r for r in dashboard.entities(Selection(days=30))}
    assert {"Acme", "Globex", "Wasserkocher"} <= set(rows)
    g = rows["Globex"]
    assert g["kind"] == "competitor" and g["key"] == "competitor:Globex"
    raw = Selection(days=30).facts().filter(entities__contains=",competitor:Globex,")
    assert {s: g[s] for s in dashboard.SENTIMENT_ORDER} == {s: raw.filter(sentiment=s).count()
                                                         for s in dashboard.SENTIMENT_ORDER}
    assert g["n"] == raw.count() and len({g[s] > 0 for s in dashboard.SENTIMENT_ORDER}) == 2  # a real split
    raw_prev = Selection(days=30).previous.facts().filter(entities__contains=",competitor:Globex,").count()
    assert g["previous"] == raw_prev


def test_facts_from_before_are_caught_up_by_setup(spread):
    expected_u = raw_urgency(Selection(days=365))
    expected_e = raw_entities(Selection(days=365))
    Fact.objects.update(urgency="", entities="")
    UrgencyRollup.objects.all().delete()
    EntityRollup.objects.all().delete()
    assert topics.missing() == Fact.objects.count()
    from io import StringIO

    from resonanz.insights.apps import InsightsConfig
    InsightsConfig.on_setup(StringIO())
    assert topics.missing() == 0
    assert raw_urgency(Selection(days=365)) == expected_u and raw_entities(Selection(days=365)) == expected_e
    assert_exact()


# --- spikes per entity -----------------------------------------------------------------------------------------

CALM = ["Globex Angebot gesehen.", "Bei Globex im Laden gewesen.", "Globex Newsletter gelesen.",
        "Acme Kundenservice war nett.", "Wie entkalke ich den Acme Toaster?"]
SPIKE = "Globex Störung: Internet seit Stunden weg, Hotline überlastet!"


def test_an_entity_spike_raises_its_own_alert_delivered_like_the_others(feed, catalog, teams):
    invite_agent("lead@example.com", display_name="Lea Lead", role="supervisor", password="pw-lead-1234")
    rng = random.Random(11)
    now = timezone.now()
    spike_hour = hour_of(now) - timedelta(hours=2)
    n, hour = 0, spike_hour - timedelta(days=4)
    while hour < hour_of(now):
        for _ in range(rng.choice((0, 1, 1, 2))):
            n += 1
            post(feed, f"c{n}", rng.choice(CALM), hour + timedelta(minutes=rng.randint(0, 59)))
        hour += timedelta(hours=1)
    for k in range(30):
        post(feed, f"g{k}", SPIKE if k % 2 else SPIKE.replace("Stunden", "Tagen"), spike_hour + timedelta(minutes=k))
    for k in range(3):  # a competitor nobody names: three posts are no reason for a detector
        post(feed, f"i{k}", "Initech Störung, alles weg!", spike_hour + timedelta(minutes=k))
    run_until_empty()
    assert ("competitor", "Globex") in alerts.watched_entities(hour_of(now))
    assert ("competitor", "Initech") not in alerts.watched_entities(hour_of(now))
    made = alerts.check(now)
    entity = [a for a in made if a.key == "entity:competitor:Globex"]
    assert len(entity) == 1 and entity[0].hour == spike_hour, [a.key for a in made]
    a = entity[0]
    assert a.entity == "Globex" and a.entity_kind == "competitor" and "Globex" in a.label
    assert a.observed >= 30 and a.ratio and a.ratio > 3
    assert {"störung", "hotline", "internet", "überlasten"} & {t["term"] for t in a.terms}, a.terms
    assert len(a.fact_ids) == 5 and all("Globex" in (Fact.objects.get(pk=f).post.text) for f in a.fact_ids)
    assert not any(x.key.startswith("entity:") and "Initech" in x.key for x in made)
    # delivered as every alert is: with no channel chosen, in-app and email to the supervisors
    assert Notification.objects.filter(alert=a).exists()
    assert any("Globex" in m.subject and "times the expected level" in m.body for m in mail.outbox)
    # the rules' rising topic asks this detector for the entity, and keeps its own count for one without
    assert topic_rising(["entity:Globex"], now)
    assert alerts.topic_rising("entity:Initech", now) is None
    assert alerts.topic_rising("entity:Globex", now + timedelta(days=2)) is False
    # the cooldown: no second alert for the same burst
    assert [x for x in alerts.check(now + timedelta(hours=1)) if x.key == a.key] == []
    client = Client()
    client.force_login(invite_agent("sup@example.com", display_name="Sup", role="supervisor",
                                    password="pw-sup-12345", language="de"))
    page = client.get(f"/insights/alerts/{a.pk}/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Wettbewerber „Globex“" in page and "-Fache des erwarteten Niveaus" in page
    api = client.get(f"/api/alerts/{a.pk}/").json()
    assert (api["entity"], api["entity_kind"], api["intent"]) == ("Globex", "competitor", "") and api["ratio"] > 3


def test_a_webhook_names_the_entity(feed, catalog):
    alert = Alert.objects.create(key="entity:competitor:Globex", kind="volume", label="Volume of competitor “Globex”",
                                 hour=hour_of(timezone.now()), observed=30, expected=6, score=5)
    from resonanz.insights.delivery import payload
    body = payload(alert, "text")["alert"]
    assert body["entity"] == "Globex" and body["entity_kind"] == "competitor" and body["ratio"] == 5.0


# --- the dashboard -----------------------------------------------------------------------------------------------

@pytest.fixture
def lead(teams):
    client = Client()
    client.force_login(invite_agent("sara@example.com", display_name="Sara Super", role="supervisor",
                                    password="pw-super-123", language="de"))
    return client


def test_urgency_and_entity_charts_open_the_items_behind_each_bar(spread, lead):
    complaints = Fact.objects.filter(post__text__contains="zu teuer")
    complaints.update(intents=",complaint,")
    refresh_rollups(set(complaints.values_list("hour", flat=True)))
    html = lead.get("/insights/", {"days": "365"}, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Anliegen und Dringlichkeit" in html and "Produkte und Wettbewerber" in html
    assert "/insights/items/?days=365&amp;entity=competitor%3AGlobex" in html
    assert "/insights/items/?days=365&amp;urgency=high" in html
    assert "/insights/items/?days=365&amp;intent=complaint" in html
    listed = lead.get("/insights/items/", {"days": "365", "intent": "complaint"}).content.decode()
    assert listed.count("<li>") == complaints.count() and "zu teuer" in listed
    page = lead.get("/insights/items/", {"days": "365", "entity": "competitor:Globex"},
                    HTTP_ACCEPT_LANGUAGE="de").content.decode()
    globex = Fact.objects.filter(entities__contains=",competitor:Globex,").count()
    assert f"{globex} Einträge" in page and "Wettbewerber: Globex" in page
    assert "Globex" in page and "Wetter" not in page
    urgent = lead.get("/insights/items/", {"days": "365", "urgency": "high"}).content.decode()
    assert urgent.count("<li>") == Fact.objects.filter(urgency="high").count()
    csv = lead.get("/insights/export/entities.csv", {"days": "365"}).content.decode().splitlines()
    assert csv[0] == "entity,kind,items,negative,neutral,positive,previous_period"
    assert any(line.startswith(f"Globex,competitor,{globex},") for line in csv)
    csv = lead.get("/insights/export/urgency.csv", {"days": "365"}).content.decode().splitlines()
    assert csv[0] == "urgency,items,previous_period" and len(csv) == 4
    data = lead.get("/api/insights/dashboard/", {"days": 365}).json()  # the API gives the same figures
    assert data["urgency"] == dashboard.urgency(Selection(days=365))
    assert [(r["key"], r["n"]) for r in data["entities"]] == [(r["key"], r["n"]) for r in
                                                              dashboard.entities(Selection(days=365))]


IDEAS_NOW = ["Bitte einen Dunkelmodus für die App, nachts zu hell.", "Ein Dunkelmodus in der App wäre toll.",
             "Dunkelmodus für die App bitte, abends blendet sie.", "Die App braucht einen Dunkelmodus."]
IDEAS_BEFORE = ["Export als CSV wäre praktisch.", "Bitte einen CSV Export der Rechnungen.",
                "Dunkelmodus in der App wünsche ich mir."]


def read_as_suggestion(ext_prefix: str) -> None:
    Analysis.objects.filter(post__external_id__startswith=ext_prefix).update(intent_labels=",suggestion,")
    facts = Fact.objects.filter(post__external_id__startswith=ext_prefix)
    facts.update(intents=",suggestion,")
    refresh_rollups(set(facts.values_list("hour", flat=True)))


def test_idea_clusters_show_size_trend_and_examples(feed, lead):
    now = timezone.now()
    for k, text in enumerate(IDEAS_NOW):
        post(feed, f"idea-now-{k}", text, now - timedelta(days=2 + 7 * k))
    for k, text in enumerate(IDEAS_BEFORE):
        post(feed, f"idea-before-{k}", text, now - timedelta(days=35 + k))
    post(feed, "idea-not", "Dunkelmodus App kaputt?", now - timedelta(days=1))  # not read as a suggestion
    run_until_empty()
    read_as_suggestion("idea-")
    Analysis.objects.filter(post__external_id="idea-not").update(intent_labels=",question,")
    Fact.objects.filter(post__external_id="idea-not").update(intents=",question,")
    sel = Selection(days=30)
    found = ideas.clusters(sel)
    dark = [g for g in found["groups"] if "dunkelmodus" in g["label"]]
    assert len(dark) == 1, found["groups"]
    g = dark[0]
    assert g["size"] == 4 and g["previous"] == 1 and g["change"] == 3.0
    assert g["weeks"] == [0, 1, 1, 1, 1]  # one a week, the newest in the last week of the period
    assert all("Dunkelmodus" in e["text"] for e in g["examples"]) and len(g["posts"]) == 4
    assert not any("CSV" in e["text"] for grp in found["groups"] for e in grp["examples"])  # only before: no news
    html = lead.get("/insights/ideas/", {"days": "30"}, HTTP_ACCEPT_LANGUAGE="de",
                    HTTP_X_REQUESTED_WITH="fetch").content.decode()
    assert 'class="sparkline"' in html and "4 Einträge" in html and "+300 %" in html
    assert "/moderation/ideas/clusters/new/" in html  # a supervisor may make a community idea of it
    csv = lead.get("/insights/export/ideas.csv", {"days": "30"}).content.decode().splitlines()
    assert csv[0] == "cluster,items,previous_period,per_step,example"
    assert csv[1].split(",")[1:4] == ["4", "1", "0 1 1 1 1"]
