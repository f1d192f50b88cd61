"""Fill the embedding cache for the shared benchmark sets (and the intent-oos set), in the order given.

Embedding is the slow part of every evaluation; doing it once, in the background, lets the
evaluations and bench/accuracy_experiments.py reuse the vectors (embcache).

    python bench/embed_sets.py var/data/intent-oos banking77 sb10k germeval2017-sentiment
"""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from resonanz.analysis import datasets  # noqa: E402
from resonanz.analysis.embcache import EmbeddingCache, embed_cached  # noqa: E402
from resonanz.analysis.embedder import get_embedder  # noqa: E402


def texts_of(item: str) -> list[str]:
    path = Path(item)
    if path.is_dir():
        out = []
        for f in sorted(path.glob("*.csv")):
            with f.open(encoding="utf-8", newline="") as fh:
                out += [r["text"] for r in csv.DictReader(fh)]
        return out
    root = datasets.data_dir()
    if item == "sb10k-dev":
        with (root / "sb10k" / "split_dev.tsv").open(encoding="utf-8") as fh:
            return [r[2] for r in csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE) if r]
    s = datasets.load_named(item, root)
    return s.test_texts + s.train_texts


def main(items: list[str]) -> int:
    embedder = get_embedder()
    cache = EmbeddingCache()
    for item in items:
        texts = list(dict.fromkeys(texts_of(item)))
        t = time.perf_counter()
        embed_cached(embedder, texts, cache)
        print(f"{item}: {len(texts)} texts in {time.perf_counter() - t:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
