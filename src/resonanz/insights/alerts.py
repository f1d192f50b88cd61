"""Early warning: the engine's spike detector fed with the hourly rollups, one detector per watched series.

Watched: the volume and the negative share of every enabled listening query and of all items, the
volume of every intent (a topic), and the volume of every catalog entity (a product, brand or competitor
named in items) that had at least ``ENTITY_MIN_ITEMS`` items in the last ``HISTORY_DAYS`` (the
``ENTITY_MAX`` busiest; a product nobody names costs no detector). The detector's minimum volume and
cooldown apply to every series alike, so a quiet product does not alarm on three posts. Each detector's state is saved (``DetectorState``) and fed only the
hours completed since its last run; a new detector first replays up to ``HISTORY_DAYS`` of counted hours
so it knows the series' rhythm before it may alert (its warm-up is in the detector). An alert names what
spiked, the observed and expected level, the driving terms of the spike against the week before and the
first items; it is stored, shown in the desk and sent on the channels each team chose (in-app
notification, email, signed webhook: ``insights.delivery``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from resonanz.analysis.alerts import DetectorConfig, SpikeDetector
from resonanz.analysis.terms import driving_terms
from resonanz.core.events import publish
from resonanz.insights import delivery
from resonanz.insights.facts import hour_of
from resonanz.insights.models import (
    Alert,
    DetectorState,
    EntityRollup,
    Fact,
    IntentRollup,
    ListeningQuery,
    Rollup,
)
from resonanz.insights.topics import entity_key
from resonanz.understanding.models import INTENTS

log = logging.getLogger("resonanz.insights")
HOUR = timedelta(hours=1)
HISTORY_DAYS = 35
SAMPLE = 400
ENTITY_MIN_ITEMS = 20
ENTITY_MAX = 100


@dataclass
class Watched:
    key: str
    kind: str                  # volume or negative
    label: str
    query: ListeningQuery | None = None
    intent: str = ""
    entity: str = ""           # "competitor:Globex"


def watched_entities(end: datetime) -> list[tuple[str, str]]:
    """(kind, name) of the entities worth a detector: named in enough items lately, the busiest first."""
    rows = (EntityRollup.objects.filter(query_id=0, hour__gte=end - timedelta(days=HISTORY_DAYS), hour__lt=end)
            .values("kind", "entity").annotate(c=Sum("n")).filter(c__gte=ENTITY_MIN_ITEMS)
            .order_by("-c", "entity", "kind"))
    return [(r["kind"], r["entity"]) for r in rows[:ENTITY_MAX]]


def watched(end: datetime | None = None) -> list[Watched]:
    out = [Watched("volume:all", "volume", "all items"), Watched("negative:all", "negative", "all items")]
    for q in ListeningQuery.objects.filter(enabled=True):
        out += [Watched(f"volume:q{q.pk}", "volume", f"“{q.name}”", q),
                Watched(f"negative:q{q.pk}", "negative", f"“{q.name}”", q)]
    out += [Watched(f"intent:{value}", "volume", f"intent {value}", intent=value) for value, _ in INTENTS
            if value != "spam"]
    out += [Watched(f"entity:{entity_key(kind, name)}", "volume", f"{kind} “{name}”", entity=entity_key(kind, name))
            for kind, name in watched_entities(end or hour_of(timezone.now()))]
    return out


def _series(w: Watched, start: datetime, end: datetime) -> dict[datetime, tuple[int, int]]:
    """Per hour in [start, end): (value, total) — the count, or the negatives and all items."""
    if w.intent:
        rows = (IntentRollup.objects.filter(query_id=0, intent=w.intent, hour__gte=start, hour__lt=end)
                .values("hour").annotate(c=Sum("n")))
        return {r["hour"]: (r["c"], r["c"]) for r in rows}
    if w.entity:
        kind, name = w.entity.split(":", 1)
        rows = (EntityRollup.objects.filter(query_id=0, kind=kind, entity=name, hour__gte=start, hour__lt=end)
                .values("hour").annotate(c=Sum("n")))
        return {r["hour"]: (r["c"], r["c"]) for r in rows}
    qid = w.query.pk if w.query else 0
    rows = (Rollup.objects.filter(query_id=qid, hour__gte=start, hour__lt=end).values("hour")
            .annotate(c=Sum("n"), neg=Sum("n", filter=Q(sentiment="negative"))))
    return {r["hour"]: ((r["c"] if w.kind == "volume" else r["neg"] or 0), r["c"]) for r in rows}


def check(now: datetime | None = None) -> list[Alert]:
    """Feed every watched series up to the last complete hour; returns the alerts raised."""
    end = hour_of(now or timezone.now())  # the current hour is not complete yet
    made = []
    for w in watched(end):
        try:
            made += _check_one(w, end)
        except Exception:  # one broken series never stops the others
            log.exception("spike detection failed for %s", w.key)
    return made


def _check_one(w: Watched, end: datetime) -> list[Alert]:
    saved = DetectorState.objects.filter(key=w.key).first()
    if saved is not None:
        try:
            det = SpikeDetector.from_state(saved.state)
            start = saved.last_hour + HOUR
        except ValueError:
            saved = None
    if saved is None:
        first = Rollup.objects.filter(hour__gte=end - timedelta(days=HISTORY_DAYS)).order_by("hour").first()
        if first is None:
            return []
        det, start = SpikeDetector(DetectorConfig(step=3600.0)), first.hour
    if start >= end:
        return []
    series = _series(w, start, end)
    made = []
    hour = start
    while hour < end:
        value, total = series.get(hour, (0, 0))
        alert = det.update(hour, value, total) if w.kind == "negative" else det.update(hour, value)
        if alert is not None:
            made.append(_store(w, hour, alert))
        hour += HOUR
    DetectorState.objects.update_or_create(key=w.key, defaults={"state": det.to_state(), "last_hour": end - HOUR})
    return [a for a in made if a is not None]


def _facts(w: Watched, start: datetime, end: datetime):
    facts = Fact.objects.filter(hour__gte=start, hour__lt=end)
    if w.query is not None:
        facts = facts.filter(mentions__query=w.query)
    if w.intent:
        facts = facts.filter(intents__contains=f",{w.intent},")
    if w.entity:
        facts = facts.filter(entities__contains=f",{w.entity},")
    if w.kind == "negative":
        facts = facts.filter(sentiment="negative")
    return facts


def _texts(facts) -> list[tuple[str, str]]:
    rows = facts.select_related("post", "message").order_by("-at")[:SAMPLE]
    return [((f.post or f.message).analysis_text, f.language) for f in rows]


def _store(w: Watched, hour: datetime, alert) -> Alert | None:
    window_start = hour + HOUR - timedelta(seconds=alert.window)
    spike = _facts(w, window_start, hour + HOUR)
    baseline = _facts(w, window_start - timedelta(days=7), window_start)
    selected = _texts(spike)
    # A spike is often a few dozen texts: the z-score of so few is modest, so a one-sided 95 % bar and a term
    # in at least a fifth of the spike's texts (a word two posts share is no reason).
    terms = [t.to_dict() for t in driving_terms(selected, _texts(baseline), top=8, min_count=max(2, len(selected) // 5),
                                                min_z=1.645)]
    first = list(spike.order_by("at").values_list("pk", flat=True)[:5])
    what = "Volume" if w.kind == "volume" else "Negative share"
    label = f"{what} of {w.label}"
    try:
        with transaction.atomic():
            stored = Alert.objects.create(key=w.key, kind=w.kind, query=w.query, label=label, hour=hour,
                                          observed=alert.observed, expected=alert.expected, score=alert.score,
                                          terms=terms, fact_ids=first)
    except IntegrityError:  # another worker raised it first
        return None
    publish("insights.alert", alert_id=stored.pk, key=w.key)
    if hour >= timezone.now() - timedelta(hours=3):  # a replay of old history does not email anyone
        notify(stored)
    return stored


def how_far(alert: Alert) -> str:
    """How far above the expected level: "4.2 times" (or the points of a share)."""
    if alert.kind == "negative":
        return f"+{100 * (alert.observed - alert.expected):.0f} points"
    return f"{alert.observed / alert.expected:.1f} times the expected level" if alert.expected > 0 else "from nothing"


def describe(alert: Alert) -> str:
    level = (f"{alert.observed:.0%} negative where {alert.expected:.0%} was usual" if alert.kind == "negative"
             else f"{alert.observed:g} items where {alert.expected:.1f} were expected")
    level += f" ({how_far(alert)})"
    terms = ", ".join(t["term"] for t in alert.terms[:6]) or "no single term stands out"
    return f"{alert.label} at {alert.hour:%Y-%m-%d %H:00}: {level}. Driving terms: {terms}."


def notify(alert: Alert) -> None:
    """On the channels each team chose (in-app, email, signed webhook; ``insights.delivery``)."""
    delivery.deliver_later(alert.pk, describe(alert))


def recent(limit: int = 20) -> list[Alert]:
    return list(Alert.objects.select_related("query")[:limit])


RISING_FOR = timedelta(hours=24)


def topic_rising(label: str, now: datetime) -> bool | None:
    """The rules' “rising topic” for an intent or an entity ("entity:Globex"): its volume detector alerted in
    the last 24 hours (the ``topic_rising`` hook). Topics no detector watches (spam, an entity too rarely
    named to have one) are left to the rules' own count."""
    if label.startswith("entity:"):
        name = entity_key("", label[7:])[1:]
        keys = list(DetectorState.objects.filter(key__startswith="entity:", key__endswith=f":{name}")
                    .values_list("key", flat=True))
        keys = [k for k in keys if k.split(":", 2)[2:] == [name]]
        if not keys:
            return None
        return Alert.objects.filter(key__in=keys, hour__gte=now - RISING_FOR - HOUR).exists()
    if not label or label == "spam" or label not in dict(INTENTS):
        return None
    return Alert.objects.filter(key=f"intent:{label}", hour__gte=now - RISING_FOR - HOUR).exists()
