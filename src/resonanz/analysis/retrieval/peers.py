"""The baselines every evaluation runs beside our ranking: BM25 alone (bm25s) and embeddings alone.

Both see the same text as our index (title, body and history questions), so the
ratio between us and them measures the ranking, not the data.
"""

from __future__ import annotations

import time

import numpy as np

from .dense import matvec, max_per_owner
from .model import Document


class BM25Peer:
    """bm25s with its English stop words over title + body + history."""

    name = "bm25s"

    def __init__(self, docs: list[Document]) -> None:
        import bm25s

        self._bm25s = bm25s
        self.ids = [d.id for d in docs]
        corpus = [" ".join([d.title, d.body, *d.history]) for d in docs]
        self.model = bm25s.BM25()
        self.model.index(bm25s.tokenize(corpus, stopwords="en", show_progress=False), show_progress=False)

    def rank(self, query: str, k: int = 10) -> tuple[list[str], float, float]:
        """Ranked ids, the top score (its confidence) and the milliseconds it took."""
        t0 = time.perf_counter()
        tokens = self._bm25s.tokenize([query], stopwords="en", show_progress=False)
        if not tokens.vocab:
            return [], 0.0, (time.perf_counter() - t0) * 1000
        docs, scores = self.model.retrieve(tokens, k=min(k, len(self.ids)), show_progress=False, n_threads=1)
        ms = (time.perf_counter() - t0) * 1000
        ranked = [self.ids[int(i)] for i, s in zip(docs[0], scores[0], strict=True) if s > 0]
        return ranked, float(scores[0][0]) if ranked else 0.0, ms


class EmbeddingPeer:
    """Cosine of the query to each article's passage and, when present, its history questions (max)."""

    name = "embeddings"

    def __init__(self, docs: list[Document], passages: np.ndarray, history: np.ndarray | None,
                 owners: np.ndarray) -> None:
        self.ids = [d.id for d in docs]
        self.passages = passages
        self.history = history
        self.owners = owners

    def rank(self, qv: np.ndarray, k: int = 10) -> tuple[list[str], float, float]:
        t0 = time.perf_counter()
        sims = matvec(self.passages, qv)
        if self.history is not None and len(self.history):
            sims = np.maximum(sims, max_per_owner(matvec(self.history, qv), self.owners, len(self.ids), fill=-1.0))
        order = np.argsort(-sims)[:k]
        ms = (time.perf_counter() - t0) * 1000
        return [self.ids[i] for i in order], float(sims[order[0]]), ms
