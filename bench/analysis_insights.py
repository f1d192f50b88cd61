"""Speed of the insight engines: driving terms (10,000 texts per side) and idea clusters, against baselines.

Usage: .venv/bin/python bench/analysis_insights.py [--runs 3] [--n 10000] [--n-clusters 2000]

Texts are the seed corpus (6,900 German and English customer texts, resampled to --n per side, each with
its language). Driving terms: ours (lemmas, bigrams, log-odds with prior) against scikit-learn's
CountVectorizer (binary unigrams+bigrams of surface words, no lemmas) feeding the same log-odds, in the same
run. Clusters: ours on --n-clusters texts (TF-IDF path; embedding path on 384-d vectors) against scikit-learn
AgglomerativeClustering (average linkage, cosine) on the same vectors. Medians of --runs; the first call
that loads simplemma's dictionaries is not timed (a worker has loaded them long before).
"""

from __future__ import annotations

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from resonanz import analysis  # noqa: E402
from resonanz.analysis.clusters import cluster_texts  # noqa: E402
from resonanz.analysis.terms import driving_terms, log_odds  # noqa: E402


def timed(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def sklearn_terms(sel: list[str], base: list[str]):
    from sklearn.feature_extraction.text import CountVectorizer

    cv = CountVectorizer(binary=True, ngram_range=(1, 2), min_df=1)
    X = cv.fit_transform(sel + base)
    vocab = cv.get_feature_names_out()
    a = np.asarray(X[: len(sel)].sum(axis=0)).ravel()
    b = np.asarray(X[len(sel):].sum(axis=0)).ravel()
    return log_odds(Counter(dict(zip(vocab, a.tolist(), strict=True))),
                    Counter(dict(zip(vocab, b.tolist(), strict=True))))


def sklearn_clusters(vectors: np.ndarray, threshold: float):
    from sklearn.cluster import AgglomerativeClustering

    return AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="average",
                                   distance_threshold=1 - threshold).fit_predict(vectors)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--n-clusters", type=int, default=2000)
    args = ap.parse_args(argv)
    path = Path(analysis.__file__).parent / "seed" / "corpus.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    rng = random.Random(7)
    sel = [(r["text"], r.get("language")) for r in rng.choices(rows, k=args.n)]
    base = [(r["text"], r.get("language")) for r in rng.choices(rows, k=args.n)]
    driving_terms(sel[:50], base[:50])  # load simplemma's dictionaries and the language model once

    ours = timed(lambda: driving_terms(sel, base), args.runs)
    peer = timed(lambda: sklearn_terms([t for t, _ in sel], [t for t, _ in base]), args.runs)
    print(f"driving terms, {args.n:,} vs {args.n:,} texts: ours {ours:.2f} s, "
          f"CountVectorizer+log-odds {peer:.2f} s, ratio {ours / peer:.2f}")

    texts = [t for t, _ in sel[: args.n_clusters]]
    langs = [lg for _, lg in sel[: args.n_clusters]]
    tf = timed(lambda: cluster_texts(texts, languages=langs), args.runs)
    vectors = np.random.default_rng(0).normal(size=(len(texts), 384)).astype(np.float32)
    emb = timed(lambda: cluster_texts(texts, vectors, languages=langs), args.runs)
    peer_c = timed(lambda: sklearn_clusters(vectors, 0.25), args.runs)
    print(f"clusters, {len(texts):,} texts: ours TF-IDF {tf:.2f} s, ours embeddings {emb:.2f} s, "
          f"sklearn agglomerative (embeddings only) {peer_c:.2f} s, ratio {emb / peer_c:.2f}")
    print("command: .venv/bin/python bench/analysis_insights.py " + " ".join(argv or []))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
