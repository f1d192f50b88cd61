"""Knowing what the engine does not know: the "everything else" class of an intent set.

A virtual agent that labels every request with its nearest intent answers
questions nobody taught it. Intent sets often carry a class for requests that
belong to no intent (CLINC150's ``oos``, "other", "Sonstiges"); the engine
treats that class specially in two ways:

* it is recognised by name (``find_oos_label``) or named by the operator;
* a request is out of scope when that class is the most likely one, *or* when
  no real intent is likely enough (``OutOfScope.threshold`` on the best in-scope
  probability). Requests unlike anything in the training data fall to the
  second rule even when the "everything else" examples did not resemble them.

The threshold is chosen on out-of-fold probabilities of the training data
(never on a test split), so the same command behaves the same on any set. The
same rule runs in ``resonanz eval`` and in the analyzer the virtual agent reads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Lower-case names (spaces, dashes and underscores equal) that mean "belongs to no intent".
OOS_NAMES = frozenset({
    "oos", "out of scope", "outofscope", "out of domain", "ood", "other", "others", "everything else", "none",
    "no intent", "unknown", "misc", "miscellaneous", "fallback", "irrelevant", "sonstiges", "sonstige", "andere",
    "anderes", "kein anliegen", "nicht zuordenbar",
})


def _norm(label: str) -> str:
    return " ".join(str(label).strip().lower().replace("_", " ").replace("-", " ").split())


def find_oos_label(labels) -> str | None:
    """The label among ``labels`` that names the "everything else" class, or None."""
    hits = sorted({str(lab) for lab in labels if _norm(lab) in OOS_NAMES})
    return hits[0] if len(hits) == 1 else None


@dataclass
class OutOfScope:
    """Decides "out of scope" from class probabilities (columns in ``classes`` order)."""

    label: str
    index: int
    threshold: float = 0.0  # best in-scope probability below this: out of scope

    def mask(self, proba: np.ndarray) -> np.ndarray:
        """True where a row of probabilities means "out of scope"."""
        p_oos = proba[:, self.index]
        inscope = np.delete(proba, self.index, axis=1)
        best_in = inscope.max(axis=1) if inscope.shape[1] else np.zeros(len(proba))
        return (p_oos >= best_in) | (best_in < self.threshold)

    def score(self, proba: np.ndarray) -> np.ndarray:
        """A number per row that grows with "out of scope" (for ranking and reports): 1 - best in-scope."""
        inscope = np.delete(proba, self.index, axis=1)
        return 1.0 - (inscope.max(axis=1) if inscope.shape[1] else np.zeros(len(proba)))


def fit_threshold(proba: np.ndarray, y: np.ndarray, oos_index: int, max_inscope_loss: float = 0.03) -> float:
    """The rejection threshold from out-of-fold probabilities of the training data.

    The highest threshold that hands over at most ``max_inscope_loss`` of the
    in-scope training requests the classifier gets right (out of fold). The
    budget, not the F1 of the "everything else" class on those folds, sets it:
    the training examples of that class are of the kinds already seen, which
    the classifier learns to name anyway (an F1-optimal threshold there is 0,
    and new kinds of requests then pass as some real intent). Spending a fixed,
    small share of the right answers is a rule that carries over to any set.
    """
    inscope = np.delete(proba, oos_index, axis=1)
    best_in = inscope.max(axis=1)
    argmax_oos = proba[:, oos_index] >= best_in
    right_in = (y != oos_index) & (proba.argmax(axis=1) == y) & ~argmax_oos
    if not right_in.any() or max_inscope_loss <= 0:
        return 0.0
    # rejecting best_in < t loses the right answers below t: t is the budget quantile of their confidences
    values = np.sort(best_in[right_in])
    k = int(np.floor(max_inscope_loss * len(values)))
    return float(values[k]) if k < len(values) else 1.0
