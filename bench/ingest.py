"""Ingestion throughput: N synthetic inbound messages from M contacts through ingest().

Reports messages per second, and from the same run the raw insert rate of the same message
rows with executemany (the physical limit of the database), and our ratio to it.

    python bench/ingest.py [--messages 50000 --contacts 10000 --runs 3 --database-url URL]
"""

from __future__ import annotations

import argparse
import os
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
LABEL = [""]  # " (old search index)" while --compare-search-index measures the old index


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
    CPU_RATES.setdefault("ingest" + LABEL[0], []).append(len(rows) / (time.process_time() - cpu))
    return len(rows) / (time.perf_counter() - start)


def run_ingest_threads(rows, threads: int, group_commit: bool) -> float:
    """``ingest()`` one message at a time from ``threads`` threads at once, as concurrent API requests call it,
    with group commit on or off; the same process, so the CPU-time rate includes every thread's work."""
    import threading

    from django.conf import settings
    from django.db import connection

    from resonanz.connectors.actions import create_channel
    from resonanz.connectors.drivers.base import InboundMessage
    from resonanz.inbox.actions import ingest

    channel = create_channel(kind="api", name=f"bench-threads-{group_commit}-{rows[0][0]}")
    settings.RESONANZ_INGEST_GROUP_COMMIT = group_commit

    def work(part) -> None:
        try:
            for external_id, handle, text in part:
                ingest(channel, InboundMessage(external_id=external_id, sender_handle=handle, text=text))
        finally:
            connection.close()

    workers = [threading.Thread(target=work, args=(rows[n::threads],)) for n in range(threads)]
    start, cpu = time.perf_counter(), time.process_time()
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    settings.RESONANZ_INGEST_GROUP_COMMIT = True
    key = f"ingest() x{threads} threads, group commit {'on' if group_commit else 'off'}"
    CPU_RATES.setdefault(key, []).append(len(rows) / (time.process_time() - cpu))
    return len(rows) / (time.perf_counter() - start)


def run_ingest_many(rows) -> float:
    from resonanz.connectors.actions import create_channel
    from resonanz.connectors.drivers.base import InboundMessage
    from resonanz.inbox.actions import ingest_many

    channel = create_channel(kind="api", name=f"bench-many-{rows[0][0]}")
    messages = [InboundMessage(external_id=e, sender_handle=h, text=t) for e, h, t in rows]
    start, cpu = time.perf_counter(), time.process_time()
    ingest_many(channel, messages)
    CPU_RATES.setdefault("ingest_many" + LABEL[0], []).append(len(rows) / (time.process_time() - cpu))
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
    parser.add_argument("--threads", type=int, default=8, help="concurrent callers of ingest() (0: leave out)")
    parser.add_argument("--compare-search-index", action="store_true",
                        help="also measure ingest() and ingest_many() with the old per-message search index "
                             "(inbox migration 0002) instead of the per-conversation one (0009), in the same run")
    args = parser.parse_args()
    django_for(args.database_url, "ingest")
    from django.db import connection

    from resonanz.inbox.actions import _group

    ours, many, raw, off, on, old_ours, old_many = [], [], [], [], [], [], []
    run_ingest(synthetic(200, 50, seed=99, prefix="warm"))  # imports and caches: not part of any figure
    run_ingest_many(synthetic(200, 50, seed=98, prefix="warm-many"))
    CPU_RATES.clear()
    for run in range(args.runs):
        rows = synthetic(args.messages, args.contacts, seed=run, prefix=f"r{run}")
        ours.append(run_ingest(rows))
        many.append(run_ingest_many(synthetic(args.messages, args.contacts, seed=run, prefix=f"b{run}")))
        if args.threads:
            off.append(run_ingest_threads(synthetic(args.messages, args.contacts, seed=run, prefix=f"s{run}"),
                                          args.threads, False))
            groups = _group.stats.groups
            on.append(run_ingest_threads(synthetic(args.messages, args.contacts, seed=run, prefix=f"g{run}"),
                                         args.threads, True))
            per_commit = args.messages / max(1, _group.stats.groups - groups)
        raw.append(run_raw(rows))
        if args.compare_search_index:
            from _old_search import conversation_index, message_index

            message_index(only=True)
            LABEL[0] = " (old search index)"
            old_ours.append(run_ingest(synthetic(args.messages, args.contacts, seed=run, prefix=f"o{run}")))
            old_many.append(run_ingest_many(synthetic(args.messages, args.contacts, seed=run, prefix=f"p{run}")))
            conversation_index()
            LABEL[0] = ""
            print(f"run {run + 1}, old per-message search index: ingest {old_ours[-1]:,.0f} msg/s, "
                  f"ingest_many {old_many[-1]:,.0f} msg/s", flush=True)
        print(f"run {run + 1}: ingest {ours[-1]:,.0f} msg/s, ingest_many {many[-1]:,.0f} msg/s, "
              + (f"ingest() x{args.threads} threads: group commit off {off[-1]:,.0f}, on {on[-1]:,.0f} msg/s "
                 f"({per_commit:.1f} messages per commit), " if args.threads else "")
              + f"raw executemany {raw[-1]:,.0f} rows/s, load {os.getloadavg()[0]:.1f}", flush=True)
    m_ours, m_many, m_raw = median(ours), median(many), median(raw)
    print(f"\n{command_line()}")
    print(f"database: {connection.vendor}; {args.messages:,} messages from {args.contacts:,} contacts, "
          f"median of {args.runs} runs")
    print("| path | messages/s | ratio to raw executemany |\n|---|---|---|")
    print(f"| ingest(), one transaction per message (API, forms, webhooks) | {m_ours:,.0f} | {m_ours / m_raw:.4f} |")
    if args.threads:
        for label, values in ((f"ingest(), {args.threads} threads, group commit off", off),
                              (f"ingest(), {args.threads} threads, group commit on", on)):
            print(f"| {label} | {median(values):,.0f} | {median(values) / m_raw:.4f} |")
    print(f"| ingest_many(), one commit per 500 (polls, imports) | {m_many:,.0f} | {m_many / m_raw:.4f} |")
    print(f"| raw executemany of the same message rows | {m_raw:,.0f} | 1 |")
    if args.compare_search_index:
        print(f"| ingest(), old per-message search index (before inbox 0009) | {median(old_ours):,.0f} | "
              f"{median(old_ours) / m_raw:.4f} |")
        print(f"| ingest_many(), old per-message search index | {median(old_many):,.0f} | "
              f"{median(old_many) / m_raw:.4f} |")
    print("CPU-time rates (messages per CPU second, median): "
          + ", ".join(f"{k} {median(v):,.0f}" for k, v in CPU_RATES.items()))


if __name__ == "__main__":
    main()
