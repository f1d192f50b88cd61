"""Loaders for the public benchmark sets in ../shared/data (read at run time, never copied)."""

from __future__ import annotations

import csv
import os
import random
from dataclasses import dataclass
from pathlib import Path

from .errors import DataError
from .labelled import normalize_sentiment


def detect_task(labels) -> str:
    """What a set's labels are about, decided the same way for named sets and any files.

    "sentiment" when the labels include a negative and a positive sentiment (in
    any spelling ``normalize_sentiment`` knows) and the other labels are fewer
    than the sentiment ones (a "mixed" or "unknown" class does not turn a
    sentiment set into something else); "binary" for other two-class sets
    (relevance, yes/no); "intent" for everything with three or more classes.
    """
    distinct = {str(v).strip() for v in labels}
    mapped = {v: normalize_sentiment(v) for v in distinct}
    found = {m for m in mapped.values() if m}
    others = [v for v, m in mapped.items() if m is None]
    if {"negative", "positive"} <= found and len(others) < len(found):
        return "sentiment"
    return "binary" if len(distinct) <= 2 else "intent"


@dataclass
class Split:
    """A train/test pair of one task."""

    name: str
    task: str  # "sentiment", "binary" or "intent" (see detect_task)
    language: str
    train_texts: list[str]
    train_labels: list[str]
    test_texts: list[str]
    test_labels: list[str]


def data_dir(explicit: str | None = None) -> Path:
    """RESONANZ_DATA_DIR, else ../shared/data relative to the working directory, else /work/shared/data."""
    for cand in (explicit, os.environ.get("RESONANZ_DATA_DIR"), "../shared/data", "/work/shared/data"):
        if cand and Path(cand).is_dir():
            return Path(cand)
    raise DataError("benchmark data not found: set RESONANZ_DATA_DIR or pass --data-dir")


def _tsv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8") as fh:
        return [r for r in csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE) if r]


def _csv_dicts(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def sb10k(root: Path) -> Split:
    tr = _tsv(root / "sb10k" / "split_train.tsv")
    te = _tsv(root / "sb10k" / "split_test.tsv")
    return Split("sb10k", detect_task([r[1] for r in tr]), "de", [r[2] for r in tr], [r[1] for r in tr], [r[2] for r in te], [r[1] for r in te])


def germeval(root: Path, column: str) -> Split:
    idx = {"relevance": 2, "sentiment": 3}[column]
    tr = _tsv(root / "germeval2017" / "tsv" / "dev.tsv")[1:]
    te = _tsv(root / "germeval2017" / "tsv" / "test_syn.tsv")[1:]
    return Split(
        f"germeval2017-{column}", detect_task([r[idx] for r in tr]), "de",
        [r[1] for r in tr], [r[idx] for r in tr], [r[1] for r in te], [r[idx] for r in te],
    )


def banking77(root: Path, shots: int | None = None, seed: int = 13) -> Split:
    tr = _csv_dicts(root / "banking77" / "train.csv")
    te = _csv_dicts(root / "banking77" / "test.csv")
    if shots:
        by: dict[str, list[dict]] = {}
        for r in tr:
            by.setdefault(r["category"], []).append(r)
        rng = random.Random(seed)
        tr = [r for cat in sorted(by) for r in rng.sample(by[cat], min(shots, len(by[cat])))]
    name = f"banking77-{shots}shot" if shots else "banking77"
    return Split(name, detect_task(r["category"] for r in tr), "en", [r["text"] for r in tr], [r["category"] for r in tr],
                 [r["text"] for r in te], [r["category"] for r in te])


def bitext(root: Path, seed: int = 13) -> Split:
    rows = _csv_dicts(root / "bitext" / "Bitext_Sample_Customer_Support_Training_Dataset.csv")
    by: dict[str, list[dict]] = {}
    for r in rows:
        by.setdefault(r["intent"], []).append(r)
    rng = random.Random(seed)
    train, test = [], []
    for intent in sorted(by):
        items = by[intent][:]
        rng.shuffle(items)
        cut = max(1, round(len(items) * 0.2))
        test += items[:cut]
        train += items[cut:]
    return Split("bitext", detect_task(r["intent"] for r in train), "en", [r["instruction"] for r in train], [r["intent"] for r in train],
                 [r["instruction"] for r in test], [r["intent"] for r in test])


NAMED = {
    "sb10k": sb10k,
    "germeval2017-relevance": lambda root: germeval(root, "relevance"),
    "germeval2017-sentiment": lambda root: germeval(root, "sentiment"),
    "banking77": banking77,
    "banking77-10shot": lambda root: banking77(root, shots=10),
    "bitext": bitext,
}


def load_named(name: str, root: Path) -> Split:
    if name not in NAMED:
        raise DataError(f"unknown data set {name!r}; known: {', '.join(NAMED)}")
    return NAMED[name](root)
