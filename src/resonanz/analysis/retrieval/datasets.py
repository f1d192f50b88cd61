"""Evaluation sets for FAQ retrieval: the named public sets and the generic file format.

The data is read at run time from RESONANZ_DATA_DIR (default ../shared/data) and
never copied into the repository: several sets are licensed for research only.
Every random choice uses a fixed seed so two runs rank the same things.
"""

from __future__ import annotations

import csv
import json
import os
import random
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from .model import Document

SEED = 13


@dataclass
class EvalSet:
    """Documents, labelled queries (text, expected doc id) and what was left out and why."""

    name: str
    docs: list[Document]
    queries: list[tuple[str, str]]
    notes: list[str] = field(default_factory=list)


def data_dir() -> Path:
    env = os.environ.get("RESONANZ_DATA_DIR")
    if env:
        return Path(env)
    for cand in (Path("../shared/data"), Path("/work/shared/data")):
        if cand.is_dir():
            return cand
    return Path("../shared/data")


def words(label: str) -> str:
    """An intent label in words: "cancel_order" -> "cancel order"."""
    return label.replace("_", " ").strip()


def stackfaq(path: Path | None = None) -> EvalSet:
    """125 threads (question + answers) and their re-phrasings; "*" placeholders are not queries."""
    path = path or data_dir() / "stackfaq" / "stackExchange-FAQ.xml"
    root = ET.parse(path).getroot()
    docs, queries, skipped = [], [], 0
    for i, pair in enumerate(root.iter("qapair")):
        doc_id = f"thread-{i:03d}"
        title = " ".join((pair.findtext("question") or "").split())
        answers = [" ".join((a.text or "").split()) for a in pair.findall("answer")]
        docs.append(Document(doc_id, title, "\n\n".join(answers), "en"))
        for r in pair.findall("rephr"):
            text = " ".join((r.text or "").split())
            if text.strip("* ") == "":
                skipped += 1
                continue
            queries.append((text, doc_id))
    notes = [f"{skipped} re-phrasings are a bare '*' placeholder in the XML and are not queries"]
    return EvalSet("stackfaq", docs, queries, notes)


def bitext(history: int = 0, path: Path | None = None, seed: int = SEED) -> EvalSet:
    """One KB entry per intent (title: intent in words, body: one templated answer); rest are queries."""
    path = path or data_dir() / "bitext" / "Bitext_Sample_Customer_Support_Training_Dataset.csv"
    by_intent: dict[str, list[dict[str, str]]] = defaultdict(list)
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            by_intent[row["intent"]].append(row)
    rng = random.Random(seed)
    docs, queries = [], []
    for intent in sorted(by_intent):
        rows = list(by_intent[intent])
        rng.shuffle(rows)
        kb_row, hist_rows, rest = rows[0], rows[1 : 1 + history], rows[1 + history :]
        docs.append(
            Document(intent, words(intent), kb_row["response"], "en", [r["instruction"] for r in hist_rows])
        )
        queries.extend((r["instruction"], intent) for r in rest)
    notes = [f"per intent: 1 request's answer is the KB body, {history} requests are history, the rest queries"]
    return EvalSet(f"bitext-h{history}", docs, queries, notes)


def banking77(examples: int = 10, base: Path | None = None, seed: int = SEED) -> EvalSet:
    """One KB entry per intent described by ``examples`` training questions; the test split asks."""
    base = base or data_dir() / "banking77"
    by_intent: dict[str, list[str]] = defaultdict(list)
    with open(base / "train.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            by_intent[row["category"]].append(row["text"])
    rng = random.Random(seed)
    docs = []
    for intent in sorted(by_intent):
        texts = sorted(by_intent[intent])
        rng.shuffle(texts)
        docs.append(Document(intent, words(intent), "", "en", texts[:examples]))
    with open(base / "test.csv", newline="", encoding="utf-8") as fh:
        queries = [(row["text"], row["category"]) for row in csv.DictReader(fh)]
    return EvalSet(f"banking77-{examples}shot", docs, queries, [f"{examples} training examples per intent as history"])


def _rows(path: Path) -> list[dict[str, str]]:
    if path.suffix.lower() in (".jsonl", ".json", ".ndjson"):
        with open(path, encoding="utf-8") as fh:
            return [json.loads(line) for line in fh if line.strip()]
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _expected(row: dict[str, str]) -> str:
    for key in ("expected", "kb_id", "doc_id", "article_id", "id", "label"):
        if row.get(key) not in (None, ""):
            return str(row[key])
    raise ValueError(f"row has no expected KB id (expected/kb_id/doc_id/id): {row}")


def generic(kb: Path, queries: Path, history: Path | None = None) -> EvalSet:
    """KB rows (id, title, body[, language]); query/history rows (text, expected id); CSV or JSONL."""
    docs = {
        str(r["id"]): Document(str(r["id"]), r.get("title") or "", r.get("body") or "", r.get("language") or "en")
        for r in _rows(kb)
    }
    if history:
        for r in _rows(history):
            doc = docs.get(_expected(r))
            if doc is not None:
                doc.history.append(r.get("text") or r.get("question") or "")
    qs = [(r.get("text") or r.get("question") or "", _expected(r)) for r in _rows(queries)]
    return EvalSet(kb.stem, list(docs.values()), qs)
