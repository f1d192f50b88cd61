"""The sentence embedder the knowledge base ranks with: the configured one, with a disk cache of vectors."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from resonanz.analysis.retrieval.cache import CachedEmbedder
from resonanz.understanding.engine import embedder


def cached_embedder() -> CachedEmbedder | None:
    """None when embeddings are switched off (RESONANZ_EMBEDDER=none): the ranking is lexical then."""
    inner = embedder()
    if inner is None:
        return None
    return CachedEmbedder(inner, Path(settings.VAR_DIR) / "cache" / "embeddings")
