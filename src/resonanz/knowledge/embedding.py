"""The sentence embedder the knowledge base ranks with: the configured one, with a disk cache of vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from django.conf import settings

from resonanz.analysis.retrieval.cache import CachedEmbedder
from resonanz.understanding.engine import embedder, fast_embedder


def cached_embedder() -> CachedEmbedder | None:
    """None when embeddings are switched off (RESONANZ_EMBEDDER=none): the ranking is lexical then."""
    inner = embedder()
    if inner is None:
        return None
    return CachedEmbedder(inner, Path(settings.VAR_DIR) / "cache" / "embeddings")


def query_text(text: str) -> str:
    """The text a query vector is computed from: what the indexes embed for it themselves."""
    return (text or "").strip()[:2000]


def query_vectors(texts: list[str], *, precise: bool) -> tuple[np.ndarray | None, bool]:
    """Vectors of a batch of queries in one embedder call, and whether they are approximate.

    ``precise=False`` takes the static vectors of the fast path when it is on (RESONANZ_FAST_EMBEDDINGS): good
    enough to rank suggestions for an agent, far cheaper than the encoder. Where a ranking decides what a
    customer gets (the bot's answer), the caller asks again with ``precise=True``.
    """
    texts = [query_text(t) for t in texts]
    if not texts:
        return None, False
    if not precise:
        fast = fast_embedder()
        if fast is not None:
            return fast.embed_queries(texts), True
    inner = cached_embedder()
    if inner is None:
        return None, False
    return inner.embed_queries(texts), False
