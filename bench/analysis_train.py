"""How long ``ModelStore.train`` takes for 10,000 operator examples (plus the seed corpus), on this machine.

Usage: .venv/bin/python bench/analysis_train.py [--n 10000] [--no-embeddings] [--cold]

The examples are fresh variants from the seed generator with another random
seed (so they carry every label). ``--cold`` uses an empty embedding cache,
so every vector is computed, the worst case for a first training; without it
vectors already computed are reused, as on every retraining after the first.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

from resonanz.analysis import Example, ModelStore
from resonanz.analysis.embcache import EmbeddingCache
from resonanz.analysis.seed.generate import generate


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--no-embeddings", action="store_true")
    ap.add_argument("--cold", action="store_true")
    args = ap.parse_args(argv)
    print("command:", " ".join([os.path.basename(sys.executable), *sys.argv]))
    recs = generate(n=args.n, seed=99, n_neutral=0)
    examples = [Example(r["text"], r["sentiment"], r["intents"], r["language"]) for r in recs]
    emb = None
    if not args.no_embeddings:
        from resonanz.analysis.embedder import get_embedder

        emb = get_embedder()
    with tempfile.TemporaryDirectory() as d:
        cache = EmbeddingCache(os.path.join(d, "emb.sqlite")) if args.cold else EmbeddingCache()
        store = ModelStore(os.path.join(d, "models"))
        t, c = time.perf_counter(), time.process_time()
        load = os.getloadavg()[0]
        res = store.train(examples, embedder=emb, cache=cache)
        dt, cpu = time.perf_counter() - t, time.process_time() - c
    print(f"examples: {len(examples)} + seed corpus; embedder: {getattr(emb, 'name', 'none')}; "
          f"cache: {'cold' if args.cold else 'warm'}")
    print(f"trained {res.version} on {res.n_train}, held back {res.n_holdout}: {dt:.1f} s, {cpu:.1f} s CPU "
          f"(all threads), load average before {load:.1f} (holdout score {res.candidate_score})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
