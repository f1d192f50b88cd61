"""Calibrated confidence that the top-ranked document answers the query.

A logistic model over features of the ranking (how far the winner stands out,
how close its known questions are to the query, whether the lexical and the
embedding rankers agree). With too little history of its own an index uses the
weights below, fit by bench/faq_calibrate.py on BANKING77's training split
(leave-one-out over 20 questions per intent): another domain, never a test set.
When the index holds enough history (questions that articles are known to
answer), ``fit`` learns the weights from a leave-one-out pass over that history:
each history question is asked with itself removed from the index, so the
model sees the same situation as a new customer question.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

FEATURES = ("fused_z", "fused_margin", "question_sim", "dense_margin", "lexical", "agree")
DEFAULT_WEIGHTS = (-0.131, 0.791, 0.549, 1.918, 0.063, 0.559)
DEFAULT_BIAS = 2.430
DEFAULT_MEAN = (3.916, 3.978, 0.683, 0.112, 0.307, 0.598)
DEFAULT_SCALE = (0.997, 3.439, 0.163, 0.204, 0.162, 0.490)


@dataclass
class ConfidenceModel:
    """sigmoid(weights · features + bias)."""

    weights: list[float] = field(default_factory=lambda: list(DEFAULT_WEIGHTS))
    bias: float = DEFAULT_BIAS
    mean: list[float] = field(default_factory=lambda: list(DEFAULT_MEAN))
    scale: list[float] = field(default_factory=lambda: list(DEFAULT_SCALE))
    fitted_on: int = 0

    def predict(self, features: np.ndarray) -> float:
        x = (np.asarray(features, dtype=np.float64) - self.mean) / self.scale
        z = float(np.dot(self.weights, x) + self.bias)
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))

    def to_json(self) -> dict:
        return {"weights": self.weights, "bias": self.bias, "mean": self.mean, "scale": self.scale,
                "fitted_on": self.fitted_on}

    @classmethod
    def from_json(cls, data: dict) -> ConfidenceModel:
        return cls(**data)


def fit(features: np.ndarray, correct: np.ndarray, min_examples: int = 30) -> ConfidenceModel | None:
    """A model fit on labelled rankings, or None when there are too few of either outcome."""
    correct = np.asarray(correct, dtype=bool)
    if len(correct) < min_examples or correct.sum() < 5 or (~correct).sum() < 3:
        return None
    from sklearn.linear_model import LogisticRegression

    x = np.asarray(features, dtype=np.float64)
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    clf = LogisticRegression(C=1.0, max_iter=1000)
    clf.fit((x - mean) / scale, correct)
    return ConfidenceModel(
        weights=[float(w) for w in clf.coef_[0]], bias=float(clf.intercept_[0]),
        mean=[float(m) for m in mean], scale=[float(s) for s in scale], fitted_on=len(correct),
    )
