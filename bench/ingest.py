"""Ingestion throughput: N synthetic inbound messages from M contacts through ingest().

Reports messages per second, and from the same run the raw insert rate of the same message
rows with executemany (the physical limit of the database), and our ratio to it.

    python bench/ingest.py [--messages 50000 --contacts 10000 --runs 3 --database-url URL]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import command_line, django_for, median  # noqa: E402

WORDS = ("Bestellung Lieferung Rechnung Paket defekt kaputt Frage Hilfe bitte danke order refund account login "
         "password broken late delivery invoice support Kündigung Vertrag Tarif app crash heute morgen").split()


# Messages per second of this process's CPU time: on a shared, busy machine the wall clock mostly measures the
# neighbours; CPU time (SQLite runs in-process) is the steadier figure for comparing two versions.
CPU_RATES: dict[str, list[float]] = {}


def synthetic(n: int, contacts: int, seed: int, prefix: str) -> list[tuple[str, str, str]]:
    rng = random.Random(seed)
    return [(f"{prefix}-{i}", f"kunde{rng.randrange(contacts)}@example.com",
             " ".join(rng.choices(WORDS, k=rng.randint(8, 40)))) for i in range(n)]


def run_ingest(rows) -> float:
    from resonanz.connectors.actions import create_channel
    from resonanz.connectors.drivers.base import InboundMessage
    from resonanz.inbox.actions import ingest

    channel = create_channel(kind="api", name=f"bench-{rows[0][0]}")
    start, cpu = time.perf_counter(), time.process_time()
    for external_id, handle, text in rows:
        ingest(channel, InboundMessage(external_id=external_id, sender_handle=handle, text=text))
    CPU_RATES.setdefault("ingest", []).append(len(rows) / (time.process_time() - cpu))
    return len(rows) / (time.perf_counter() - start)


def run_ingest_many(rows) -> float:
    from resonanz.connectors.actions import create_channel
    from resonanz.connectors.drivers.base import InboundMessage
    from resonanz.inbox.actions import ingest_many

    channel = create_channel(kind="api", name=f"bench-many-{rows[0][0]}")
    messages = [InboundMessage(external_id=e, sender_handle=h, text=t) for e, h, t in rows]
    start, cpu = time.perf_counter(), time.process_time()
    ingest_many(channel, messages)
    CPU_RATES.setdefault("ingest_many", []).append(len(rows) / (time.process_time() - cpu))
    return len(rows) / (time.perf_counter() - start)


def run_raw(rows) -> float:
    """The same message rows, inserted with one executemany in one transaction: nothing to beat."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_raw (id INTEGER PRIMARY KEY, channel_id INTEGER, "
                       "external_id VARCHAR(300), sender VARCHAR(320), text TEXT, received_at VARCHAR(40))"
                       if connection.vendor == "sqlite" else
                       "CREATE TABLE IF NOT EXISTS bench_raw (id BIGSERIAL PRIMARY KEY, channel_id INTEGER, "
                       "external_id VARCHAR(300), sender VARCHAR(320), text TEXT, received_at VARCHAR(40))")
        cursor.execute("DELETE FROM bench_raw")
    params = [(1, e, h, t, "2026-11-23T10:00:00") for e, h, t in rows]
    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany("INSERT INTO bench_raw (channel_id, external_id, sender, text, received_at) "
                           "VALUES (%s, %s, %s, %s, %s)", params)
    return len(rows) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL; SQLite under var/bench when absent")
    args = parser.parse_args()
    django_for(args.database_url, "ingest")
    from django.db import connection

    ours, many, raw = [], [], []
    for run in range(args.runs):
        rows = synthetic(args.messages, args.contacts, seed=run, prefix=f"r{run}")
        ours.append(run_ingest(rows))
        many.append(run_ingest_many(synthetic(args.messages, args.contacts, seed=run, prefix=f"b{run}")))
        raw.append(run_raw(rows))
        print(f"run {run + 1}: ingest {ours[-1]:,.0f} msg/s, ingest_many {many[-1]:,.0f} msg/s, "
              f"raw executemany {raw[-1]:,.0f} rows/s", flush=True)
    m_ours, m_many, m_raw = median(ours), median(many), median(raw)
    print(f"\n{command_line()}")
    print(f"database: {connection.vendor}; {args.messages:,} messages from {args.contacts:,} contacts, "
          f"median of {args.runs} runs")
    print("| path | messages/s | ratio to raw executemany |\n|---|---|---|")
    print(f"| ingest(), one transaction per message (API, forms, webhooks) | {m_ours:,.0f} | {m_ours / m_raw:.4f} |")
    print(f"| ingest_many(), one commit per 200 (polls, imports) | {m_many:,.0f} | {m_many / m_raw:.4f} |")
    print(f"| raw executemany of the same message rows | {m_raw:,.0f} | 1 |")
    print("CPU-time rates (messages per CPU second, median): "
          + ", ".join(f"{k} {median(v):,.0f}" for k, v in CPU_RATES.items()))


if __name__ == "__main__":
    main()
