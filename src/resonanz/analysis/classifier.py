"""Stacked classifiers: linear SVM on TF-IDF + logistic regression and kNN on embeddings.

Why stacking: the TF-IDF model knows the words of this data set (product
names, jargon), the embedding models know meaning and paraphrase across
German and English; their errors differ. A small logistic regression trained
on out-of-fold scores of each learns how much to trust which, and gives
calibrated probabilities at the same time. Without embeddings the stack
reduces to the SVM plus calibration.
"""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from .outofscope import OutOfScope, fit_threshold


def _dec(model, X) -> np.ndarray:
    d = model.decision_function(X)
    return d.reshape(-1, 1) if d.ndim == 1 else d


C_EMB_GRID = (0.03, 0.1, 0.3, 1.0)  # for standardised embeddings; chosen per fit on out-of-fold scores
# What round 3 chose by cross-validation on the training splits of intent sets (BANKING77 10-shot, out of scope)
INTENT_SETTINGS = {"C_emb": "auto", "emb_prep": "std"}


class _EmbPrep:
    """Standardises sentence vectors with the training data's mean and spread.

    e5 vectors are anisotropic: every pair has a cosine of 0.7-0.9 and each
    dimension varies by a few hundredths, so an L2-penalised model on the raw
    vectors is regularised far more than its C says, and a nearest-neighbour
    cosine is dominated by the shared direction. Centering (and scaling per
    dimension for the linear model) removes that before either reads them.
    """

    def fit(self, E: np.ndarray) -> _EmbPrep:
        self.mean = E.mean(axis=0).astype(np.float32)
        self.std = (E.std(axis=0) + 1e-6).astype(np.float32)
        return self

    def linear(self, E: np.ndarray) -> np.ndarray:
        return (E - self.mean) / self.std

    def centred(self, E: np.ndarray) -> np.ndarray:
        C = E - self.mean
        return C / np.maximum(np.linalg.norm(C, axis=1, keepdims=True), 1e-6)


class _EmbKNN:
    """Per class, the highest cosine similarity to a training example of that class."""

    def fit(self, E: np.ndarray, y: np.ndarray, n_classes: int) -> _EmbKNN:
        order = np.argsort(y, kind="stable")
        self.E = E[order]
        ys = y[order]
        self.starts = np.searchsorted(ys, np.arange(n_classes))
        self.present = np.isin(np.arange(n_classes), ys)
        return self

    def scores(self, E: np.ndarray) -> np.ndarray:
        out = np.zeros((E.shape[0], len(self.starts)), dtype=np.float32)
        for i in range(0, E.shape[0], 2048):
            sims = E[i : i + 2048] @ self.E.T
            red = np.maximum.reduceat(sims, np.minimum(self.starts, self.E.shape[0] - 1), axis=1)
            out[i : i + 2048] = np.where(self.present, red, 0.0)
        return out


class _EmbProto:
    """Per class, the cosine similarity to the class's mean vector (a prototype; steadier than the nearest
    example when a class has few examples)."""

    def fit(self, E: np.ndarray, y: np.ndarray, n_classes: int) -> _EmbProto:
        P = np.zeros((n_classes, E.shape[1]), dtype=np.float32)
        np.add.at(P, y, E)
        self.P = P / np.maximum(np.linalg.norm(P, axis=1, keepdims=True), 1e-6)
        return self

    def scores(self, E: np.ndarray) -> np.ndarray:
        return (E @ self.P.T).astype(np.float32)


class _TiedMeta:
    """Many classes: one weight per base model (shared by all classes) plus a temperature.

    A full logistic regression over k x models scores has k*k*models weights
    (77 intents: 17,000+) and overfits ten thousand examples; tying the weights
    keeps the combination to a handful of numbers chosen on out-of-fold scores.
    """

    def fit(self, parts: list[np.ndarray], y: np.ndarray) -> _TiedMeta:
        self.scale = [float(p.std()) or 1.0 for p in parts]
        z = [p / s for p, s in zip(parts, self.scale, strict=True)]
        grid = [0.0, 0.25, 0.5, 1.0, 2.0]
        best = (-1.0, None)
        for ws in itertools.product(grid, repeat=len(z)):
            if not any(ws):
                continue
            acc = float((sum(w * p for w, p in zip(ws, z, strict=True)).argmax(axis=1) == y).mean())
            if acc > best[0] + 1e-9:
                best = (acc, ws)
        self.weights = best[1]
        comb = self._combine(z)
        losses = {}
        for t in (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0):
            p = _softmax(comb * t)
            losses[t] = -float(np.mean(np.log(p[np.arange(len(y)), y] + 1e-12)))
        self.temperature = min(losses, key=losses.get)
        self.classes_ = np.arange(parts[0].shape[1])
        return self

    def _combine(self, z: list[np.ndarray]) -> np.ndarray:
        return sum(w * p for w, p in zip(self.weights, z, strict=True))

    def predict_proba(self, parts: list[np.ndarray]) -> np.ndarray:
        z = [p / s for p, s in zip(parts, self.scale, strict=True)]
        return _softmax(self._combine(z) * self.temperature)


def _softmax(d: np.ndarray) -> np.ndarray:
    e = np.exp(d - d.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


class StackedClassifier:
    """Single-label classifier over sparse features X and optional dense embeddings E."""

    # The product's defaults stay the raw vectors with C_emb 20: round 3 of the accuracy work (bench/accuracy_cv.py,
    # docs/benchmarks.md) chose standardised vectors with C picked per fit on intent sets only (INTENT_SETTINGS,
    # used by `resonanz eval` for intent sets); their effect on sentiment and on training time is not measured.
    def __init__(self, C_svm: float = 1.0, C_emb: float | str = 20.0, C_meta: float = 1.0, folds: int = 4,
                 knn: bool = True, seed: int = 0, meta_cols: int = 0,
                 balanced: bool = True, oos_label: str | None = None, oos_budget: float = 0.03,
                 joint: float = 0.0, emb_prep: str = "raw", proto: bool = False) -> None:
        self.balanced = balanced
        # "raw": the encoder's vectors as they are (C_emb for them); "std": standardised for the linear model and
        # centred for kNN (_EmbPrep), with C_emb="auto" picking C from C_EMB_GRID on out-of-fold scores
        self.emb_prep = emb_prep
        self.proto = proto  # one more base model: similarity to each class's mean vector (_EmbProto)
        # > 0: the SVM reads the embeddings too (times this weight) beside the n-grams, one linear model over both
        self.joint = joint
        # the "everything else" class, if the labels have one (see outofscope.py); None: a plain classifier
        self.oos_label, self.oos_budget = oos_label, oos_budget
        self.oos: OutOfScope | None = None
        self.C_svm, self.C_emb, self.C_meta = C_svm, C_emb, C_meta
        self.meta_cols = meta_cols  # last columns of X (dense cues) the meta learner also reads
        self.folds, self.knn, self.seed = folds, knn, seed

    def _prep(self):
        return getattr(self, "prep", None)

    def _lin(self, E):
        prep = self._prep()
        return E if prep is None or E is None else prep.linear(E)

    def _svm_input(self, X, E):
        if not getattr(self, "joint", 0.0) or not getattr(self, "use_emb", False):
            return X
        if E is None:
            dense = np.zeros((X.shape[0], self.emb_dim), dtype=np.float32)
        else:  # standardised vectors have norm ~sqrt(dim): scale back to the n-grams' unit norm
            prep = self._prep()
            dense = E * self.joint if prep is None else prep.linear(E) * (self.joint / np.sqrt(self.emb_dim))
        return sp.hstack([X, sp.csr_matrix(dense)], format="csr")

    def _fit_base(self, X, E, y, w, C_embs=None):
        """The base models; with several C_embs, one embedding model per C (for choosing C out of fold)."""
        cw = "balanced" if self.balanced else None
        svm = LinearSVC(C=self.C_svm, class_weight=cw).fit(self._svm_input(X, E), y, sample_weight=w)
        emb = knn = proto = None
        if E is not None:
            L = self._lin(E)
            emb = {C: LogisticRegression(C=C, max_iter=300 if self._prep() is None else 1000,
                                         class_weight=cw).fit(L, y, sample_weight=w)
                   for C in (C_embs or [self.C_emb_])}
            if self.knn:
                prep = self._prep()
                knn = _EmbKNN().fit(E if prep is None else prep.centred(E), y, len(self.classes_))
            if getattr(self, "proto", False):
                prep = self._prep()
                proto = _EmbProto().fit(E if prep is None else prep.centred(E), y, len(self.classes_))
        return (svm, emb, knn, proto) if proto is not None else (svm, emb, knn)

    def _meta_features(self, base, X, E, C=None) -> np.ndarray:
        svm, emb, knn = base[:3]
        proto = base[3] if len(base) > 3 else None
        parts = [self._expand(svm, _dec(svm, self._svm_input(X, E)))]
        if emb is not None and E is not None:
            # models saved before C was chosen per fit hold one embedding model, not one per C
            model = emb[getattr(self, "C_emb_", self.C_emb) if C is None else C] if isinstance(emb, dict) else emb
            parts.append(self._expand(model, _dec(model, self._lin(E))))
            if knn is not None:
                prep = self._prep()
                parts.append(knn.scores(E if prep is None else prep.centred(E)) * 5.0)
            if proto is not None:
                prep = self._prep()
                parts.append(proto.scores(E if prep is None else prep.centred(E)) * 5.0)
        if self.meta_cols:
            parts.append(X[:, -self.meta_cols :].toarray())
        return np.hstack(parts)

    def _expand(self, model, d: np.ndarray) -> np.ndarray:
        """Scores in the column order of self.classes_, also when a fold lacked a class."""
        k = len(self.classes_)
        if k == 2:
            if len(model.classes_) == 2:
                return d
            return np.full((d.shape[0], 1), 10.0 if model.classes_[0] == 1 else -10.0)
        out = np.full((d.shape[0], k), -10.0, dtype=np.float64)
        out[:, model.classes_] = d if len(model.classes_) > 2 else np.hstack([-d, d])
        return out

    def fit(self, X: sp.csr_matrix, E: np.ndarray | None, labels: list[str], sample_weight=None) -> StackedClassifier:
        self.classes_ = np.array(sorted(set(labels)))
        index = {c: i for i, c in enumerate(self.classes_)}
        y = np.array([index[v] for v in labels])
        w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        self.use_emb = E is not None
        self.emb_dim = 0 if E is None else E.shape[1]
        self.prep = _EmbPrep().fit(E) if E is not None and getattr(self, "emb_prep", "raw") == "std" else None
        auto = self.C_emb == "auto" and E is not None
        grid = list(C_EMB_GRID) if auto else [1.0 if self.C_emb == "auto" else float(self.C_emb)]
        self.C_emb_ = grid[0]
        min_count = min(Counter(y.tolist()).values())
        folds = min(self.folds, min_count)
        if folds >= 2:
            oofs: dict[float, np.ndarray] = {}
            skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=self.seed)
            for tr, te in skf.split(np.zeros(len(y)), y):
                base = self._fit_base(X[tr], None if E is None else E[tr], y[tr], w[tr], grid)
                for C in grid:
                    m = self._meta_features(base, X[te], None if E is None else E[te], C)
                    if C not in oofs:
                        oofs[C] = np.zeros((len(y), m.shape[1]))
                    oofs[C][te] = m
            self.C_emb_ = self._choose_C(oofs, y) if len(grid) > 1 else grid[0]
            oof = oofs[self.C_emb_]
            k = len(self.classes_)
            if k > 10:  # many classes: tied weights (see _TiedMeta)
                n_parts = oof.shape[1] // k
                parts = [oof[:, i * k : (i + 1) * k] for i in range(n_parts)]
                self.meta = _TiedMeta().fit(parts, y)
                self.meta_svm = _TiedMeta().fit(parts[:1], y)
                self.tied = True
                self._fit_oos(self.meta.predict_proba(parts), y)
                self.base = self._fit_base(X, E, y, w)
                return self
            self.meta = LogisticRegression(C=self.C_meta, max_iter=1000).fit(oof, y, sample_weight=w)
            self._fit_oos(self.meta.predict_proba(oof), y)
            # A second calibrator on the SVM columns alone, for when embeddings are unavailable at run time.
            n_svm = 1 if len(self.classes_) == 2 else len(self.classes_)
            cols = list(range(n_svm)) + list(range(oof.shape[1] - self.meta_cols, oof.shape[1]))
            self.meta_svm = LogisticRegression(C=self.C_meta, max_iter=1000).fit(oof[:, cols], y, sample_weight=w)
        else:
            self.meta = self.meta_svm = None
            self._fit_oos(None, y)
        self.base = self._fit_base(X, E, y, w)
        return self

    def _choose_C(self, oofs: dict[float, np.ndarray], y: np.ndarray) -> float:
        """The embedding model's C whose out-of-fold scores are right most often (ties: the smaller C)."""
        k = len(self.classes_)
        start = 1 if k == 2 else k  # the embedding model's columns follow the SVM's
        best = None
        for C in sorted(oofs):
            d = oofs[C][:, start : start + (1 if k == 2 else k)]
            pred = (d[:, 0] > 0).astype(int) if k == 2 else d.argmax(axis=1)
            acc = float((pred == y).mean())
            if best is None or acc > best[0] + 1e-9:
                best = (acc, C)
        return best[1]

    def _fit_oos(self, oof_proba: np.ndarray | None, y: np.ndarray) -> None:
        """The out-of-scope rule, its threshold chosen on out-of-fold probabilities (training data only)."""
        self.oos = None
        if self.oos_label is None or self.oos_label not in self.classes_ or len(self.classes_) < 3:
            return
        j = int(np.flatnonzero(self.classes_ == self.oos_label)[0])
        t = fit_threshold(oof_proba, y, j, self.oos_budget) if oof_proba is not None else 0.0
        self.oos = OutOfScope(self.oos_label, j, t)

    def predict_proba(self, X: sp.csr_matrix, E: np.ndarray | None) -> np.ndarray:
        meta = self.meta if (E is not None or not self.use_emb) else self.meta_svm
        m = self._meta_features(self.base, X, E if self.use_emb else None)
        if getattr(self, "tied", False):
            k = len(self.classes_)
            return meta.predict_proba([m[:, i * k : (i + 1) * k] for i in range(m.shape[1] // k)][: len(meta.weights)])
        if meta is not None:
            p = meta.predict_proba(m)
            out = np.zeros((X.shape[0], len(self.classes_)))
            out[:, meta.classes_] = p
            return out
        # Too few examples per class for stacking: softmax over the SVM's scores.
        d = self._expand(self.base[0], _dec(self.base[0], self._svm_input(X, E if self.use_emb else None)))
        if d.shape[1] == 1:
            d = np.hstack([-d, d])
        e = np.exp(d - d.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, X, E) -> list[str]:
        p = self.predict_proba(X, E)
        idx = p.argmax(axis=1)
        oos = getattr(self, "oos", None)  # models saved before the rule existed have none
        if oos is not None:
            idx = np.where(oos.mask(p), oos.index, idx)
        return [str(c) for c in self.classes_[idx]]


class MultiLabelClassifier:
    """One binary stacked classifier per label (one-vs-rest), for intents that co-occur."""

    def __init__(self, **kw) -> None:
        self.kw = kw
        self.models: dict[str, StackedClassifier | float] = {}

    def fit(self, X, E, label_sets: list[list[str]], labels: list[str] | None = None, sample_weight=None):
        self.labels = sorted(labels or {lab for s in label_sets for lab in s})
        for lab in self.labels:
            y = ["yes" if lab in s else "no" for s in label_sets]
            if len(set(y)) < 2:  # always or never present: a constant
                self.models[lab] = 1.0 if y[0] == "yes" else 0.0
                continue
            self.models[lab] = StackedClassifier(**self.kw).fit(X, E, y, sample_weight)
        return self

    def predict_proba(self, X, E) -> np.ndarray:
        out = np.zeros((X.shape[0], len(self.labels)))
        for j, lab in enumerate(self.labels):
            m = self.models[lab]
            if isinstance(m, float):
                out[:, j] = m
            else:
                out[:, j] = m.predict_proba(X, E)[:, list(m.classes_).index("yes")]
        return out
