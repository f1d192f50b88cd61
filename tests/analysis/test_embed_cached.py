"""``embed_cached``: a text that occurs twice in one call is embedded once; every row still gets its vector."""

from __future__ import annotations

import numpy as np

from resonanz.analysis.embcache import EmbeddingCache, embed_cached


class Counting:
    name, dim = "counting", 4

    def __init__(self) -> None:
        self.seen: list[str] = []

    def embed_queries(self, texts):
        self.seen.extend(texts)
        return np.array([[len(t), t.count("a"), 1.0, 0.0] for t in texts], dtype=np.float32)


def test_duplicates_are_embedded_once(tmp_path):
    enc = Counting()
    texts = ["spam spam", "hallo", "spam spam", "aaa", "hallo", "spam spam"]
    counted = []
    out = embed_cached(enc, texts, EmbeddingCache(tmp_path / "e.sqlite"), batch_size=2, progress=counted.append)
    assert sorted(enc.seen) == ["aaa", "hallo", "spam spam"]
    assert sum(counted) == len(texts)
    assert out[0].tolist() == out[2].tolist() == out[5].tolist() == [9, 2, 1, 0]
    assert out[3].tolist() == [3, 3, 1, 0]


def test_without_cache_too():
    enc = Counting()
    out = embed_cached(enc, ["x", "x", "y"], None)
    assert enc.seen == ["x", "y"] and out[1].tolist() == [1, 0, 1, 0]


def test_recent_cache_keeps_the_last_texts_only():
    from resonanz.analysis.embcache import RecentCache

    enc, recent = Counting(), RecentCache(size=2)
    embed_cached(enc, ["a", "b"], recent)
    embed_cached(enc, ["a", "c"], recent)  # "a" from memory; "c" pushes out "b"
    embed_cached(enc, ["b"], recent)
    assert enc.seen == ["a", "b", "c", "b"]
    assert RecentCache(size=0).get_many("counting", ["a"]) == [None]
