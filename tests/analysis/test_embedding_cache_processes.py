"""The shared embedding cache with several processes writing at once: no entry is lost, none is torn, and
the file stays within its bound. Real processes (multiprocessing with spawn), one SQLite file.
"""

from __future__ import annotations

import hashlib
import multiprocessing

import numpy as np

from resonanz.analysis.retrieval.cache import CachedEmbedder

DIM = 8


class CountingEmbedder:
    """A deterministic stand-in for the model: the vector is a function of the text, so a torn or swapped
    row shows as a wrong vector."""

    name, dim = "fake-e5", DIM

    def __init__(self) -> None:
        self.calls = 0

    def embed_queries(self, texts):
        self.calls += len(texts)
        return np.stack([vector(t) for t in texts])

    embed_passages = embed_queries


def vector(text: str) -> np.ndarray:
    digest = hashlib.sha256(text.encode()).digest()
    return np.frombuffer(digest[: DIM * 4], dtype=np.uint32).astype(np.float32) / 2**32


def writer(directory: str, worker: int, n: int) -> None:
    cached = CachedEmbedder(CountingEmbedder(), directory)
    for start in range(0, n, 7):  # many small writes, interleaved with the other processes'
        cached.embed_queries([f"w{worker} text {i}" for i in range(start, min(n, start + 7))])


def test_four_processes_write_at_once_and_nothing_is_lost(tmp_path):
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=writer, args=(str(tmp_path), w, 150)) for w in range(4)]
    for p in processes:
        p.start()
    for p in processes:
        p.join(120)
        assert p.exitcode == 0
    inner = CountingEmbedder()
    cached = CachedEmbedder(inner, tmp_path)
    texts = [f"w{w} text {i}" for w in range(4) for i in range(150)]
    got = cached.embed_queries(texts)
    assert inner.calls == 0  # every one of the 600 vectors was found
    assert np.allclose(got, np.stack([vector(t) for t in texts]))
    assert not list(tmp_path.glob("*.npy"))  # no whole-file rewrites any more


def test_the_cache_is_bounded_and_keeps_the_newest(tmp_path):
    inner = CountingEmbedder()
    cached = CachedEmbedder(inner, tmp_path, max_entries=100)
    cached.embed_queries([f"old {i}" for i in range(80)])
    cached.embed_queries([f"new {i}" for i in range(80)])
    (count,) = cached.cache._db.execute("SELECT count(*) FROM emb").fetchone()
    assert count == 100
    inner.calls = 0
    cached.embed_queries([f"new {i}" for i in range(80)])
    assert inner.calls == 0  # the newest stayed
    cached.embed_queries([f"old {i}" for i in range(80)])
    assert inner.calls == 60  # the 60 oldest went and are computed again; 20 were still there
