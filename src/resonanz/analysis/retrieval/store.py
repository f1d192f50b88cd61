"""Saving an index to a directory and reading it back: JSON for text and counts, .npy for vectors.

Terms are not stored: they are recomputed from the text on load (tokenising
10,000 articles takes seconds), which also keeps a saved index valid when the
tokeniser improves. Vectors are stored because embedding is the expensive part;
they are only reused when the same embedder model made them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ..embedder import Embedder
from .confidence import ConfidenceModel
from .index import RetrievalIndex
from .model import Document
from .ranking import RankConfig

FORMAT = 1


def save(index: RetrievalIndex, directory: str | Path) -> None:
    """Write the live documents (with history, votes and negative queries) and their vectors."""
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    docs, title_rows, passage_rows, hist_rows, neg_rows = [], [], [], [], []
    for slot, rec in enumerate(index.records):
        if rec is None:
            continue
        hist = [h for h in rec.history_slots if index.hist_alive[h]]
        negs = [n for n in rec.negative_slots if index.neg_alive[n]]
        docs.append({
            "id": rec.doc.id, "title": rec.doc.title, "body": rec.doc.body, "language": rec.doc.language,
            "history": [index.hist_text[h] for h in hist], "negatives": [index.neg_text[n] for n in negs],
            "helpful": rec.helpful, "unhelpful": rec.unhelpful,
        })
        title_rows.append(slot)
        passage_rows.append(slot)
        hist_rows += hist
        neg_rows += negs
    meta = {
        "format": FORMAT, "embedder": getattr(index.embedder, "name", None), "dim": index.dim,
        "config": index.config.to_json(), "confidence": index.confidence.to_json(),
        "query_mean": {"sum": index.query_mean.sum.tolist(), "count": index.query_mean.count},
    }
    _write(path / "documents.json", json.dumps(docs, ensure_ascii=False))
    if index.dim:
        arrays = {
            "title": _rows(index.vec_title.view, title_rows, index.dim),
            "passage": _rows(index.vec_passage.view, passage_rows, index.dim),
            "history": _rows(index.vec_hist.view, hist_rows, index.dim),
            "negative": _rows(index.vec_neg.view, neg_rows, index.dim),
        }
        for name, arr in arrays.items():
            tmp = path / f"{name}.tmp.npy"
            np.save(tmp, arr)
            os.replace(tmp, path / f"{name}.npy")
    _write(path / "meta.json", json.dumps(meta))


def load(directory: str | Path, embedder: Embedder | None = None) -> RetrievalIndex:
    """Rebuild an index from ``save``'s files; vectors are re-embedded if the embedder changed."""
    path = Path(directory)
    meta = json.loads((path / "meta.json").read_text())
    docs = json.loads((path / "documents.json").read_text())
    index = RetrievalIndex(embedder, RankConfig(**meta["config"]))
    index.confidence = ConfidenceModel.from_json(meta["confidence"])
    same_model = embedder is not None and getattr(embedder, "name", None) == meta.get("embedder") \
        and index.dim == meta.get("dim") and (path / "title.npy").exists()
    if not same_model:
        _replay(index, docs)
        return index
    qm = meta.get("query_mean") or {}
    if qm.get("count"):
        index.query_mean.sum = np.asarray(qm["sum"], dtype=np.float64)
        index.query_mean.count = int(qm["count"])
    vecs = {n: np.load(path / f"{n}.npy") for n in ("title", "passage", "history", "negative")}
    h = n = 0
    for i, d in enumerate(docs):
        slot = index._add_record(Document(d["id"], d["title"], d["body"], d["language"]))
        index.vec_title.set(slot, vecs["title"][i])
        index.vec_passage.set(slot, vecs["passage"][i])
        k = len(d["history"])
        index._add_history([(d["id"], q) for q in d["history"]], vecs["history"][h : h + k] if k else None)
        h += k
        for q in d["negatives"]:
            index._add_negative(slot, q, vecs["negative"][n])
            n += 1
        _restore_votes(index, slot, d)
    return index


def _replay(index: RetrievalIndex, docs: list[dict]) -> None:
    index.add_many(Document(d["id"], d["title"], d["body"], d["language"], list(d["history"])) for d in docs)
    for d in docs:
        slot = index.slot_of[d["id"]]
        for q in d["negatives"]:
            index._add_negative(slot, q, index._embed_query(q))
        _restore_votes(index, slot, d)


def _restore_votes(index: RetrievalIndex, slot: int, d: dict) -> None:
    rec = index.records[slot]
    assert rec is not None
    rec.helpful, rec.unhelpful = int(d.get("helpful", 0)), int(d.get("unhelpful", 0))
    if rec.helpful or rec.unhelpful:
        index._update_prior(slot, rec)


def _rows(view: np.ndarray, rows: list[int], dim: int) -> np.ndarray:
    return view[rows].astype(np.float32) if rows else np.zeros((0, dim), dtype=np.float32)


def _write(path: Path, data: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(data, encoding="utf-8")
    os.replace(tmp, path)
