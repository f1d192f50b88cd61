"""Similar questions while a member types, with the same hybrid ranking as the knowledge base.

One in-process ``RetrievalIndex`` of visible questions per process, brought up to date by a cheap signature
of the question table before each use (like ``knowledge.search.ArticleIndex``): a question asked in one web
process is found by the others without a message bus.
"""

from __future__ import annotations

import threading

from django.db.models import Count, Max

from resonanz.analysis.retrieval import Document, RetrievalIndex
from resonanz.community.models import Question, Visibility
from resonanz.knowledge.embedding import cached_embedder

MAX_QUERY_CHARS = 500


class QuestionIndex:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.index: RetrievalIndex | None = None
        self.signature: tuple | None = None
        self.versions: dict[int, object] = {}

    def _signature(self) -> tuple:
        agg = Question.objects.aggregate(changed=Max("updated_at"), n=Count("id"))
        return agg["changed"], agg["n"]

    def sync(self) -> RetrievalIndex:
        with self.lock:
            signature = self._signature()
            if self.index is not None and signature == self.signature:
                return self.index
            if self.index is None:
                self.index = RetrievalIndex(cached_embedder())
                self.versions = {}
            live = {pk: changed for pk, changed in Question.objects.filter(visibility=Visibility.VISIBLE)
                    .values_list("pk", "updated_at")}
            for pk in [pk for pk in self.versions if pk not in live]:
                self.index.remove(str(pk))
                del self.versions[pk]
            changed = [pk for pk, at in live.items() if self.versions.get(pk) != at]
            for start in range(0, len(changed), 2000):
                rows = Question.objects.filter(pk__in=changed[start:start + 2000]).only(
                    "pk", "title", "body", "language", "updated_at")
                self.index.add_many([Document(id=str(q.pk), title=q.title, body=q.body,
                                              language=q.language or "en") for q in rows])
                for q in rows:
                    self.versions[q.pk] = q.updated_at
            self.signature = signature
            return self.index

    def search(self, query: str, *, k: int = 5) -> list[Question]:
        query = (query or "").strip()
        if len(query) < 3 or len(query) > MAX_QUERY_CHARS:
            return []
        with self.lock:
            index = self.sync()
            if not len(index):
                return []
            hits = index.search(query, k=k)
        found = Question.objects.in_bulk([int(h.doc_id) for h in hits])
        return [found[int(h.doc_id)] for h in hits
                if int(h.doc_id) in found and found[int(h.doc_id)].visibility == Visibility.VISIBLE]


_questions = QuestionIndex()


def questions() -> QuestionIndex:
    return _questions


def reset() -> None:
    global _questions
    _questions = QuestionIndex()
