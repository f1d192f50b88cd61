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
