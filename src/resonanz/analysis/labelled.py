"""Reading labelled files (CSV, TSV with or without header, JSONL) into examples.

Imports come from operators, so every problem (unknown column, empty label, a
single class) is reported as a ``DataError`` naming the file, line and column,
instead of silently training a useless model.
"""

from __future__ import annotations

import csv
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .errors import DataError

SENTIMENTS = ("negative", "neutral", "positive")
EXAMPLE_COLUMNS = {"id", "text", "sentiment", "intents", "intent", "language", "label"}
_SENTIMENT_ALIASES = {
    "neg": "negative", "negative": "negative", "-1": "negative", "negativ": "negative",
    "neu": "neutral", "neutral": "neutral", "0": "neutral",
    "pos": "positive", "positive": "positive", "1": "positive", "positiv": "positive",
}

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


@dataclass
class Example:
    """One labelled text. Any label may be missing; a correction usually sets only one."""

    text: str
    sentiment: str | None = None
    intents: list[str] | None = None
    language: str | None = None
    weight: float = 1.0
    meta: dict = field(default_factory=dict)


def normalize_sentiment(value: str) -> str | None:
    """Map common spellings (neg/pos, -1/0/1, German) to our three labels; None if unknown."""
    return _SENTIMENT_ALIASES.get(str(value).strip().lower())


def _sniff_format(path: Path, head: str) -> str:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson") or head.lstrip().startswith("{"):
        return "jsonl"
    if suffix == ".tsv" or (suffix != ".csv" and head.count("\t") > head.count(",")):
        return "tsv"
    return "csv"


def read_rows(path: str | Path) -> tuple[list[str] | None, list[list[str]] | list[dict]]:
    """Rows of a file: (header or None, rows). JSONL gives dicts and header None."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc})") from exc
    if not raw.strip():
        raise DataError(f"{path}: file is empty")
    fmt = _sniff_format(path, raw[:4096])
    if fmt == "jsonl":
        rows: list[dict] = []
        for n, line in enumerate(raw.splitlines(), 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"{path}, line {n}: not valid JSON ({exc.msg})") from exc
            if not isinstance(obj, dict):
                raise DataError(f"{path}, line {n}: expected a JSON object per line")
            obj["_line"] = n
            rows.append(obj)
        return None, rows
    delim = "\t" if fmt == "tsv" else ","
    quoting = csv.QUOTE_NONE if fmt == "tsv" else csv.QUOTE_MINIMAL
    table = [r for r in csv.reader(raw.splitlines(), delimiter=delim, quoting=quoting) if any(c.strip() for c in r)]
    return None, table


def _has_header(first: list[str], wanted: set[str]) -> bool:
    names = {c.strip().lower() for c in first}
    return bool(names & wanted)


def read_columns(path: str | Path, text_col: str, label_col: str) -> tuple[list[str], list[str]]:
    """Texts and labels from the named columns (or 0-based indices for headerless files)."""
    path = Path(path)
    header, rows = read_rows(path)
    texts: list[str] = []
    labels: list[str] = []
    if rows and isinstance(rows[0], dict):
        for r in rows:
            for col in (text_col, label_col):
                if col not in r:
                    raise DataError(f"{path}, line {r['_line']}: no field {col!r} (fields: {sorted(k for k in r if k != '_line')})")
            texts.append(str(r[text_col] or ""))
            labels.append(_label_str(r[label_col]))
    else:
        first = [c.strip() for c in rows[0]]
        if text_col in first and label_col in first:
            ti, li = first.index(text_col), first.index(label_col)
            body, offset = rows[1:], 2
        elif text_col.isdigit() and label_col.isdigit():
            ti, li = int(text_col), int(label_col)
            body, offset = rows, 1
        else:
            raise DataError(
                f"{path}: columns {text_col!r} and {label_col!r} not in the header {first!r}; "
                "for a file without header give 0-based column numbers"
            )
        for n, r in enumerate(body, offset):
            if max(ti, li) >= len(r):
                raise DataError(f"{path}, line {n}: expected at least {max(ti, li) + 1} columns, found {len(r)}")
            texts.append(r[ti])
            labels.append(r[li].strip())
    for n, lab in enumerate(labels):
        if not lab:
            raise DataError(f"{path}: empty label in row {n + 1} (column {label_col!r})")
    if len(set(labels)) < 2:
        raise DataError(f"{path}: only one class ({labels[0]!r} if any) in column {label_col!r}; need at least two")
    return texts, labels


def _label_str(value) -> str:
    if isinstance(value, list):
        return "|".join(str(v) for v in value)
    return "" if value is None else str(value).strip()


def load_examples(path: str | Path) -> list[Example]:
    """Examples from an operator's file.

    Columns: ``text`` plus at least one of ``sentiment``, ``intents`` (``|``- or
    ``,``-separated in CSV/TSV, a list in JSONL) and optionally ``language``
    and ``id``. ``label`` is read as sentiment when its values are sentiment
    names, else as an intent. A headerless file has two columns, label and
    text in either order (the one with fewer distinct values is the label).
    """
    path = Path(path)
    header, rows = read_rows(path)
    records: list[tuple[int, dict]] = []
    if rows and isinstance(rows[0], dict):
        for r in rows:
            n = r.pop("_line")
            unknown = set(r) - EXAMPLE_COLUMNS
            if unknown:
                raise DataError(f"{path}, line {n}: unknown field(s) {sorted(unknown)}; allowed: {sorted(EXAMPLE_COLUMNS)}")
            records.append((n, r))
    else:
        first = [c.strip().lower() for c in rows[0]]
        if _has_header(first, {"text"}):
            unknown = set(first) - EXAMPLE_COLUMNS
            if unknown:
                raise DataError(f"{path}: unknown column(s) {sorted(unknown)} in header; allowed: {sorted(EXAMPLE_COLUMNS)}")
            for n, r in enumerate(rows[1:], 2):
                if len(r) != len(first):
                    raise DataError(f"{path}, line {n}: {len(r)} columns, header has {len(first)}")
                records.append((n, dict(zip(first, r, strict=True))))
        else:
            if any(len(r) != 2 for r in rows):
                bad = next(i for i, r in enumerate(rows, 1) if len(r) != 2)
                raise DataError(
                    f"{path}, line {bad}: a file without header must have exactly two columns (label, text); "
                    f"found {len(rows[bad - 1])}. Add a header naming the columns ({sorted(EXAMPLE_COLUMNS)})"
                )
            distinct = [len({r[i] for r in rows}) for i in (0, 1)]
            li = 0 if distinct[0] <= distinct[1] else 1
            records = [(n, {"text": r[1 - li], "label": r[li]}) for n, r in enumerate(rows, 1)]
    return _records_to_examples(path, records)


def _records_to_examples(path: Path, records: list[tuple[int, dict]]) -> list[Example]:
    if not records:
        raise DataError(f"{path}: no rows")
    labels = [str(r.get("label", "")).strip() for _, r in records if "label" in r]
    label_is_sentiment = bool(labels) and all(normalize_sentiment(v) for v in labels if v)
    out: list[Example] = []
    for n, r in records:
        text = str(r.get("text") or "")
        if not text.strip():
            raise DataError(f"{path}, line {n}: empty text")
        sentiment = r.get("sentiment")
        intents = r.get("intents", r.get("intent"))
        if "label" in r:
            if label_is_sentiment:
                sentiment = r["label"]
            else:
                intents = r["label"]
        ex = Example(text=text, language=(str(r["language"]).strip() or None) if r.get("language") else None)
        if sentiment is not None:
            s = str(sentiment).strip()
            if not s:
                raise DataError(f"{path}, line {n}: empty sentiment label")
            ex.sentiment = normalize_sentiment(s)
            if ex.sentiment is None:
                raise DataError(f"{path}, line {n}: unknown sentiment {s!r}; use one of {SENTIMENTS}")
        if intents is not None:
            items = intents if isinstance(intents, list) else str(intents).replace(",", "|").split("|")
            items = [str(i).strip() for i in items if str(i).strip()]
            if not items and "intents" not in r:
                raise DataError(f"{path}, line {n}: empty intent label")
            ex.intents = items
        if ex.sentiment is None and ex.intents is None:
            raise DataError(f"{path}, line {n}: no label (give sentiment, intents or label)")
        ex.meta["line"] = n
        out.append(ex)
    check_examples(out, source=str(path))
    return out


def check_examples(examples: list[Example], source: str = "examples") -> None:
    """Refuse sets that cannot train anything: no examples, or one class only."""
    if not examples:
        raise DataError(f"{source}: no examples")
    sents = Counter(e.sentiment for e in examples if e.sentiment)
    intents = Counter(i for e in examples if e.intents for i in e.intents)
    if sents and len(sents) < 2 and not intents:
        raise DataError(f"{source}: every sentiment label is {next(iter(sents))!r}; need at least two classes")
    if intents and len(intents) < 2 and not sents:
        raise DataError(f"{source}: every intent label is {next(iter(intents))!r}; need at least two classes")
