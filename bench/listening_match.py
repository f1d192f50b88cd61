"""Listening-query matching speed: items per second against 200 queries.

Ours (the pipeline step's way): each item's words and lemmas are read once (``Document.of``) and only the
queries whose anchor words occur in it are evaluated (``QueryIndex``). Baseline in the same run: the naive per-query scan, which
reads every item again for every query. Texts are the insights demo's posts with varying brand names.

    PYTHONPATH=src .venv/bin/python bench/listening_match.py [--items 5000] [--queries 200] [--runs 3]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time

from resonanz.analysis.retrieval.text import lemma
from resonanz.insights.querylang import Document, QueryIndex, matches, parse

WORDS = ["Lieferung", "Versand", "Paket", "Rechnung", "Kündigung", "Service", "Preis", "App", "delivery", "refund",
         "Maschine", "Mühle", "Bohnen", "Abo", "crema", "Filter", "Kapsel", "Garantie"]


def texts(n: int, rng: random.Random) -> list[str]:
    from resonanz.insights.demo_texts import CALM, LAUNCH, SPIKE

    pool = CALM + LAUNCH + SPIKE
    return [rng.choice(pool).replace("Kaffeewerk", f"Marke{rng.randint(0, 199)}") for _ in range(n)]


def queries(n: int, rng: random.Random) -> list[str]:
    out = []
    for k in range(n):
        a, b, c = rng.sample(WORDS, 3)
        out.append(rng.choice([f"Marke{k}", f'Marke{k} AND ({a} OR {b})', f'"Marke{k}" NOT {c}',
                               f"(Marke{k} OR Marke{(k + 1) % n}) {a}*"]))
    return out


def ours(trees, items) -> int:
    index = QueryIndex(list(enumerate(trees)))
    return sum(len(index.matching(Document.of(text, "de"))) for text in items)


def naive(trees, items) -> int:
    hits = 0
    for t in trees:
        for text in items:
            hits += matches(t, Document.of(text, "de"))
    return hits


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--items", type=int, default=5000)
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--runs", type=int, default=3)
    a = p.parse_args()
    rng = random.Random(7)
    items, trees = texts(a.items, rng), [parse(q) for q in queries(a.queries, rng)]
    ours(trees, items[:50])  # warm the lemma cache for both sides alike
    naive_items = items[: max(200, a.items // 20)]  # the naive scan is slow: a sample, rate per item
    r_ours, r_naive = [], []
    for _ in range(a.runs):
        lemma.cache_clear()
        t = time.perf_counter()
        h1 = ours(trees, items)
        r_ours.append(len(items) / (time.perf_counter() - t))
        t = time.perf_counter()
        naive(trees, naive_items)
        r_naive.append(len(naive_items) / (time.perf_counter() - t))
    print(" ".join(sys.argv))
    print(f"{a.queries} queries, {a.items} items, {h1} matches")
    print(f"ours (one reading per item, all queries): {statistics.median(r_ours):,.0f} items/s")
    print(f"naive per-query scan:                      {statistics.median(r_naive):,.0f} items/s")
    print(f"ratio: {statistics.median(r_ours) / statistics.median(r_naive):.1f}x")


if __name__ == "__main__":
    main()
