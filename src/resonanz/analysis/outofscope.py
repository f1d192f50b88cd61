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

    Maximises the F1 of the "everything else" class, but gives up at most
    ``max_inscope_loss`` of the in-scope examples the classifier gets right:
    an assistant that refuses too much is as useless as one that never does.
    The training "everything else" examples resemble the test ones only in
    part (new kinds of requests arrive), so the budget, not the F1 alone,
    keeps the rule from fitting those examples too closely.
    """
    inscope = np.delete(proba, oos_index, axis=1)
    best_in = inscope.max(axis=1)
    argmax_oos = proba[:, oos_index] >= best_in
    is_oos = y == oos_index
    pred_cls = proba.argmax(axis=1)
    right_in = (~is_oos) & (pred_cls == y)
    n_right = max(int(right_in.sum()), 1)
    best_t, best_f1 = 0.0, -1.0
    for t in np.unique(np.round(np.concatenate([[0.0], best_in]), 3)):
        pred_oos = argmax_oos | (best_in < t)
        if (right_in & pred_oos).sum() / n_right > max_inscope_loss:
            break  # thresholds only grow from here: the loss only grows
        tp = float((pred_oos & is_oos).sum())
        f1 = 2 * tp / max(float(pred_oos.sum() + is_oos.sum()), 1.0)
        if f1 > best_f1 + 1e-9:
            best_t, best_f1 = float(t), f1
    return best_t
