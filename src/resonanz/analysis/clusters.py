"""Idea clusters: short texts grouped by what they say, each group with a size, a label and examples.

Customers phrase one wish in many ways ("dark mode please", "Dunkelmodus wäre toll", "the app is too bright
at night"); grouping them shows a product team which ideas are asked for most. Texts are compared by their
sentence embeddings when the caller has them (multilingual, so German and English phrasings of one idea
meet) and otherwise by TF-IDF over the same lemmas and bigrams as the driving terms.

Embeddings of one model share a large common direction, so they are centred on their mean before cosine
similarity (the caller's ``centre``, for example the mean of all stored embeddings, or else the mean of the
texts themselves when there are at least 30; a handful of texts is compared uncentred); then groups are formed by average-linkage agglomerative clustering cut at a similarity
threshold: every pair of groups merged is, on average, at least that similar, and the number of groups
follows from the data rather than being guessed. Beyond ``max_exact`` texts (the pairwise matrix grows
with the square) k-means first condenses them into small groups that are then clustered the same way.
A group's label is its driving terms against all other texts; its examples are the texts closest to its
centre. Everything is deterministic: same input, same clusters, same order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .terms import DrivingTerm, log_odds, text_terms

EMBEDDING_SIMILARITY = 0.25   # centred cosine; chosen on banking77 and bitext (docs/benchmarks-alerts.md)
RAW_EMBEDDING_SIMILARITY = 0.86  # plain cosine, for a handful of texts (too few to estimate a centre)
TFIDF_SIMILARITY = 0.10
MIN_FOR_CENTRE = 30


@dataclass
class Cluster:
    size: int
    label: str                               # the top terms, joined: "dark mode · dunkelmodus · night"
    members: list[int]                       # indices into the input, in input order
    examples: list[int]                      # the most typical members, most typical first
    cohesion: float                          # mean similarity of the members to the centre
    terms: list[DrivingTerm] = field(default_factory=list)

    def to_dict(self, texts: Sequence[str] | None = None) -> dict:
        out = {"size": self.size, "label": self.label, "members": self.members, "examples": self.examples,
               "cohesion": round(self.cohesion, 4), "terms": [t.to_dict() for t in self.terms]}
        if texts is not None:
            out["example_texts"] = [texts[i] for i in self.examples]
        return out


def cluster_texts(texts: Sequence[str], vectors: np.ndarray | None = None, *,
                  languages: Sequence[str | None] | None = None, similarity: float | None = None,
                  centre: np.ndarray | None = None, min_size: int = 2, examples: int = 3, label_terms: int = 4,
                  max_exact: int = 3000) -> list[Cluster]:
    """Group ``texts`` (largest group first); texts in no group of at least ``min_size`` are left out.

    ``vectors`` are the texts' embeddings (one row per text); without them TF-IDF is used. ``similarity``
    is the average similarity at which groups stop merging (default depends on the kind of vectors).
    """
    if isinstance(texts, str) or not isinstance(texts, Sequence):
        raise TypeError("texts must be a list of strings")
    n = len(texts)
    if languages is not None and len(languages) != n:
        raise ValueError(f"got {len(languages)} languages for {n} texts")
    if min_size < 1 or examples < 0 or label_terms < 0:
        raise ValueError("min_size must be at least 1, examples and label_terms at least 0")
    if n == 0:
        return []
    langs = list(languages) if languages is not None else [None] * n
    term_sets = [text_terms(t or "", lg) for t, lg in zip(texts, langs, strict=True)]
    if vectors is not None:
        X = _unit(_matrix(vectors, n))
        if centre is not None or n >= MIN_FOR_CENTRE:
            mu = X.mean(axis=0) if centre is None else _matrix(np.reshape(centre, (1, -1)), 1)[0]
            if mu.shape != X[0].shape:
                raise ValueError(f"centre must have {X.shape[1]} values, got {mu.shape[0]}")
            X = _unit(X - mu)
            default = EMBEDDING_SIMILARITY
        else:
            default = RAW_EMBEDDING_SIMILARITY
        threshold = default if similarity is None else similarity
    else:
        X = _tfidf(term_sets)
        threshold = TFIDF_SIMILARITY if similarity is None else similarity
    if not -1.0 <= threshold <= 1.0:
        raise ValueError("similarity must lie between -1 and 1")
    labels = _agglomerate(X, threshold, max_exact) if n > 1 else np.zeros(1, dtype=int)
    return _describe(X, labels, term_sets, min_size, examples, label_terms)


def _matrix(vectors, n: int) -> np.ndarray:
    X = np.asarray(vectors, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] != n:
        raise ValueError(f"vectors must be a matrix with one row per text ({n}), got shape {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError("vectors contain NaN or infinite values")
    return X


def _unit(X: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    return X / np.where(norms > 0, norms, 1.0)


def _tfidf(term_sets: list[set[str]]):
    """Binary-tf, smoothed-idf, L2-normalised sparse rows (short texts rarely repeat a term)."""
    from scipy import sparse

    vocab: dict[str, int] = {}
    rows, cols = [], []
    for i, terms in enumerate(term_sets):
        for t in sorted(terms):
            rows.append(i)
            cols.append(vocab.setdefault(t, len(vocab)))
    X = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(term_sets), max(len(vocab), 1)))
    df = np.bincount(cols, minlength=X.shape[1])
    X = X @ sparse.diags(np.log((1 + len(term_sets)) / (1 + df)) + 1)
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    return sparse.csr_matrix(sparse.diags(1 / np.where(norms > 0, norms, 1.0)) @ X)


def _agglomerate(X, threshold: float, max_exact: int) -> np.ndarray:
    from scipy import sparse
    from sklearn.cluster import KMeans

    n = X.shape[0]
    if n <= max_exact:
        return _average_linkage(X, threshold)
    if sparse.issparse(X):  # condense the vocabulary first (latent semantic analysis), deterministically
        from sklearn.decomposition import TruncatedSVD

        X = _unit(TruncatedSVD(n_components=min(256, X.shape[1] - 1), random_state=0).fit_transform(X))
    distinct = len(np.unique(np.round(X, 6), axis=0))
    km = KMeans(n_clusters=max(2, min(max_exact // 2, distinct)), n_init=1, random_state=0).fit(X)
    return _average_linkage(_unit(km.cluster_centers_), threshold)[km.labels_]


def _average_linkage(X, threshold: float) -> np.ndarray:
    from scipy import sparse
    from sklearn.cluster import AgglomerativeClustering

    S = X @ X.T
    S = S.toarray() if sparse.issparse(S) else S
    D = np.clip(1.0 - S, 0.0, 2.0)
    np.fill_diagonal(D, 0.0)
    model = AgglomerativeClustering(n_clusters=None, metric="precomputed", linkage="average",
                                    distance_threshold=1.0 - threshold)
    return model.fit_predict(D)


def _describe(X, labels, term_sets, min_size: int, n_examples: int, n_terms: int) -> list[Cluster]:
    groups: dict[int, list[int]] = {}
    for i, lab in enumerate(labels.tolist()):
        groups.setdefault(lab, []).append(i)
    kept = sorted((m for m in groups.values() if len(m) >= min_size), key=lambda m: (-len(m), m[0]))
    everything = Counter(t for terms in term_sets for t in terms)
    all_terms = float(sum(everything.values()))
    out = []
    for members in kept:
        rows = X[members]
        centre = np.asarray(rows.mean(axis=0)).ravel()
        sims = np.asarray(rows @ (centre / (np.linalg.norm(centre) or 1.0))).ravel()
        order = sorted(range(len(members)), key=lambda k: (-sims[k], members[k]))
        inside = Counter(t for i in members for t in term_sets[i])
        outside = Counter({t: everything[t] - c for t, c in inside.items()})   # the rest, for these terms only
        n_in = float(sum(inside.values()))
        terms = log_odds(inside, outside, top=n_terms, min_count=min(2, len(members)), min_z=0.0,
                         totals=(n_in, all_terms - n_in)) if n_terms else []
        if len(terms) < n_terms:  # a group alone in the data has no "rest" to stand out from: plain counts
            seen = {t.term for t in terms}
            terms += [DrivingTerm(t, 0.0, c, outside.get(t, 0)) for t, c in
                      sorted(inside.items(), key=lambda x: (-x[1], x[0])) if t not in seen][: n_terms - len(terms)]
        out.append(Cluster(size=len(members), label=" · ".join(t.term for t in terms), members=members,
                           examples=[members[k] for k in order[:n_examples]], cohesion=float(sims.mean()),
                           terms=terms))
    return out
