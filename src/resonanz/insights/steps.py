"""The pipeline step: after the engine read a batch, store its facts, match the listening queries and
recount the hours it touched. Runs after ``understanding.steps.analyze`` (INSTALLED_APPS order)."""

from __future__ import annotations

from resonanz.core.events import publish
from resonanz.insights.facts import match_facts, refresh_rollups, write_facts
from resonanz.insights.matching import active_queries


def record(items: list) -> None:
    pairs = write_facts(items)
    if not pairs:
        return
    hours = match_facts(pairs, active_queries())
    refresh_rollups(hours)
    publish("insights.counted", hours=len(hours), items=len(pairs))
