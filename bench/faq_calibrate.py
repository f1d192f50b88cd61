"""Fit the default confidence model (used when an index has too little history of its own).

    .venv/bin/python bench/faq_calibrate.py

Uses BANKING77's *training* split only (20 questions per intent as history, a
leave-one-out pass over them): another domain than StackFAQ and Bitext and never
their test queries. Prints the weights to paste into confidence.py.
"""

from __future__ import annotations

import csv
import json
import random
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from resonanz.analysis.embedder import get_embedder  # noqa: E402
from resonanz.analysis.retrieval import Document, RetrievalIndex  # noqa: E402
from resonanz.analysis.retrieval.cache import CachedEmbedder  # noqa: E402
from resonanz.analysis.retrieval.datasets import data_dir, words  # noqa: E402


def main() -> int:
    by_intent: dict[str, list[str]] = defaultdict(list)
    with open(data_dir() / "banking77" / "train.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            by_intent[row["category"]].append(row["text"])
    rng = random.Random(5)
    docs = []
    for intent in sorted(by_intent):
        texts = sorted(by_intent[intent])
        rng.shuffle(texts)
        docs.append(Document(intent, words(intent), "", "en", texts[:20]))
    raw = get_embedder()
    index = RetrievalIndex(CachedEmbedder(raw) if raw is not None else None)
    index.add_many(docs)
    if not index.calibrate():
        print("not enough history to fit")
        return 1
    print(json.dumps(index.confidence.to_json()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
