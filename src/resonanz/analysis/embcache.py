"""A disk cache of sentence embeddings, keyed by embedder name and text.

Embedding is by far the slowest step (about 150 short texts/s on two
cores), so evaluations and retraining reuse vectors computed once. The cache
is a single SQLite file: stdlib only, safe to share between processes.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np


def default_cache_path() -> Path:
    """RESONANZ_CACHE_DIR, else ~/.cache/resonanz: outside the repo, never committed."""
    root = os.environ.get("RESONANZ_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "resonanz")
    return Path(root) / "embeddings.sqlite"


def _key(model: str, text: str) -> bytes:
    return hashlib.sha1(f"{model}\x00{text}".encode("utf-8", "surrogatepass")).digest()


class EmbeddingCache:
    """Maps (embedder, text) to a float32 vector stored on disk."""

    def __init__(self, path: Path | None = None, max_entries: int | None = None) -> None:
        self.path = Path(path) if path else default_cache_path()
        self.max_entries = max_entries  # None: unbounded; else the oldest rows go past this many
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()  # one connection per thread: a web server answers from several threads
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS emb (k BLOB PRIMARY KEY, v BLOB NOT NULL)")

    @property
    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = sqlite3.connect(str(self.path), timeout=60)
        return db

    def get_many(self, model: str, texts: Sequence[str]) -> list[np.ndarray | None]:
        keys = [_key(model, t) for t in texts]
        found: dict[bytes, np.ndarray] = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for k, v in self._db.execute(f"SELECT k, v FROM emb WHERE k IN ({marks})", chunk):
                found[bytes(k)] = np.frombuffer(v, dtype=np.float32)
        return [found.get(k) for k in keys]

    def put_many(self, model: str, texts: Sequence[str], vectors: np.ndarray) -> None:
        rows = [(_key(model, t), np.asarray(v, dtype=np.float32).tobytes()) for t, v in zip(texts, vectors, strict=True)]
        with self._db:  # one short write transaction; other processes' writers wait (timeout), none is lost
            self._db.executemany("INSERT OR REPLACE INTO emb (k, v) VALUES (?, ?)", rows)
            if self.max_entries is not None:
                (count,) = self._db.execute("SELECT count(*) FROM emb").fetchone()
                if count > self.max_entries:  # REPLACE gives a re-written row a new rowid: oldest first
                    self._db.execute("DELETE FROM emb WHERE rowid IN (SELECT rowid FROM emb ORDER BY rowid "
                                     "LIMIT ?)", (count - self.max_entries,))

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None


class RecentCache:
    """The vectors of the last ``size`` texts, in memory: a retweet wave or a spam flood is embedded once.

    Keyed by a hash of (embedder, text), like the disk cache; thread-safe (web threads share an analyzer).
    """

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._rows: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get_many(self, model: str, texts: Sequence[str]) -> list[np.ndarray | None]:
        keys = [_key(model, t) for t in texts]
        with self._lock:
            out = [self._rows.get(k) for k in keys]
            for k, v in zip(keys, out, strict=True):
                if v is not None:
                    self._rows.move_to_end(k)
        return out

    def put_many(self, model: str, texts: Sequence[str], vectors: np.ndarray) -> None:
        if self.size <= 0:
            return
        with self._lock:
            for t, v in zip(texts, vectors, strict=True):
                self._rows[_key(model, t)] = np.asarray(v, dtype=np.float32)
            while len(self._rows) > self.size:
                self._rows.popitem(last=False)


def embed_cached(
    embedder,
    texts: Sequence[str],
    cache: EmbeddingCache | None,
    batch_size: int = 64,
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Embeddings for ``texts`` (queries), computing only the ones not in ``cache``."""
    texts = list(texts)
    dim = int(embedder.dim)
    out = np.zeros((len(texts), dim), dtype=np.float32)
    cached = cache.get_many(embedder.name, texts) if cache else [None] * len(texts)
    missing = [i for i, v in enumerate(cached) if v is None or v.shape[0] != dim]
    for i, v in enumerate(cached):
        if v is not None and v.shape[0] == dim:
            out[i] = v
    if progress and len(texts) > len(missing):
        progress(len(texts) - len(missing))
    # The same text twice (retweets, spam waves, repeated templates) is embedded once.
    where: dict[str, list[int]] = {}
    for i in missing:
        where.setdefault(texts[i], []).append(i)
    # Sort by length so batches hold texts of similar length (less padding work).
    unique = sorted(where, key=len)
    for start in range(0, len(unique), batch_size):
        batch = unique[start : start + batch_size]
        vecs = embedder.embed_queries(batch)
        for text, vec in zip(batch, vecs, strict=True):
            out[where[text]] = vec
        if cache:
            cache.put_many(embedder.name, batch, vecs)
        if progress:
            progress(sum(len(where[t]) for t in batch))
    return out
