"""An on-disk cache in front of an Embedder, keyed by a hash of model, kind and text.

Embedding is the slow part of search and evaluation (StackFAQ: 1,375 queries and 125 long threads take
minutes on two cores), so vectors are computed once and read back. The web server and every worker share the
cache, so it is one SQLite file (WAL; writers wait for each other instead of overwriting each other's file),
a new text adds one row instead of rewriting everything, and the oldest rows go once it holds
``max_entries`` vectors.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..embcache import EmbeddingCache
from ..embedder import Embedder

DEFAULT_MAX_ENTRIES = 200_000  # about 300 MB of 384-d float32 vectors


def default_cache_dir() -> Path:
    return Path(os.environ.get("RESONANZ_CACHE_DIR", "var/cache")) / "embeddings"


class CachedEmbedder:
    """Same interface as the wrapped Embedder; vectors live in ``<directory>/<embedder>.sqlite3``."""

    def __init__(self, inner: Embedder, directory: str | Path | None = None,
                 max_entries: int | None = DEFAULT_MAX_ENTRIES) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in inner.name)
        self.dir = Path(directory or default_cache_dir())
        self.cache = EmbeddingCache(self.dir / f"{safe}.sqlite3", max_entries=max_entries)

    def _embed(self, kind: str, texts: list[str], batch: int = 64, progress: bool = False) -> np.ndarray:
        texts = list(texts)
        out = np.zeros((len(texts), self.dim), np.float32)
        if not texts:
            return out
        model = f"{self.name}\x00{kind}"
        cached = self.cache.get_many(model, texts)
        missing: dict[str, list[int]] = {}
        for i, (text, vector) in enumerate(zip(texts, cached, strict=True)):
            if vector is not None and vector.shape[0] == self.dim:
                out[i] = vector
            else:
                missing.setdefault(text, []).append(i)
        todo = sorted(missing)
        chunks = range(0, len(todo), batch)
        if progress and todo:
            from tqdm import tqdm

            chunks = tqdm(chunks, desc=f"embedding {kind}s", unit="batch", file=None)
        fn = self.inner.embed_queries if kind == "query" else self.inner.embed_passages
        for start in chunks:
            part = todo[start : start + batch]
            vectors = np.asarray(fn(part), dtype=np.float32)
            self.cache.put_many(model, part, vectors)
            for text, vector in zip(part, vectors, strict=True):
                out[missing[text]] = vector
        return out

    def embed_queries(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self._embed("query", texts, progress=progress)

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self._embed("passage", texts, progress=progress)
