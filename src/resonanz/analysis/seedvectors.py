"""Seed-corpus embeddings shipped in the package, so the first ``resonanz setup`` does not embed 6,900 texts.

Embedding the seed corpus is almost all of the first model build (16.5
minutes on a busy two-core machine). The corpus is ours and changes only
with a commit, so ``resonanz build_seed`` (or ``make seed-vectors``) embeds it
once and writes ``seed/vectors.npz``: int8 vectors with one scale per row
(cosine to the float32 vector above 0.9999, a quarter of the size), plus a
fingerprint of what they were computed from: the SHA-256 of the texts as the
trainer embeds them, the encoder's name and version. ``load`` returns the
vectors only when the fingerprint matches the corpus and encoder in use and a
few rows re-embedded now agree with the file; otherwise the caller embeds as
before and says why (``status``).
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .features import clean_text
from .model import SEED_CORPUS, seed_examples

VECTORS_FILE = Path(__file__).parent / "seed" / "vectors.npz"
FORMAT = 1
CHECK_ROWS = 4  # rows re-embedded at load time to prove the encoder still gives these vectors
MIN_AGREEMENT = 0.98  # cosine; int8 rounding alone stays above 0.9999


def seed_texts() -> list[str]:
    """The seed texts exactly as ``train_model`` embeds them."""
    return [clean_text(e.text) for e in seed_examples()]


def texts_digest(texts: Sequence[str]) -> str:
    h = hashlib.sha256()
    for t in texts:
        h.update(t.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()


def encoder_version(embedder) -> str:
    """Name plus version of the encoder: vectors from another release are not trusted."""
    return f"{embedder.name}@{getattr(embedder, 'version', 'unknown')}"


def quantize(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 rows with one float32 scale each (symmetric, per row)."""
    v = np.asarray(vectors, dtype=np.float32)
    scale = np.abs(v).max(axis=1) / 127.0
    scale[scale == 0] = 1.0
    return np.round(v / scale[:, None]).astype(np.int8), scale.astype(np.float32)


def dequantize(q: np.ndarray, scale: np.ndarray) -> np.ndarray:
    v = q.astype(np.float32) * scale[:, None]
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    return v / np.where(norms == 0, 1.0, norms)


@dataclass
class BuildInfo:
    path: Path
    rows: int
    bytes: int
    seconds: float
    cpu_seconds: float
    encoder: str


def build(embedder, cache=None, path: Path | None = None,
          progress: Callable[[int], None] | None = None) -> BuildInfo:
    """Embed the seed corpus (through ``cache`` when given) and write the compact file."""
    from .embcache import embed_cached

    path = Path(path or VECTORS_FILE)
    t0, c0 = time.perf_counter(), time.process_time()
    texts = seed_texts()
    vecs = embed_cached(embedder, texts, cache, progress=progress)
    q, scale = quantize(vecs)
    meta = {"format": FORMAT, "texts_sha256": texts_digest(texts), "rows": len(texts), "dim": int(vecs.shape[1]),
            "encoder": encoder_version(embedder), "corpus_file": SEED_CORPUS.name,
            "corpus_file_sha256": hashlib.sha256(SEED_CORPUS.read_bytes()).hexdigest()}
    buf = io.BytesIO()
    np.savez_compressed(buf, q=q, scale=scale, meta=np.array(json.dumps(meta, sort_keys=True)))
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(buf.getvalue())
    tmp.replace(path)
    _load_file.cache_clear()
    _checked.clear()
    return BuildInfo(path, len(texts), path.stat().st_size, round(time.perf_counter() - t0, 1),
                     round(time.process_time() - c0, 1), meta["encoder"])


@lru_cache(maxsize=2)
def _load_file(path: str, stamp: int | None) -> tuple[dict, np.ndarray] | None:
    p = Path(path)
    if not p.is_file():
        return None
    with np.load(p, allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
        return meta, dequantize(data["q"], data["scale"])


_checked: dict[tuple, tuple[dict[str, np.ndarray] | None, str]] = {}


def status(embedder, path: Path | None = None) -> tuple[dict[str, np.ndarray] | None, str]:
    """(text → vector for the seed corpus, or None; a sentence saying which and why), checked once per process."""
    if embedder is None:
        return None, "no embedder configured: the model is built without embeddings"
    path = Path(path or VECTORS_FILE)
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        stamp = None
    key = (encoder_version(embedder), str(path), stamp)
    if key not in _checked:
        _checked.clear()
        _checked[key] = _status(embedder, path, stamp)
    return _checked[key]


def _status(embedder, path: Path, stamp: int | None) -> tuple[dict[str, np.ndarray] | None, str]:
    try:
        loaded = _load_file(str(path), stamp)
    except (OSError, ValueError, KeyError) as exc:
        return None, f"the shipped seed vectors {path} cannot be read ({exc})"
    if loaded is None:
        return None, f"no shipped seed vectors ({path.name} missing; `resonanz build_seed` writes it)"
    meta, vecs = loaded
    texts = seed_texts()
    if meta.get("format") != FORMAT:
        return None, f"the shipped seed vectors have format {meta.get('format')}, this code reads {FORMAT}"
    if meta.get("texts_sha256") != texts_digest(texts) or vecs.shape[0] != len(texts):
        return None, "the seed corpus changed since its vectors were built (run `resonanz build_seed`)"
    if meta.get("encoder") != encoder_version(embedder) or vecs.shape[1] != int(embedder.dim):
        return None, (f"the shipped seed vectors come from {meta.get('encoder')}, "
                      f"the configured encoder is {encoder_version(embedder)}")
    rows = random.Random(len(texts)).sample(range(len(texts)), min(CHECK_ROWS, len(texts)))
    now = np.asarray(embedder.embed_queries([texts[i] for i in rows]), dtype=np.float32)
    agreement = float(np.min(np.sum(now * vecs[rows], axis=1)))
    if agreement < MIN_AGREEMENT:
        return None, (f"the encoder gives other vectors than the shipped ones (cosine {agreement:.3f}); "
                      "embedding the seed corpus instead")
    return dict(zip(texts, vecs, strict=True)), f"using the {len(texts):,} shipped seed vectors ({path.name})"


class SeededCache:
    """An embedding cache that answers seed texts from the shipped vectors, everything else from ``inner``.

    Without an inner cache it keeps what it computes in memory, so one model
    build embeds each text once even when it trains twice.
    """

    def __init__(self, inner=None, seed: dict[str, np.ndarray] | None = None, model: str | None = None) -> None:
        self.inner = inner
        self.seed = seed or {}
        self.model = model
        self.memory: dict[tuple[str, str], np.ndarray] = {}

    def get_many(self, model: str, texts: Sequence[str]) -> list[np.ndarray | None]:
        out: list[np.ndarray | None] = []
        rest: list[int] = []
        for i, t in enumerate(texts):
            v = self.seed.get(t) if model == self.model else None
            if v is None:
                v = self.memory.get((model, t))
            out.append(v)
            if v is None:
                rest.append(i)
        if rest and self.inner is not None:
            for i, v in zip(rest, self.inner.get_many(model, [texts[i] for i in rest]), strict=True):
                out[i] = v
        return out

    def put_many(self, model: str, texts: Sequence[str], vectors: np.ndarray) -> None:
        if self.inner is not None:
            self.inner.put_many(model, texts, vectors)
        else:
            for t, v in zip(texts, vectors, strict=True):
                self.memory[(model, t)] = np.asarray(v, dtype=np.float32)


def seeded_cache(embedder, cache=None) -> tuple[SeededCache, str]:
    """``cache`` with the shipped seed vectors in front when they fit ``embedder``; and why (not)."""
    if isinstance(cache, SeededCache):
        return cache, "seed vectors already attached"
    seed, why = status(embedder)
    return SeededCache(cache, seed, getattr(embedder, "name", None)), why
