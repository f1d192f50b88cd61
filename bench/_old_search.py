"""The inbox search as it was before the per-conversation index (inbox migration 0009), kept here as the
baseline the benchmarks measure in the same run: a per-message index (migration 0002's FTS5 table or GIN
expression index), substring matches on subject, name and handles, and at most 2,000 conversation ids from
the message index. ``use_old_search()`` makes the inbox page run it; ``use_new_search()`` undoes that.

``message_index()`` creates the old per-message index next to the new one (or alone: ``only=True`` drops the
new one), so ingestion can be measured with either.
"""

from __future__ import annotations

import re
from importlib import import_module

from django.db import connection
from django.db.models import Q

_WORD = re.compile(r"\w+", re.UNICODE)
_REFERENCE = re.compile(r"^\[?(?:rz-?|#)?(\d{1,12})\]?$", re.IGNORECASE)
_saved: dict = {}


def old_search_q(query: str) -> Q:
    from resonanz.inbox.models import Conversation

    query = query.strip()[:200]
    match = _REFERENCE.match(query)
    condition = Q(pk=int(match.group(1))) if match else Q(pk__in=[])
    if "@" in query or (len(query) >= 3 and " " not in query):
        condition |= Q(contact__identities__handle__icontains=query.lstrip("@"))
    words = query.split()[:8]
    if words:
        subject, name = Q(), Q()
        for word in words:
            subject &= Q(subject__icontains=word)
            name &= Q(contact__name__icontains=word)
        condition |= subject | name
    ids = old_conversation_ids(query)
    if ids:
        condition |= Q(pk__in=ids)
    return Q(pk__in=Conversation.objects.filter(condition).values("pk"))


def old_conversation_ids(query: str, limit: int = 2000) -> list[int]:
    words = _WORD.findall(query.lower())[:12]
    if not words:
        return []
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            match = " ".join(f'"{w}"' for w in words[:-1]) + f' "{words[-1]}"*'
            cursor.execute(
                "SELECT DISTINCT m.conversation_id FROM inbox_message_fts f JOIN inbox_message m ON m.id = f.rowid "
                "WHERE inbox_message_fts MATCH %s ORDER BY m.conversation_id DESC LIMIT %s", [match.strip(), limit])
        else:
            tsquery = " & ".join(words[:-1] + [words[-1] + ":*"])
            cursor.execute(
                "SELECT DISTINCT conversation_id FROM inbox_message "
                "WHERE to_tsvector('simple', text) @@ to_tsquery('simple', %s) "
                "ORDER BY conversation_id DESC LIMIT %s", [tsquery, limit])
        return [row[0] for row in cursor.fetchall()]


def use_old_search() -> None:
    from resonanz.inbox import queries, search

    _saved.setdefault("search_q", queries.search_q)
    _saved.setdefault("few", search.Search.__dict__["few"])
    queries.search_q = old_search_q
    search.Search.few = property(lambda self: True)


def use_new_search() -> None:
    from resonanz.inbox import queries, search

    if _saved:
        queries.search_q = _saved["search_q"]
        search.Search.few = _saved["few"]


def _migration(name: str):
    return import_module(f"resonanz.inbox.migrations.{name}")


def message_index(*, only: bool = False) -> None:
    """Create migration 0002's per-message index (and fill it); ``only``: drop the per-conversation one."""
    old, new = _migration("0002_message_fulltext"), _migration("0010_conversation_search")
    vendor = connection.vendor
    with connection.cursor() as cursor:
        if only:
            for sql in {"sqlite": new.SQLITE_DROP, "postgresql": new.POSTGRES_DROP}[vendor]:
                cursor.execute(sql)
        for sql in {"sqlite": old.SQLITE, "postgresql": old.POSTGRES}[vendor]:
            cursor.execute(sql)


def drop_conversation_index() -> None:
    """No per-conversation index (a bulk load builds it afterwards with ``conversation_index``)."""
    new = _migration("0010_conversation_search")
    with connection.cursor() as cursor:
        for sql in {"sqlite": new.SQLITE_DROP, "postgresql": new.POSTGRES_DROP}[connection.vendor]:
            cursor.execute(sql)


def conversation_index() -> None:
    """Back to migration 0009's per-conversation index alone (built from the tables)."""
    new = _migration("0010_conversation_search")
    vendor = connection.vendor
    with connection.cursor() as cursor:
        for sql in {"sqlite": new.SQLITE_DROP, "postgresql": new.POSTGRES_DROP}[vendor]:
            cursor.execute(sql)
        for sql in {"sqlite": new.SQLITE, "postgresql": new.POSTGRES}[vendor]:
            cursor.execute(sql)
