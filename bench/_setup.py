"""Shared start-up for benchmarks: a fresh database of their own, never the user's."""

from __future__ import annotations

import os
import shutil
import statistics
import sys
from pathlib import Path


def django_for(database_url: str | None, name: str, *, fresh: bool = True) -> Path:
    """Configure Django on a fresh benchmark database (SQLite under var/bench/ unless a URL is given);
    ``fresh=False`` keeps the database an earlier run loaded (to measure again without loading again)."""
    root = Path(os.environ.get("RESONANZ_BENCH_DIR", "var/bench")).resolve() / name
    if root.exists() and fresh:
        shutil.rmtree(root)
    root.mkdir(parents=True, exist_ok=True)
    os.environ["RESONANZ_VAR_DIR"] = str(root)
    os.environ["DATABASE_URL"] = database_url or f"sqlite:///{root / 'bench.sqlite3'}"
    os.environ["CELERY_BROKER_URL"] = f"sqla+sqlite:///{root / 'broker.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resonanz.settings")
    os.environ["RESONANZ_LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor == "postgresql" and fresh:
        with connection.cursor() as cursor:  # a clean schema each run
            cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    call_command("migrate", verbosity=0)
    return root


def median(values: list[float]) -> float:
    return statistics.median(values)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def command_line() -> str:
    return "python " + " ".join(sys.argv)
