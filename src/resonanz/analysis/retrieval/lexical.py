"""An incremental BM25 index over one text field.

Why not bm25s or a sparse matrix: articles change one at a time while the help
center is searched, so the index must take adds and removals without a rebuild.
Postings are dicts (cheap to change) turned into numpy arrays per term on first
use (cheap to score); a change drops only the arrays of the terms it touched.
Scores are computed for every slot at once as a dense vector: with 10,000
articles that is a few microseconds per query term.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

import numpy as np

K1 = 1.2
_Arrays = tuple[np.ndarray, np.ndarray, np.ndarray]  # slots, term frequencies, slot lengths


class FieldIndex:
    """BM25 (Lucene variant idf) over slots; a slot is a document or one history question."""

    def __init__(self, b: float = 0.75) -> None:
        self.b = b
        self.postings: dict[str, dict[int, int]] = {}
        self.lengths: dict[int, int] = {}
        self.total_len = 0
        self._len_arr = np.zeros(64, dtype=np.float32)
        self._arrays: dict[str, _Arrays] = {}

    def __len__(self) -> int:
        return len(self.lengths)

    def add(self, slot: int, terms: Iterable[str]) -> None:
        counts = Counter(terms)
        if slot in self.lengths:
            raise KeyError(f"slot {slot} already indexed")
        n = sum(counts.values())
        self.lengths[slot] = n
        self.total_len += n
        if slot >= len(self._len_arr):
            grown = np.zeros(max(slot + 1, 2 * len(self._len_arr)), dtype=np.float32)
            grown[: len(self._len_arr)] = self._len_arr
            self._len_arr = grown
        self._len_arr[slot] = n
        postings = self.postings
        for term, tf in counts.items():
            plist = postings.get(term)
            if plist is None:
                postings[term] = {slot: tf}
            else:
                plist[slot] = tf
        if self._arrays:
            for term in counts:
                self._arrays.pop(term, None)

    def remove(self, slot: int, terms: Iterable[str]) -> None:
        n = self.lengths.pop(slot, None)
        if n is None:
            return
        self.total_len -= n
        for term in set(terms):
            plist = self.postings.get(term)
            if plist is not None:
                plist.pop(slot, None)
                if not plist:
                    del self.postings[term]
            self._arrays.pop(term, None)

    def idf(self, term: str) -> float:
        n = len(self.lengths)
        df = len(self.postings.get(term, ()))
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def _term_arrays(self, term: str) -> _Arrays | None:
        cached = self._arrays.get(term)
        if cached is None:
            plist = self.postings.get(term)
            if not plist:
                return None
            slots = np.fromiter(plist.keys(), dtype=np.int64, count=len(plist))
            tfs = np.fromiter(plist.values(), dtype=np.float32, count=len(plist))
            cached = (slots, tfs, self._len_arr[slots])
            self._arrays[term] = cached
        return cached

    def score(self, groups: list[frozenset[str]], size: int) -> tuple[np.ndarray, float]:
        """BM25 of every slot (vector of ``size``) and the best score a slot could reach.

        Each group holds the alternative forms of one query token; a slot scores the
        best of them, so a token counts once whichever lemma matched. The maximum
        (every token matched, saturated) lets callers turn BM25 into a share of the
        query that was matched, comparable across queries.
        """
        scores = np.zeros(size, dtype=np.float32)
        if not self.lengths:
            return scores, 0.0
        avg = max(self.total_len / len(self.lengths), 1e-9)
        ceiling = 0.0
        for forms in groups:
            best_idf = max(self.idf(f) for f in forms)
            ceiling += best_idf * (K1 + 1.0)
            if len(forms) == 1:
                self._accumulate(next(iter(forms)), scores, avg)
                continue
            part = np.zeros(size, dtype=np.float32)
            for form in forms:
                arrs = self._term_arrays(form)
                if arrs is None:
                    continue
                slots, w = self._weights(form, arrs, avg)
                _scatter_max(part, slots, w)
            scores += part
        return scores, ceiling

    def _weights(self, term: str, arrs: _Arrays, avg: float) -> tuple[np.ndarray, np.ndarray]:
        slots, tfs, lens = arrs
        norm = K1 * (1.0 - self.b + self.b * lens / avg)
        return slots, self.idf(term) * tfs * (K1 + 1.0) / (tfs + norm)

    def _accumulate(self, term: str, scores: np.ndarray, avg: float) -> None:
        arrs = self._term_arrays(term)
        if arrs is not None:
            slots, w = self._weights(term, arrs, avg)
            scores[slots] += w


def _scatter_max(target: np.ndarray, slots: np.ndarray, values: np.ndarray) -> None:
    """target[slots] = max(target[slots], values); slots are unique within one term."""
    target[slots] = np.maximum(target[slots], values)
