"""Similar questions and ideas while a member types, with the same hybrid ranking as the knowledge base.

One in-process ``RetrievalIndex`` of visible questions (and one of open ideas) per process, brought up to date
by a cheap signature of the table before each use (like ``knowledge.search.ArticleIndex``): a question asked
in one web process is found by the others without a message bus.
"""

from __future__ import annotations

import threading

from django.conf import settings
from django.db.models import Count, Max, Model, Q

from resonanz.analysis.retrieval import Document, RetrievalIndex
from resonanz.community.models import Idea, Question, Visibility
from resonanz.knowledge.embedding import cached_embedder

MAX_QUERY_CHARS = 500


class TextIndex:
    """The visible rows of ``model`` (``live``), indexed by title and ``body_field``."""

    def __init__(self, model: type[Model], body_field: str, live: Q) -> None:
        self.model, self.body_field, self.live = model, body_field, live
        self.lock = threading.RLock()
        self.index: RetrievalIndex | None = None
        self.signature: tuple | None = None
        self.versions: dict[int, object] = {}

    def _signature(self) -> tuple:
        agg = self.model.objects.aggregate(changed=Max("updated_at"), n=Count("id"))
        return agg["changed"], agg["n"]

    def _language(self, row) -> str:
        if self.model is Question:
            return row.language or "en"
        return row.author.language or settings.LANGUAGE_CODE[:2]  # ideas keep no language: their author's

    def sync(self) -> RetrievalIndex:
        with self.lock:
            signature = self._signature()
            if self.index is not None and signature == self.signature:
                return self.index
            if self.index is None:
                self.index = RetrievalIndex(cached_embedder())
                self.versions = {}
            live = dict(self.model.objects.filter(self.live).values_list("pk", "updated_at"))
            for pk in [pk for pk in self.versions if pk not in live]:
                self.index.remove(str(pk))
                del self.versions[pk]
            changed = [pk for pk, at in live.items() if self.versions.get(pk) != at]
            fields = ["pk", "title", self.body_field, "updated_at",
                      *(["language"] if self.model is Question else ["author__language"])]
            for start in range(0, len(changed), 2000):
                rows = self.model.objects.filter(pk__in=changed[start:start + 2000]).select_related(
                    *([] if self.model is Question else ["author"])).only(*fields)
                self.index.add_many([Document(id=str(r.pk), title=r.title, body=getattr(r, self.body_field),
                                              language=self._language(r)) for r in rows])
                for r in rows:
                    self.versions[r.pk] = r.updated_at
            self.signature = signature
            return self.index

    def search(self, query: str, *, k: int = 5) -> list:
        query = (query or "").strip()
        if len(query) < 3 or len(query) > MAX_QUERY_CHARS:
            return []
        with self.lock:
            index = self.sync()
            if not len(index):
                return []
            hits = index.search(query, k=k)
        found = self.model.objects.filter(self.live).in_bulk([int(h.doc_id) for h in hits])
        return [found[int(h.doc_id)] for h in hits if int(h.doc_id) in found]


def _question_index() -> TextIndex:
    return TextIndex(Question, "body", Q(visibility=Visibility.VISIBLE))


def _idea_index() -> TextIndex:
    """Open ideas only: a merged duplicate's votes live on the idea it went to."""
    return TextIndex(Idea, "description", Q(visibility=Visibility.VISIBLE, merged_into__isnull=True))


_questions = _question_index()
_ideas = _idea_index()


def questions() -> TextIndex:
    return _questions


def ideas() -> TextIndex:
    return _ideas


def reset() -> None:
    global _questions, _ideas
    _questions, _ideas = _question_index(), _idea_index()
