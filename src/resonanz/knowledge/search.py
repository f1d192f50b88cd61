"""One ranking for the help center, the agent UI, the API and the bot.

Each process (web server, worker) holds a ``RetrievalIndex`` of the published articles
and keeps it current by comparing a cheap signature of the article table before each use:
an editor's change in one process reaches the others without a message bus. Embeddings
are cached on disk, so a restart re-reads vectors instead of computing them.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from django.db.models import Count, Max

from resonanz.analysis.retrieval import Answer, Document, Hit, RetrievalIndex
from resonanz.knowledge import replies
from resonanz.knowledge.embedding import cached_embedder
from resonanz.knowledge.models import Article, ArticleFeedback

log = logging.getLogger("resonanz.knowledge")
MAX_QUERY_CHARS = 2000
#: anonymous votes: they move the ranking only once a vote from another address agrees
PUBLIC_SOURCES = ("help_center", "chat")


def article_document(article: Article, helpful_queries: list[str]) -> Document:
    return Document(id=str(article.pk), title=article.title, body=article.body, language=article.language,
                    history=article.questions + helpful_queries)


def helpful_queries(article_ids: list[int]) -> dict[int, list[str]]:
    """The queries people found an article helpful for: agents' always, anonymous votes (help center, chat)
    only once votes from at least two addresses agree on the article (``actions.counts_for_ranking``)."""
    rows: dict[int, list[tuple[str, str, str]]] = {}
    for article_id, query, source, voter in (ArticleFeedback.objects.filter(
            article_id__in=article_ids, helpful=True).exclude(query="")
            .values_list("article_id", "query", "source", "voter")[:20000]):
        rows.setdefault(article_id, []).append((query, source, voter))
    out: dict[int, list[str]] = {}
    for article_id, found in rows.items():
        voters = {voter for _q, source, voter in found if source in PUBLIC_SOURCES and voter}
        out[article_id] = [q for q, source, voter in found
                           if source not in PUBLIC_SOURCES or not voter or len(voters) >= 2]
    return out


@dataclass
class Result:
    article: Article
    score: float


class ArticleIndex:
    """The published articles of this database, in one process."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.index: RetrievalIndex | None = None
        self.signature: tuple | None = None
        self.versions: dict[int, object] = {}

    def _signature(self) -> tuple:
        live = Article.objects.filter(status=Article.Status.PUBLISHED)
        agg = Article.objects.aggregate(changed=Max("updated_at"), n=Count("id"))
        return agg["changed"], agg["n"], live.count()

    def sync(self) -> RetrievalIndex:
        """Bring the index up to date with the database (incrementally after the first build)."""
        with self.lock:
            signature = self._signature()
            if self.index is not None and signature == self.signature:
                return self.index
            if self.index is None:
                self.index = RetrievalIndex(cached_embedder())
                self.versions = {}
            live = {a.pk: a for a in Article.objects.filter(status=Article.Status.PUBLISHED)}
            for pk in [pk for pk in self.versions if pk not in live]:
                self.index.remove(str(pk))
                del self.versions[pk]
            changed = [a for pk, a in live.items() if self.versions.get(pk) != a.updated_at]
            if changed:
                helpful = helpful_queries([a.pk for a in changed])
                self.index.add_many([article_document(a, helpful.get(a.pk, [])) for a in changed])
                for a in changed:
                    self.versions[a.pk] = a.updated_at
                if len(self.index) >= 30:
                    self.index.calibrate()
            self.signature = signature
            return self.index

    def search(self, query: str, *, k: int = 10, public_only: bool = False, language: str | None = None,
               ) -> list[Result]:
        """Best articles first; empty, huge or stop-word-only queries give no results, never an error."""
        query = (query or "").strip()
        if not query or len(query) > MAX_QUERY_CHARS:
            return []
        with self.lock:
            index = self.sync()
            if not len(index):
                return []
            hits = index.search(query, k=k * 3 if public_only else k, language=language)
        return self._articles(hits, k, public_only)

    def best_answer(self, query: str, language: str | None = None, *, vector=None, approximate: bool = False,
                    synced: bool = False, live: dict | None = None) -> tuple[list[Result], Answer | None]:
        """Ranked articles and the top one with its calibrated confidence, from one ranking pass.

        A batch embeds its queries at once (``vector``; ``approximate`` when it is a static one, which must
        not move the learnt query mean), syncs once (``synced``) and reads the articles once (``live``)."""
        query = (query or "").strip()
        if not query or len(query) > MAX_QUERY_CHARS:
            return [], None
        with self.lock:
            index = self.index if synced and self.index is not None else self.sync()
            if not len(index):
                return [], None
            hits, answer = index.query(query, k=10, language=language, query_vector=vector, learn=not approximate)
        return self._articles(hits, 10, False, live), answer

    def feedback(self, article: Article, query: str, helpful: bool) -> None:
        with self.lock:
            index = self.sync()
            if str(article.pk) in index and query:
                index.record_feedback(str(article.pk), query, helpful)

    def live_articles(self) -> dict[int, Article]:
        """The published articles by id, read once for a batch of ``best_answer`` calls."""
        return Article.objects.filter(status=Article.Status.PUBLISHED).in_bulk()

    @staticmethod
    def _articles(hits: list[Hit], k: int, public_only: bool, live: dict | None = None) -> list[Result]:
        by_id = live if live is not None else Article.objects.in_bulk([int(h.doc_id) for h in hits])
        out = []
        for hit in hits:
            article = by_id.get(int(hit.doc_id))
            if article is None or not article.is_live:
                continue
            if public_only and article.visibility != Article.Visibility.PUBLIC:
                continue
            out.append(Result(article, hit.score))
            if len(out) >= k:
                break
        return out


_articles = ArticleIndex()


def articles() -> ArticleIndex:
    return _articles


def reset() -> None:
    """Forget the in-memory indexes (tests, or after the embedder setting changed)."""
    global _articles
    _articles = ArticleIndex()
    replies._replies = replies.ReplyIndex()
