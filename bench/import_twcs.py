"""Bulk import speed: `resonanz import` of the Customer-Support-on-Twitter sample into a fresh SQLite database.

Usage: .venv/bin/python bench/import_twcs.py [--file ../shared/data/twcs/twcs_head_sample.csv] [--runs 3]

Each run imports the file into a fresh copy of a migrated database (no analysis). The baseline,
measured in the same process, is a raw sqlite3 executemany of the same rows into a plain table:
the floor any importer on this machine pays for parsing and writing. Prints median rows/s of
both and their ratio.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT.parent / "shared" / "data" / "twcs" / "twcs_head_sample.csv"


def baseline(path: Path, db: Path) -> tuple[int, float]:
    started = time.perf_counter()
    with open(path, encoding="utf-8", newline="") as handle:
        rows = [(r["tweet_id"], r["author_id"], r["inbound"], r["created_at"], r["text"], r["in_response_to_tweet_id"])
                for r in csv.DictReader(handle)]
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE tweets (tweet_id TEXT PRIMARY KEY, author_id TEXT, inbound TEXT, created_at TEXT, "
                "text TEXT, parent TEXT)")
    with con:
        con.executemany("INSERT OR IGNORE INTO tweets VALUES (?, ?, ?, ?, ?, ?)", rows)
    con.close()
    return len(rows), time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--file", default=str(DEFAULT))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=500)
    args = parser.parse_args()
    path = Path(args.file).resolve()
    work = Path(tempfile.mkdtemp(prefix="rz-bench-import-"))
    try:
        template = work / "template"
        template.mkdir()
        env = {**os.environ, "RESONANZ_VAR_DIR": str(template), "DJANGO_SETTINGS_MODULE": "resonanz.settings"}
        subprocess.run([sys.executable, "-m", "resonanz.cli", "migrate", "-v0"], env=env, check=True)
        speeds, base_speeds = [], []
        for i in range(args.runs):
            var = work / f"run{i}"
            var.mkdir()
            shutil.copy(template / "resonanz.sqlite3", var / "resonanz.sqlite3")
            code = (
                "import django, json, sys, time; django.setup();"
                "from resonanz.connectors.importing import import_file;"
                "t = time.perf_counter();"
                f"r = import_file({str(path)!r}, 'Twitter history', batch_size={args.batch_size});"
                "d = r.as_dict(); d['seconds'] = time.perf_counter() - t;"  # the whole command, not only the loop
                "print(json.dumps(d))"
            )
            out = subprocess.run([sys.executable, "-c", code], env={**env, "RESONANZ_VAR_DIR": str(var)},
                                 check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
            report = json.loads(out)
            speeds.append(report["rows"] / report["seconds"])
            n, seconds = baseline(path, var / "baseline.sqlite3")
            base_speeds.append(n / seconds)
            print(f"run {i + 1}: import {speeds[-1]:,.0f} rows/s ({report['rows']} rows, {report['inbound']} in, "
                  f"{report['outbound']} out, skipped {sum(report['skipped'].values())}); "
                  f"baseline {base_speeds[-1]:,.0f} rows/s")
        imp, base = statistics.median(speeds), statistics.median(base_speeds)
        print(f"median over {args.runs} runs: import {imp:,.0f} rows/s; raw executemany baseline {base:,.0f} rows/s; "
              f"ratio {imp / base:.3f}")
        print("command: " + " ".join([Path(sys.executable).name, "bench/import_twcs.py", *sys.argv[1:]]))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
