"""Row storage for embeddings that grows in place, and max-similarity per document.

Rows are addressed by slot; a removed slot is zeroed, so it can never be the
most similar row (cosines of real texts are positive for e5) and is filtered by
the caller's alive mask anyway.
"""

from __future__ import annotations

import numpy as np


class Matrix:
    """A float32 (capacity, dim) array doubled when full; ``view`` is the used part."""

    def __init__(self, dim: int, data: np.ndarray | None = None) -> None:
        self.dim = dim
        self.size = 0 if data is None else len(data)
        self._data = np.zeros((max(16, self.size), dim), dtype=np.float32)
        if data is not None and len(data):
            self._data[: self.size] = data

    def set(self, slot: int, vector: np.ndarray) -> None:
        if slot >= len(self._data):
            grown = np.zeros((max(slot + 1, 2 * len(self._data)), self.dim), dtype=np.float32)
            grown[: self.size] = self._data[: self.size]
            self._data = grown
        self._data[slot] = vector
        self.size = max(self.size, slot + 1)

    def clear(self, slot: int) -> None:
        if slot < self.size:
            self._data[slot] = 0.0

    @property
    def view(self) -> np.ndarray:
        return self._data[: self.size]


def max_per_owner(values: np.ndarray, owners: np.ndarray, size: int, fill: float = 0.0) -> np.ndarray:
    """For each owner slot, the largest of its rows' values (``fill`` when it has none)."""
    out = np.full(size, fill, dtype=np.float32)
    if len(values):
        np.maximum.at(out, owners, values)
    return out


def matvec(matrix: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """matrix @ vector without BLAS threads.

    OpenBLAS splits even a small matrix-vector product over all cores and then
    busy-waits for them; on a shared two-core machine (web workers, Celery, the
    embedder) that made one product 5-10x slower than a plain single-threaded loop.
    """
    if not len(matrix):
        return np.zeros(0, dtype=np.float32)
    return np.einsum("ij,j->i", matrix, vector, optimize=False)


def unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 1e-9 else v


class QueryMean:
    """Running mean of the query vectors the index has been asked, started from a prior.

    e5 vectors share a large common direction, so raw cosines crowd together.
    Subtracting the mean of what customers ask (and, on the document side, the
    mean of the documents) leaves what tells them apart: on Bitext this lifted
    embedding-only accuracy from 0.69 to 0.76. The mean needs no labels; it
    starts from the index's own questions (titles, history) as a prior.
    """

    def __init__(self, dim: int, prior_weight: float = 50.0) -> None:
        self.sum = np.zeros(dim, dtype=np.float64)
        self.count = 0
        self.prior_weight = prior_weight

    def observe(self, v: np.ndarray) -> None:
        self.sum += v
        self.count += 1

    def value(self, prior: np.ndarray) -> np.ndarray:
        w = self.prior_weight
        return ((self.sum + w * prior) / (self.count + w)).astype(np.float32)


def centred_sims(matrix: np.ndarray, mean: np.ndarray, qc: np.ndarray, norms: np.ndarray) -> np.ndarray:
    """cos(qc, row - mean) for every row, with the rows' centred norms precomputed."""
    return (matvec(matrix, qc) - float(qc @ mean)) / norms


def centred_norms(matrix: np.ndarray, mean: np.ndarray) -> np.ndarray:
    sq = (matrix * matrix).sum(axis=1) - 2.0 * matvec(matrix, mean) + float(mean @ mean)
    return np.sqrt(np.maximum(sq, 1e-6)).astype(np.float32)
