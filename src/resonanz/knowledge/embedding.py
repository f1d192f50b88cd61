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
    out = np.zeros((len(texts), inner.dim), dtype=np.float32)
    known = analysed_vectors(inner.name, texts)
    todo = [i for i, v in enumerate(known) if v is None or v.shape[0] != inner.dim]
    for i in set(range(len(texts))) - set(todo):
        out[i] = known[i]
    if todo:
        out[todo] = inner.embed_queries([texts[i] for i in todo])
    return out, False


def analysed_vectors(name: str, texts: list[str]) -> list[np.ndarray | None]:
    """The encoder's vectors the analysis step computed moments ago for these very texts (its in-memory cache
    of recent texts, same embedder and same input string), so the pipeline encodes a message once, not twice."""
    from resonanz.analysis.features import clean_text
    from resonanz.understanding.engine import get_analyzer

    analyzer = get_analyzer()
    recent = getattr(analyzer, "recent", None)
    if recent is None or getattr(analyzer.embedder, "name", None) != name:
        return [None] * len(texts)
    same = [clean_text(t) == t for t in texts]  # the analyzer keys by its cleaned text
    found = recent.get_many(name, texts)
    return [v if ok else None for v, ok in zip(found, same, strict=True)]
