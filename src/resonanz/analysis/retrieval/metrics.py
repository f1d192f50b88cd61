"""Ranking metrics and the precision/coverage curve of automatic answering."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def rank_of(expected: str, ranked: Sequence[str]) -> int | None:
    """1-based rank of the expected id, None when it was not returned."""
    try:
        return list(ranked).index(expected) + 1
    except ValueError:
        return None


def ranking_metrics(ranks: Sequence[int | None]) -> dict[str, float]:
    """accuracy@1, MRR and NDCG@3 with one relevant document per query."""
    n = max(len(ranks), 1)
    acc1 = sum(1 for r in ranks if r == 1) / n
    mrr = sum(1.0 / r for r in ranks if r) / n
    ndcg3 = sum(1.0 / math.log2(r + 1) for r in ranks if r and r <= 3) / n
    return {"accuracy@1": acc1, "mrr": mrr, "ndcg@3": ndcg3}


THRESHOLDS = (0.0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99)


def threshold_curve(conf: Sequence[float], correct: Sequence[bool],
                    thresholds: Sequence[float] = THRESHOLDS) -> list[dict[str, float]]:
    """For each confidence threshold: share of queries answered and share of those answered right."""
    c, ok = np.asarray(conf, dtype=float), np.asarray(correct, dtype=bool)
    out = []
    for t in thresholds:
        answered = c >= t
        n = int(answered.sum())
        out.append({"threshold": t, "coverage": n / max(len(c), 1),
                    "precision": float(ok[answered].mean()) if n else 1.0})
    return out


def coverage_at_precision(conf: Sequence[float], correct: Sequence[bool], target: float) -> float:
    """Largest share of queries answerable with precision >= target when answering the most confident first.

    Threshold-free, so it compares systems whose scores are not probabilities (the peers).
    """
    c, ok = np.asarray(conf, dtype=float), np.asarray(correct, dtype=bool)
    if not len(c):
        return 0.0
    order = np.argsort(-c, kind="stable")
    hits = np.cumsum(ok[order])
    counts = np.arange(1, len(c) + 1)
    # only cut between distinct confidence values: ties are answered together
    sorted_c = c[order]
    boundary = np.append(sorted_c[1:] != sorted_c[:-1], True)
    good = (hits / counts >= target) & boundary
    return float(counts[good].max() / len(c)) if good.any() else 0.0


def percentiles(ms: Sequence[float]) -> dict[str, float]:
    arr = np.asarray(ms, dtype=float)
    if not len(arr):
        return {"p50_ms": 0.0, "p95_ms": 0.0}
    return {"p50_ms": float(np.percentile(arr, 50)), "p95_ms": float(np.percentile(arr, 95))}
