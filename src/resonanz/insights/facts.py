"""Facts, mentions and rollups: what the pipeline step and the backfill write.

Every write here is idempotent: facts are keyed by their item, mentions by (query, fact), and rollups
are recomputed from facts for the hours a batch touched (delete and count again in one transaction; the days
those hours belong to are summed again from them in the same transaction, ``insights/days.py``), so
a retried batch, a post re-read after a change at its source, or a backfill running next to the worker
never counts an item twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Count

from resonanz.insights import days, topics
from resonanz.insights.matching import Compiled, matching_ids
from resonanz.insights.models import EntityRollup, Fact, IntentRollup, Mention, Rollup, UrgencyRollup
from resonanz.understanding.models import Analysis


def hour_of(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def item_time(item) -> datetime:
    if item.pipeline_kind == "post":
        return item.published_at or item.fetched_at
    return item.received_at or item.sent_at or item.created_at


def write_facts(items: list) -> list[tuple[Fact, object]]:
    """Store (or refresh) the fact of every analysed item; returns (fact, item) pairs and the old hours."""
    if not items:
        return []
    kind = items[0].pipeline_kind
    analyses = {a.pk_item: a for a in _analyses(kind, items)}
    existing = {getattr(f, f"{kind}_id"): f for f in Fact.objects.filter(**{f"{kind}__in": items})}
    out = []
    for item in items:
        a = analyses.get(item.pk)
        if a is None:
            continue
        at = item_time(item)
        values = dict(at=at, hour=hour_of(at), channel_id=item.channel_id, language=a.language,
                      sentiment=a.sentiment, intents=a.intent_labels, urgency=topics.urgency_level(a.urgency),
                      entities=topics.encode_entities(a.entities),
                      author=(getattr(item, "author_handle", "") or getattr(item, "author", ""))[:320]
                      if kind == "post" else str(item.author_contact_id or ""),
                      reach=getattr(item, "reach", None), is_demo=bool(getattr(item, "is_demo", False)))
        fact = existing.get(item.pk)
        if fact is None:
            fact = Fact(**{kind: item}, **values)
            try:
                with transaction.atomic():
                    fact.save()
            except IntegrityError:  # another worker stored it first
                fact = Fact.objects.get(**{kind: item})
        else:
            old_hour = fact.hour
            changed = any(getattr(fact, k if k != "channel_id" else "channel_id") != v for k, v in values.items())
            if changed:
                for k, v in values.items():
                    setattr(fact, k, v)
                fact.save()
            fact.old_hour = old_hour
        out.append((fact, item))
    return out


def _analyses(kind: str, items: list) -> Iterable[Analysis]:
    for a in Analysis.objects.filter(**{f"{kind}__in": items}).only(
            f"{kind}_id", "language", "sentiment", "intent_labels", "urgency", "result"):
        a.pk_item = getattr(a, f"{kind}_id")
        yield a


def match_facts(pairs: list[tuple[Fact, object]], queries: list[Compiled], *,
                only_query: int | None = None) -> set[datetime]:
    """Write the mentions of these facts (adding new, removing those that no longer match); the hours touched."""
    if not pairs:
        return set()
    wanted: set[tuple[int, int]] = set()
    for fact, item in pairs:
        kind = getattr(item.channel, "kind", "") if hasattr(item, "channel") else ""
        for qid in matching_ids(queries, item.analysis_text, is_post=item.pipeline_kind == "post",
                                language=fact.language, channel_id=fact.channel_id, channel_kind=kind):
            wanted.add((qid, fact.pk))
    facts = {f.pk: f for f, _ in pairs}
    current = Mention.objects.filter(fact_id__in=list(facts))
    if only_query is not None:
        current = current.filter(query_id=only_query)
    have = set(current.values_list("query_id", "fact_id"))
    gone = have - wanted
    with transaction.atomic():
        for qid, fid in gone:
            Mention.objects.filter(query_id=qid, fact_id=fid).delete()
        Mention.objects.bulk_create([Mention(query_id=q, fact_id=f, hour=facts[f].hour) for q, f in wanted - have],
                                    ignore_conflicts=True)
    hours = {f.hour for f in facts.values()} | {getattr(f, "old_hour", f.hour) for f in facts.values()}
    return hours


def refresh_rollups(hours: Iterable[datetime]) -> None:
    """Count the given hours again from the facts and mentions (all queries), replacing their rollups."""
    hours = sorted(set(hours))
    for start in range(0, len(hours), 200):
        chunk = hours[start:start + 200]
        for attempt in range(3):
            try:
                with transaction.atomic():
                    _recount(chunk)
                break
            except IntegrityError:  # another worker recounted the same hour; count again after it
                if attempt == 2:
                    raise


def _recount(hours: list[datetime]) -> None:
    Rollup.objects.filter(hour__in=hours).delete()
    IntentRollup.objects.filter(hour__in=hours).delete()
    rows = [Rollup(query_id=0, hour=r["hour"], channel_id=r["channel_id"], language=r["language"],
                   sentiment=r["sentiment"], n=r["n"])
            for r in Fact.objects.filter(hour__in=hours).values("hour", "channel_id", "language", "sentiment")
            .annotate(n=Count("id")).order_by()]
    rows += [Rollup(query_id=r["query_id"], hour=r["fact__hour"], channel_id=r["fact__channel_id"],
                    language=r["fact__language"], sentiment=r["fact__sentiment"], n=r["n"])
             for r in Mention.objects.filter(fact__hour__in=hours)
             .values("query_id", "fact__hour", "fact__channel_id", "fact__language", "fact__sentiment")
             .annotate(n=Count("id")).order_by()]
    Rollup.objects.bulk_create(rows, batch_size=1000)
    intents: Counter = Counter()
    for hour, ch, lang, labels in (Fact.objects.filter(hour__in=hours).exclude(intents="")
                                   .values_list("hour", "channel_id", "language", "intents")):
        for i in filter(None, labels.split(",")):
            intents[(0, hour, ch, lang, i)] += 1
    for qid, hour, ch, lang, labels in (Mention.objects.filter(fact__hour__in=hours).exclude(fact__intents="")
                                        .values_list("query_id", "fact__hour", "fact__channel_id",
                                                     "fact__language", "fact__intents")):
        for i in filter(None, labels.split(",")):
            intents[(qid, hour, ch, lang, i)] += 1
    IntentRollup.objects.bulk_create([IntentRollup(query_id=q, hour=h, channel_id=c, language=lg, intent=i, n=n)
                                      for (q, h, c, lg, i), n in intents.items()], batch_size=1000)
    _recount_topics(hours)
    tz = days.company_zone()
    days.recount_days({days.day_of(h, tz) for h in hours}, tz)  # the days these hours belong to, same transaction


def _recount_topics(hours: list[datetime]) -> None:
    """The urgency and entity rollups of these hours (inside ``_recount``'s transaction)."""
    UrgencyRollup.objects.filter(hour__in=hours).delete()
    EntityRollup.objects.filter(hour__in=hours).delete()
    group = ("hour", "channel_id", "language", "urgency")
    rows = [UrgencyRollup(query_id=0, n=r["n"], **{k: r[k] for k in group})
            for r in Fact.objects.filter(hour__in=hours).exclude(urgency="").values(*group)
            .annotate(n=Count("id")).order_by()]
    rows += [UrgencyRollup(query_id=r["query_id"], hour=r["fact__hour"], channel_id=r["fact__channel_id"],
                           language=r["fact__language"], urgency=r["fact__urgency"], n=r["n"])
             for r in Mention.objects.filter(fact__hour__in=hours).exclude(fact__urgency="")
             .values("query_id", *(f"fact__{k}" for k in group)).annotate(n=Count("id")).order_by()]
    UrgencyRollup.objects.bulk_create(rows, batch_size=1000)
    entities: Counter = Counter()
    for hour, ch, lang, sentiment, value in (Fact.objects.filter(hour__in=hours).exclude(entities="")
                                             .values_list("hour", "channel_id", "language", "sentiment", "entities")):
        for kind, name in topics.decode_entities(value):
            entities[(0, hour, ch, lang, kind, name, sentiment)] += 1
    for qid, hour, ch, lang, sentiment, value in (
            Mention.objects.filter(fact__hour__in=hours).exclude(fact__entities="")
            .values_list("query_id", "fact__hour", "fact__channel_id", "fact__language", "fact__sentiment",
                         "fact__entities")):
        for kind, name in topics.decode_entities(value):
            entities[(qid, hour, ch, lang, kind, name, sentiment)] += 1
    EntityRollup.objects.bulk_create([
        EntityRollup(query_id=q, hour=h, channel_id=c, language=lg, kind=k, entity=e, sentiment=s, n=n)
        for (q, h, c, lg, k, e, s), n in entities.items()], batch_size=1000)
