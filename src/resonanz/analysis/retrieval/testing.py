"""A deterministic stand-in Embedder for tests and benchmarks.

Loading the real model takes seconds and embedding 10,000 articles minutes; a
hashed bag of words costs nothing, is identical on every machine, and still makes
texts that share content words similar, so tests of the dense path can assert rankings.
"""

from __future__ import annotations

import hashlib

import numpy as np

from .text import is_content, raw_tokens


class HashEmbedder:
    name = "hash-bow"

    def __init__(self, dim: int = 384) -> None:
        self.dim = dim

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for tok in [t for t in raw_tokens(text) if is_content(t)] or [" "]:
            h = int.from_bytes(hashlib.blake2b(tok.encode(), digest_size=8).digest(), "little")
            v[h % self.dim] += 1.0 if (h >> 32) & 1 else -1.0
        v[0] += 0.5  # every text shares a little, like real embeddings (cosines of unrelated texts > 0)
        return v / (np.linalg.norm(v) or 1.0)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self.embed_queries(texts)


class FailingEmbedder(HashEmbedder):
    """Raises on every call: the index must fall back to lexical ranking."""

    name = "failing"

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        raise RuntimeError("model crashed")

    embed_passages = embed_queries
