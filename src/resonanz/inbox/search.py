"""The inbox's full-text search: what an agent types (words, an email address, a name, RZ-321) against one
search document per conversation (subject, contact name, identities, every message; migration 0009).

Every word must occur in the conversation's document, the last one as a prefix (search as you type); a
ticket number (RZ-321, #321, 321) also finds that conversation. No stemming: SQLite folds diacritics
("kundigung" finds "Kündigung"), PostgreSQL's 'simple' configuration only lowercases.

Why two plans: a rare word is answered from the index (at most ``EXACT_LIMIT`` conversations, then sorted
and counted like any filter). A word found in most conversations would make the database collect and sort
all of them (about a second over a million messages); instead :meth:`Search.walk` reads the filtered inbox
in its own order, a batch of ids at a time, and asks the index which of those ids match, stopping once the
page is full. A word in more than ``EXACT_LIMIT`` conversations matches at least that share of the inbox,
so the walk stays short; the number of matches is then not counted (``None``).
"""

from __future__ import annotations

import re
from functools import cached_property

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL

EXACT_LIMIT = 2000  # more matching conversations than this: walk the inbox instead of sorting the matches
WALK_BATCH = 200  # ids read per step of the walk at first; later steps grow with the share that matched
WALK_MAX_BATCH = 20_000
RANGES = 4  # SQLite probes a batch of ids as at most this many rowid ranges (FTS5 seeks a range, not a list)
RANGE_GAP = 1000  # ... split only where ids are further apart than this

_WORD = re.compile(r"[^\W_]+", re.UNICODE)  # words as the index splits them: "_" separates too
_REFERENCE = re.compile(r"^\[?(?:rz-?|#)?(\d{1,12})\]?$", re.IGNORECASE)


class Search:
    """One query: its words, its ticket number, and the SQL that asks the index."""

    def __init__(self, query: str):
        query = (query or "").strip()[:200]
        self.words = _WORD.findall(query.lower())[:12]
        match = _REFERENCE.match(query)
        self.ticket = int(match.group(1)) if match else None
        self.vendor = connection.vendor

    # -- the index -------------------------------------------------------------------------------------
    def _matching_sql(self) -> tuple[str, list]:
        """SQL selecting the ids of the conversations whose document holds every word."""
        if self.vendor == "sqlite":
            expression = " ".join(f'"{w}"' for w in self.words) + "*"
            return ("SELECT rowid AS id FROM inbox_conversation_fts WHERE inbox_conversation_fts MATCH %s", [expression])
        if self.vendor == "postgresql":
            return ("SELECT conversation_id AS id FROM inbox_conversation_search "
                    "WHERE document @@ to_tsquery('simple', %s)", [self._tsquery()])
        # Resonanz runs on SQLite and PostgreSQL only (settings.database_config refuses other URLs)
        raise NotImplementedError(f"inbox search has no index for the {self.vendor} database")

    def _tsquery(self) -> str:
        return " & ".join(self.words[:-1] + [self.words[-1] + ":*"])

    @property
    def indexed(self) -> bool:
        return bool(self.words) and self.vendor in ("sqlite", "postgresql")

    @cached_property
    def _first_matches(self) -> list[int]:
        """Up to ``EXACT_LIMIT + 1`` ids from the index (in no particular order)."""
        sql, params = self._matching_sql()
        with connection.cursor() as cursor:
            cursor.execute(f"{sql} LIMIT %s", [*params, EXACT_LIMIT + 1])
            return [row[0] for row in cursor.fetchall()]

    @property
    def few(self) -> bool:
        """At most ``EXACT_LIMIT`` conversations match: filter, sort and count them like any filter."""
        return not self.indexed or len(self._first_matches) <= EXACT_LIMIT

    def condition(self) -> Q:
        """The search as a filter: the matching ids themselves when there are few (the database then looks
        up a list instead of planning around a full-text subquery), else the subquery (right for any
        number of matches, but slow to sort and count for common words: the inbox walks instead)."""
        condition = Q(pk=self.ticket) if self.ticket is not None else Q(pk__in=[])
        if self.indexed and self.few:
            condition |= Q(pk__in=self._first_matches)
        elif self.indexed:
            sql, params = self._matching_sql()
            condition |= Q(pk__in=RawSQL(sql, params))
        elif self.words:  # other databases: only the subject and the messages, slowly
            text = Q()
            for word in self.words:
                text &= Q(subject__icontains=word) | Q(messages__text__icontains=word)
            condition |= Q(pk__in=_conversations().filter(text).values("pk"))
        return condition

    def ids(self, limit: int = 2000) -> list[int]:
        """Ids of matching conversations, highest first (tests and tools; the inbox uses :meth:`walk`)."""
        if not self.indexed:
            return list(_conversations().filter(self.condition()).order_by("-pk").values_list("pk", flat=True)[:limit])
        sql, params = self._matching_sql()
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id FROM ({sql}) matching ORDER BY id DESC LIMIT %s", [*params, limit])
            found = [row[0] for row in cursor.fetchall()]
        if self.ticket is not None and self.ticket not in found and _conversations().filter(pk=self.ticket).exists():
            found = sorted([*found, self.ticket], reverse=True)[:limit]
        return found

    def _hits(self, ids: list[int]) -> set[int]:
        """Which of ``ids`` match: one indexed probe per range of ids (SQLite) or one for the list (PostgreSQL)."""
        hits = {self.ticket} & set(ids) if self.ticket is not None else set()
        if not self.indexed:
            return hits | set(_conversations().filter(self.condition(), pk__in=ids).values_list("pk", flat=True))
        sql, params = self._matching_sql()
        with connection.cursor() as cursor:
            if self.vendor == "sqlite":
                for low, high in id_ranges(ids, RANGES):
                    cursor.execute(f"{sql} AND rowid BETWEEN %s AND %s", [*params, low, high])
                    hits.update(row[0] for row in cursor.fetchall())
                return hits & set(ids)
            cursor.execute(f"{sql} AND conversation_id = ANY(%s)", [*params, list(ids)])
            return hits | {row[0] for row in cursor.fetchall()}

    # -- the walk --------------------------------------------------------------------------------------
    def walk(self, ordered: QuerySet, start: int, stop: int) -> list[int]:
        """Ids of the matching conversations at positions ``start``–``stop`` of ``ordered`` (the filtered
        inbox in its sort order, without the search): read ids in that order, keep those the index confirms,
        stop when ``stop`` are found. Batches grow with the share that matched so far."""
        ids = ordered.values_list("pk", flat=True)
        found: list[int] = []
        read, batch = 0, WALK_BATCH
        while len(found) < stop:
            chunk = list(ids[read:read + batch])
            if not chunk:
                break
            read += len(chunk)
            hits = self._hits(chunk)
            found.extend(pk for pk in chunk if pk in hits)
            share = max(len(found), 1) / read
            batch = max(WALK_BATCH, min(WALK_MAX_BATCH, int((stop - len(found)) / share * 1.25)))
        return found[start:stop]


def id_ranges(ids: list[int], parts: int, min_gap: int | None = None) -> list[tuple[int, int]]:
    """Cover ``ids`` with at most ``parts`` ranges, split at the widest gaps wider than ``min_gap`` (recent
    conversations have neighbouring ids; a revived old one gets a range of its own instead of widening the
    others; each range costs one query, so narrow gaps are not worth a split)."""
    min_gap = RANGE_GAP if min_gap is None else min_gap
    ordered = sorted(set(ids))
    if not ordered:
        return []
    gaps = sorted(range(1, len(ordered)), key=lambda i: ordered[i] - ordered[i - 1], reverse=True)[:parts - 1]
    gaps = [i for i in gaps if ordered[i] - ordered[i - 1] > min_gap]
    cuts = [0, *sorted(gaps), len(ordered)]
    return [(ordered[a], ordered[b - 1]) for a, b in zip(cuts, cuts[1:], strict=False) if a < b]


def _conversations() -> QuerySet:
    from resonanz.inbox.models import Conversation

    return Conversation.objects.all()
