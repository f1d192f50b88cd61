"""An on-disk cache in front of an Embedder, keyed by a hash of model, kind and text.

Embedding is the slow part of an evaluation (StackFAQ: 1,375 queries and 125 long
threads take minutes on two cores); the ranking code is what changes between
runs, so vectors are computed once and read back.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from ..embedder import Embedder


def default_cache_dir() -> Path:
    return Path(os.environ.get("RESONANZ_CACHE_DIR", "var/cache")) / "embeddings"


class CachedEmbedder:
    """Same interface as the wrapped Embedder; new vectors are appended to one file per kind."""

    def __init__(self, inner: Embedder, directory: str | Path | None = None) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in inner.name)
        self.dir = Path(directory or default_cache_dir()) / safe
        self._tables: dict[str, tuple[dict[str, int], np.ndarray]] = {}

    def _key(self, text: str) -> str:
        return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()

    def _load(self, kind: str) -> tuple[dict[str, int], np.ndarray]:
        if kind not in self._tables:
            keys_path, vec_path = self.dir / f"{kind}.json", self.dir / f"{kind}.npy"
            if keys_path.exists() and vec_path.exists():
                keys = json.loads(keys_path.read_text())
                vecs = np.load(vec_path)
                if len(keys) != len(vecs):  # a torn write: start over rather than misalign
                    keys, vecs = [], np.zeros((0, self.dim), np.float32)
            else:
                keys, vecs = [], np.zeros((0, self.dim), np.float32)
            self._tables[kind] = ({k: i for i, k in enumerate(keys)}, vecs)
        return self._tables[kind]

    def _embed(self, kind: str, texts: list[str], batch: int = 64, progress: bool = False) -> np.ndarray:
        index, vecs = self._load(kind)
        keys = [self._key(t) for t in texts]
        missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in index}.items())
        if missing:
            fn = self.inner.embed_queries if kind == "query" else self.inner.embed_passages
            chunks = range(0, len(missing), batch)
            if progress:
                from tqdm import tqdm

                chunks = tqdm(chunks, desc=f"embedding {kind}s", unit="batch", file=None)
            new = [fn([t for _, t in missing[i : i + batch]]) for i in chunks]
            vecs = np.concatenate([vecs, *new]).astype(np.float32)
            for k, _ in missing:
                index[k] = len(index)
            self._tables[kind] = (index, vecs)
            self._save(kind)
        return vecs[[index[k] for k in keys]] if keys else np.zeros((0, self.dim), np.float32)

    def _save(self, kind: str) -> None:
        index, vecs = self._tables[kind]
        self.dir.mkdir(parents=True, exist_ok=True)
        keys = sorted(index, key=index.__getitem__)
        tmp = self.dir / f"{kind}.tmp.npy"
        np.save(tmp, vecs)
        os.replace(tmp, self.dir / f"{kind}.npy")
        (self.dir / f"{kind}.json.tmp").write_text(json.dumps(keys))
        os.replace(self.dir / f"{kind}.json.tmp", self.dir / f"{kind}.json")

    def embed_queries(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self._embed("query", texts, progress=progress)

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self._embed("passage", texts, progress=progress)
