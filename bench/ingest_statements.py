"""SQL statements per ingested message: a cost that does not depend on how busy the machine is.

Wall-clock rates on this shared machine swing by 2x between runs; the number of statements each path sends to
the database does not, so it is what an A/B of two versions of the ingestion code should compare first.

    python bench/ingest_statements.py [--database-url URL]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import command_line, django_for  # noqa: E402


def inbound_message_class():
    try:
        from resonanz.connectors.intake import InboundMessage
    except ImportError:  # releases before the channel contract
        from resonanz.connectors.drivers.base import InboundMessage
    return InboundMessage


def count(fn) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        fn()
    return len(captured.captured_queries)


def concurrent(channel, message, threads: int, per_thread: int) -> tuple[float, float]:
    """``ingest()`` from ``threads`` threads at once, ``per_thread`` messages each (group commit as configured):
    (statements per message, messages per commit). Every statement of a group runs on the leading thread's
    connection while that thread is inside its own ``ingest()``, so a wrapper per thread counts them all."""
    import threading

    from django.db import connection

    from resonanz.inbox.actions import _group, ingest

    counted = [0] * threads

    def work(n: int) -> None:
        def counter(execute, sql, params, many, context):
            counted[n] += 1
            return execute(sql, params, many, context)
        try:
            with connection.execute_wrapper(counter):
                for i in range(per_thread):
                    ingest(channel, message(external_id=f"t{n}-{i}", sender_handle=f"kunde{(n * per_thread + i) % 50}"
                                            "@example.com", text=f"Frage {i}"))
        finally:
            connection.close()

    groups = _group.stats.groups
    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    total = threads * per_thread
    return sum(counted) / total, total / max(1, _group.stats.groups - groups)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    django_for(args.database_url, "ingest_statements")
    from resonanz.connectors.actions import create_channel
    from resonanz.inbox.actions import ingest, ingest_many

    message = inbound_message_class()
    channel = create_channel(kind="api", name="statements")
    ingest(channel, message(external_id="warm", sender_handle="known@example.com", text="Hallo"))
    rows = {
        "ingest(), new contact": count(lambda: ingest(channel, message(
            external_id="n1", sender_handle="new@example.com", text="Meine Bestellung fehlt"))),
        "ingest(), known contact, open conversation": count(lambda: ingest(channel, message(
            external_id="k1", sender_handle="known@example.com", text="Noch eine Frage"))),
        "ingest(), redelivery of a stored message": count(lambda: ingest(channel, message(
            external_id="k1", sender_handle="known@example.com", text="Noch eine Frage"))),
    }
    batch = [message(external_id=f"b{i}", sender_handle=f"kunde{i % 50}@example.com", text=f"Frage {i}")
             for i in range(args.batch)]
    rows[f"ingest_many(), {args.batch} messages from 50 new contacts"] = count(lambda: ingest_many(channel, batch))
    again = [message(external_id=f"c{i}", sender_handle=f"kunde{i % 50}@example.com", text=f"Nachtrag {i}")
             for i in range(args.batch)]
    rows[f"ingest_many(), {args.batch} more from the same contacts (50 open conversations)"] = count(
        lambda: ingest_many(channel, again))
    print(command_line())
    print("| path | SQL statements |\n|---|---|")
    for name, statements in rows.items():
        print(f"| {name} | {statements} |")
    try:
        from resonanz.inbox.actions import _group  # noqa: F401  (releases with group commit)
    except ImportError:
        return
    from django.conf import settings

    for on in (False, True):
        settings.RESONANZ_INGEST_GROUP_COMMIT = on
        per_message, per_commit = concurrent(channel, message, args.threads, 25)
        per_commit = per_commit if on else 1.0  # off: every message commits on its own
        print(f"| ingest() from {args.threads} threads at once, group commit {'on' if on else 'off'} | "
              f"{per_message:.2f} per message (BEGIN/COMMIT not counted), {per_commit:.1f} messages per commit |")


if __name__ == "__main__":
    main()
