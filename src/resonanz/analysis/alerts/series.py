"""Reading a series (CSV of timestamp,value[,total]) and labelled anomaly windows (JSON) for evaluation.

Both come from operators and from other companies, so every problem is a ``DataError`` that names the
file and line, never a traceback from deep inside the replay.
"""

from __future__ import annotations

import csv
import json
import math
import statistics
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..errors import DataError
from .clock import instant


@dataclass
class Series:
    name: str                     # the file name, as keyed in the windows file
    timestamps: list[datetime | float]  # as in the file: a datetime (its wall clock), or epoch seconds
    elapsed: list[float]          # seconds since 1970
    values: list[float]
    totals: list[float] | None    # a share series: items per step (values are then the part)

    @property
    def step(self) -> float:
        """The series' step: the most common gap between points (a few missing points do not change it)."""
        gaps = [b - a for a, b in zip(self.elapsed, self.elapsed[1:], strict=False)]
        return float(statistics.mode(gaps)) if gaps else 3600.0


def _number(text: str, where: str, what: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise DataError(f"{where}: {what} {text!r} is not a number") from None
    if not math.isfinite(v) or v < 0:
        raise DataError(f"{where}: {what} {text!r} must be a non-negative number")
    return v


def _timestamp(text: str) -> datetime | float | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    try:
        v = float(text)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_series(path: str | Path) -> Series:
    """Read ``timestamp,value`` (header optional; an extra ``total`` column makes a share series)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = [r for r in csv.reader(fh) if any(cell.strip() for cell in r)]
    if not rows:
        raise DataError(f"{path}: the file is empty")
    head = [c.strip().lower() for c in rows[0]]
    has_header = len(head) < 2 or not _is_number(head[1])
    named = has_header and "value" in head
    iv = head.index("value") if named else 1
    it = head.index("total") if named and "total" in head else (2 if not named and len(rows[0]) > 2 else None)
    if len(rows[0]) < 2:
        raise DataError(f"{path}: need two columns, timestamp and value")
    start = 1 if has_header else 0
    ts, el, vals, tots = [], [], [], []
    for n, row in enumerate(rows[start:], start=start + 1):
        where = f"{path}, line {n}"
        if len(row) <= max(iv, it or 0):
            raise DataError(f"{where}: expected {max(iv, it or 0) + 1} columns, found {len(row)}")
        stamp = _timestamp(row[0].strip())
        if stamp is None:
            raise DataError(f"{where}: timestamp {row[0]!r} is neither an ISO date nor epoch seconds")
        e, _ = instant(stamp)
        if el and e <= el[-1]:
            raise DataError(f"{where}: timestamp {row[0]!r} is not after the line before (sort the file by time)")
        v = _number(row[iv], where, "value")
        if it is not None:
            t = _number(row[it], where, "total")
            if v > t:
                raise DataError(f"{where}: value {v:g} is larger than total {t:g}")
            tots.append(t)
        ts.append(stamp)
        el.append(e)
        vals.append(v)
    if len(vals) < 2:
        raise DataError(f"{path}: need at least two points, found {len(vals)}")
    return Series(path.name, ts, el, vals, tots if it is not None else None)


def read_windows(path: str | Path) -> dict[str, list[tuple[float, float]]]:
    """``{"series.csv": [[start, end], ...]}`` → elapsed-seconds intervals per series file name."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise DataError(f'{path}: expected an object {{"series.csv": [[start, end], ...]}}')
    out: dict[str, list[tuple[float, float]]] = {}
    for name, wins in data.items():
        if not isinstance(wins, list):
            raise DataError(f"{path}: {name}: expected a list of [start, end] pairs")
        spans = []
        for k, w in enumerate(wins):
            if not (isinstance(w, list) and len(w) == 2):
                raise DataError(f"{path}: {name}, window {k + 1}: expected [start, end]")
            try:
                a, b = instant(w[0])[0], instant(w[1])[0]
            except (TypeError, ValueError) as exc:
                raise DataError(f"{path}: {name}, window {k + 1}: {exc}") from None
            if b < a:
                raise DataError(f"{path}: {name}, window {k + 1}: ends before it starts")
            spans.append((a, b))
        out[Path(name).name] = spans
    return out
