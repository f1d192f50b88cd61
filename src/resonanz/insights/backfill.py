"""Matching a listening query over the items stored before it (or before it changed), with progress.

The worker runs ``backfill_task`` after a query is saved and writes its progress on the query row (the desk
shows it); ``resonanz insights backfill`` runs the same code in a terminal with a progress bar. Items
analysed before insights existed get their facts first (``ensure_facts``).
"""

from __future__ import annotations

from collections.abc import Callable

from celery import shared_task

from resonanz.core.events import publish
from resonanz.inbox.models import Message
from resonanz.insights.facts import match_facts, refresh_rollups, write_facts
from resonanz.insights.matching import compile_query
from resonanz.insights.models import Fact, ListeningQuery, Mention
from resonanz.listening.models import Post
from resonanz.understanding.models import Analysis

BACKFILL_CHUNK = 500


def ensure_facts(progress: Callable[[int], None] | None = None) -> int:
    """Facts for items analysed before insights existed (or while its step was off); returns how many."""
    done = 0
    for kind in ("post", "message"):
        model = Post if kind == "post" else Message
        while True:
            ids = list(Analysis.objects.filter(**{f"{kind}__isnull": False, f"{kind}__fact__isnull": True})
                       .values_list(f"{kind}_id", flat=True)[:BACKFILL_CHUNK])
            if not ids:
                break
            items = list(model.objects.filter(pk__in=ids).select_related("channel"))
            pairs = write_facts(items)
            refresh_rollups({f.hour for f, _ in pairs})
            done += len(items)
            if progress:
                progress(len(items))
            if len(pairs) < len(items):  # nothing more can be written for these; avoid looping on them
                break
    return done


def run_backfill(query_id: int, progress: Callable[[int], None] | None = None) -> int:
    """Match one query over every stored fact, writing progress on the query; returns the mentions it has."""
    query = ListeningQuery.objects.filter(pk=query_id).first()
    if query is None:
        return 0
    ensure_facts()
    compiled = [compile_query(query)]
    facts = Fact.objects.all()
    if not query.include_messages:
        facts = facts.filter(post__isnull=False)
    total = facts.count()
    ListeningQuery.objects.filter(pk=query_id).update(backfill_state=ListeningQuery.Backfill.RUNNING,
                                                      backfill_done=0, backfill_total=total, backfill_error="")
    # Mentions of items now out of scope (a message after include_messages was switched off) go first.
    stale_hours = set(Mention.objects.filter(query_id=query_id).exclude(fact__in=facts)
                      .values_list("hour", flat=True))
    Mention.objects.filter(query_id=query_id).exclude(fact__in=facts).delete()
    hours, done, last = set(stale_hours), 0, 0
    try:
        while True:
            chunk = list(facts.filter(pk__gt=last).order_by("pk").select_related(
                "post", "post__channel", "message", "message__channel")[:BACKFILL_CHUNK])
            if not chunk:
                break
            last = chunk[-1].pk
            pairs = [(f, f.post or f.message) for f in chunk]
            hours |= match_facts(pairs, compiled, only_query=query_id)
            done += len(chunk)
            ListeningQuery.objects.filter(pk=query_id).update(backfill_done=done)
            if progress:
                progress(len(chunk))
        refresh_rollups(hours)
    except Exception as exc:
        ListeningQuery.objects.filter(pk=query_id).update(backfill_state=ListeningQuery.Backfill.FAILED,
                                                          backfill_error=str(exc)[:2000])
        raise
    count = Mention.objects.filter(query_id=query_id).count()
    ListeningQuery.objects.filter(pk=query_id).update(backfill_state=ListeningQuery.Backfill.IDLE,
                                                      backfill_done=total, mention_count=count)
    publish("listening_query.matched", query_id=query_id, mentions=count)
    return count


@shared_task(name="resonanz.insights.tasks.backfill")
def backfill_task(query_id: int) -> int:
    return run_backfill(query_id)
