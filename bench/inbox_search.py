"""The inbox search step alone, in CPU time: what the inbox page runs to find the ids of its first page
(``status=all``), new and old, over the database bench/inbox.py loaded (run that with ``--load-only`` first).

    PYTHONPATH=src python bench/inbox_search.py [--runs 3] [--database-url URL]

CPU time of this process is the steady figure on a busy machine for SQLite (it runs in the process); on
PostgreSQL the server's work is not in it, so read the wall clock there.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import command_line, django_for  # noqa: E402

QUERIES = ["bitte", "kündigung vertrag", "paket defekt hilfe", "liefer", "gutschein", "gutschein retoure",
           "reklamation", "artikel0123", "artikel0123 paket defekt", "kunde 4711", "kunde4711@example.com"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    django_for(args.database_url, "inbox", fresh=False)
    from _old_search import old_search_q
    from resonanz.inbox.models import Conversation
    from resonanz.inbox.queries import filter_conversations
    from resonanz.inbox.search import Search

    ordered = filter_conversations(Conversation.objects.all(), {"status": "all"}, None)
    print(command_line())
    print("| query | plan | new CPU ms | new wall ms | old CPU ms | old wall ms | load |\n|---|---|---|---|---|---|---|")
    for q in QUERIES:
        cpu, wall = [], []
        for _ in range(args.runs):
            c, w = time.process_time(), time.perf_counter()
            search = Search(q)
            few = search.few
            ids = (list(ordered.filter(search.condition()).values_list("pk", flat=True)[:51]) if few
                   else search.walk(ordered, 0, 51))
            cpu.append((time.process_time() - c) * 1000)
            wall.append((time.perf_counter() - w) * 1000)
        c, w = time.process_time(), time.perf_counter()
        old = list(ordered.filter(old_search_q(q)).values_list("pk", flat=True)[:51])
        old_cpu, old_wall = (time.process_time() - c) * 1000, (time.perf_counter() - w) * 1000
        plan = "id list" if few else "walk"
        print(f"| {q} | {plan}, {len(ids)} ids (old {len(old)}) | {statistics.median(cpu):.1f} | "
              f"{statistics.median(wall):.1f} | {old_cpu:.1f} | {old_wall:.1f} | {os.getloadavg()[0]:.1f} |", flush=True)


if __name__ == "__main__":
    main()
