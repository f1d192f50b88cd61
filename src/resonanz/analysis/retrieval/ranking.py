"""The one ranking function: per-ranker scores -> z-scores -> weighted sum.

Four rankers look at a query: BM25 over the title and the known questions
(history), BM25 over the body plus a character n-gram field (typos, compounds),
embedding similarity of the query to the article's questions (its title and its
history, max-sim, query-to-query) and to the article as a passage. Their raw
scales differ (BM25 is unbounded, e5 cosines crowd into 0.7-0.95), so each is
standardised over the live documents of the query before the weighted sum: a
document that stands out for a ranker gets a high z whatever that ranker's scale.
Unlike reciprocal rank fusion this keeps how far the winner is ahead, which is
what the confidence model needs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass
class RankConfig:
    """Weights of the rankers in the fused score and of the lexical fields."""

    w_lex_question: float = 0.15
    w_lex_content: float = 0.4
    w_dense_question: float = 1.0
    w_lex_history: float = 1.0
    w_dense_passage: float = 2.0
    field_title: float = 1.0
    field_history: float = 1.0
    field_body: float = 1.0
    field_grams: float = 0.5
    b_title: float = 0.3
    b_body: float = 0.75
    negative_sim: float = 0.92
    negative_penalty: float = 2.0
    vote_weight: float = 0.5
    fusion: str = "z"
    z_clip: float = 3.0
    rrf_k: float = 10.0

    def to_json(self) -> dict:
        return asdict(self)


STD_FLOOR = 0.02


def zscore(x: np.ndarray, alive: np.ndarray) -> np.ndarray:
    """Standardise over the live slots.

    The spread is floored: a ranker that sees (almost) no difference between the
    documents must not have its rounding noise blown up to a full unit of z.
    Real differences (e5 cosines, matched shares of a query) spread far wider.
    """
    vals = x[alive]
    if len(vals) == 0:
        return np.zeros_like(x)
    std = float(vals.std())
    if std < 1e-9:
        return np.zeros_like(x)
    return (x - float(vals.mean())) / max(std, STD_FLOOR)


def normalise(x: np.ndarray, alive: np.ndarray, mode: str, clip: float, rrf_k: float) -> np.ndarray:
    if mode == "z":
        return zscore(x, alive)
    if mode == "zclip":
        return np.minimum(zscore(x, alive), clip)
    if mode == "max":
        top, low = float(x[alive].max()), float(x[alive].min())
        return (x - low) / (top - low) if top > low else np.zeros_like(x)
    if mode == "rrf":
        order = np.argsort(-np.where(alive, x, -np.inf), kind="stable")
        ranks = np.empty(len(x), dtype=np.float32)
        ranks[order] = np.arange(1, len(x) + 1)
        return 1.0 / (rrf_k + ranks)
    raise ValueError(mode)


def fuse(parts: list[tuple[float, np.ndarray]], alive: np.ndarray, mode: str = "z", clip: float = 3.0,
         rrf_k: float = 10.0) -> np.ndarray:
    """Weighted sum of normalised rankers; dead slots get -inf so they never rank."""
    total = np.zeros(len(alive), dtype=np.float32)
    for weight, scores in parts:
        if weight:
            total += weight * normalise(scores, alive, mode, clip, rrf_k).astype(np.float32)
    total[~alive] = -np.inf
    return total


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k best finite scores, best first."""
    k = min(k, int(np.isfinite(scores).sum()))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    idx = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    return idx[np.argsort(-scores[idx], kind="stable")]
