"""Urgency levels and named entities as facts keep them, and the catch-up for facts stored before they were kept.

A fact keeps the urgency as a level (the dashboard counts levels, not a float) and the catalog entities the
engine found as ``",kind:Name,"`` pairs, so a substring filter finds the items naming one entity on SQLite and
PostgreSQL alike (as ``intents`` does). A comma in a catalog name would break that, so it becomes a space.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from resonanz.insights.models import Fact

URGENCY_LEVELS = ("high", "medium", "low")
HIGH, MEDIUM = 0.7, 0.4   # the bot hands over from 0.7 (``knowledge.bot``); the demo ranks from 0.5 up as urgent
ENTITY_KINDS = ("product", "brand", "competitor", "company")


def urgency_level(urgency: float | None) -> str:
    if urgency is None:
        return "low"
    return "high" if urgency >= HIGH else "medium" if urgency >= MEDIUM else "low"


def entity_key(kind: str, name: str) -> str:
    return f"{kind}:{' '.join(name.replace(',', ' ').split())[:120]}"


def encode_entities(entities: list[dict]) -> str:
    """``",competitor:Globex,product:Kettle,"`` (each entity once, sorted); "" when none was found."""
    keys = sorted({entity_key(e.get("kind") or "product", e["name"]) for e in entities or [] if e.get("name")})
    out = "," + ",".join(keys) + "," if keys else ""
    while len(out) > 1000:  # the column's size: drop the last names rather than fail
        keys.pop()
        out = "," + ",".join(keys) + "," if keys else ""
    return out


def decode_entities(value: str) -> list[tuple[str, str]]:
    """(kind, name) pairs of a fact's ``entities``."""
    return [tuple(k.split(":", 1)) for k in value.split(",") if ":" in k]  # type: ignore[misc]


def missing() -> int:
    """Facts from before urgency and entities were kept (``urgency`` still "")."""
    return Fact.objects.filter(urgency="").count()


def catch_up(progress: Callable[[int], None] | None = None, chunk: int = 2000) -> int:
    """Fill urgency and entities of older facts from their analyses and recount their hours (every rollup,
    so the new urgency and entity rollups hold them); safe next to a running worker, chunk by chunk."""
    from resonanz.insights.facts import refresh_rollups
    from resonanz.understanding.models import Analysis

    done = 0
    while True:
        facts = list(Fact.objects.filter(urgency="").order_by("pk")[:chunk])
        if not facts:
            return done
        by_post = {f.post_id: f for f in facts if f.post_id}
        by_message = {f.message_id: f for f in facts if f.message_id}
        readings: dict[int, tuple[float, list]] = {}
        for a in Analysis.objects.filter(post_id__in=list(by_post)).only("post_id", "urgency", "result"):
            readings[by_post[a.post_id].pk] = (a.urgency, a.entities)
        for a in Analysis.objects.filter(message_id__in=list(by_message)).only("message_id", "urgency", "result"):
            readings[by_message[a.message_id].pk] = (a.urgency, a.entities)
        with transaction.atomic():
            for f in facts:
                urgency, entities = readings.get(f.pk, (None, []))
                Fact.objects.filter(pk=f.pk).update(urgency=urgency_level(urgency),
                                                    entities=encode_entities(entities))
        refresh_rollups({f.hour for f in facts})
        done += len(facts)
        if progress:
            progress(len(facts))
