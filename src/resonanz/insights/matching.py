"""Which listening queries an item matches: the compiled queries and their filters (language, source).

Queries are compiled once and kept until one changes (the newest ``updated_at`` and the count are the
cache key), so the pipeline step pays a dictionary lookup per batch, not a parse per item.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Max

from resonanz.insights import querylang
from resonanz.insights.models import ListeningQuery


@dataclass(frozen=True)
class Compiled:
    id: int
    node: querylang.Node
    languages: frozenset[str]
    kinds: frozenset[str]
    channel_ids: frozenset[int]
    include_messages: bool

    def applies(self, *, is_post: bool, language: str, channel_id: int, channel_kind: str) -> bool:
        """Whether the item is in the query's scope at all (before its words are looked at)."""
        if not is_post and not self.include_messages:
            return False
        if self.languages and language not in self.languages:
            return False
        if self.kinds and channel_kind not in self.kinds:
            return False
        return not self.channel_ids or channel_id in self.channel_ids

    def matches(self, doc: querylang.Document, **scope) -> bool:
        return self.applies(**scope) and querylang.matches(self.node, doc)


def compile_query(q: ListeningQuery, channel_ids: list[int] | None = None) -> Compiled:
    ids = channel_ids if channel_ids is not None else [c.pk for c in q.channels.all()]
    return Compiled(q.pk, querylang.parse(q.expression), frozenset(q.languages or ()),
                    frozenset(q.channel_kinds or ()), frozenset(ids), q.include_messages)


_cache: dict = {"key": None, "queries": []}


def active_queries() -> list[Compiled]:
    """The enabled queries, compiled; a query that no longer parses (stored before a rule changed) is skipped."""
    agg = ListeningQuery.objects.aggregate(n=Count("id"), t=Max("updated_at"))
    key = (agg["n"], agg["t"])
    if _cache["key"] != key:
        out = []
        for q in ListeningQuery.objects.filter(enabled=True).prefetch_related("channels"):
            try:
                out.append(compile_query(q))
            except querylang.QuerySyntaxError:
                continue
        _cache.update(key=key, queries=out)
    return _cache["queries"]


_indexes: dict[tuple[int, ...], tuple[querylang.QueryIndex, dict[int, Compiled]]] = {}


def _index(queries: list[Compiled]) -> tuple[querylang.QueryIndex, dict[int, Compiled]]:
    key = tuple(id(q) for q in queries)
    if key not in _indexes:
        if len(_indexes) > 8:
            _indexes.clear()
        _indexes[key] = (querylang.QueryIndex([(q.id, q.node) for q in queries]), {q.id: q for q in queries})
    return _indexes[key]


def matching_ids(queries: list[Compiled], text: str, *, is_post: bool, language: str, channel_id: int,
                 channel_kind: str) -> list[int]:
    """The ids of the queries that match; the text is read once and only queries whose anchor words occur in
    it are evaluated (querylang.QueryIndex: about 100x the naive per-query scan at 200 queries)."""
    scope = dict(is_post=is_post, language=language, channel_id=channel_id, channel_kind=channel_kind)
    if not any(q.applies(**scope) for q in queries):
        return []
    index, by_id = _index(queries)
    doc = querylang.Document.of(text, language)
    return [qid for qid, node in index.candidates(doc)
            if by_id[qid].applies(**scope) and querylang.matches(node, doc)]
