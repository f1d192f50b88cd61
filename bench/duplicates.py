"""Duplicate contact suggestions: how long the list page's search and one contact's card take, with statement
counts (a cost the busy machine does not change) and CPU time per run.

    python bench/duplicates.py [--contacts 20000] [--runs 5] [--database-url URL]

The data: N contacts with an email identity each, one in 20 also reachable by an API identity with the same
address on another contact, one in 25 sharing a phone number with another, organisations of 40 people with a few
names drawn from the demo data's first and last names and one reordered name ("Schulz, Anna") each.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import command_line, django_for, median  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--contacts", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--explain", action="store_true", help="print the three slowest statements")
    args = parser.parse_args()
    django_for(args.database_url, "duplicates")
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from resonanz.crm import duplicates
    from resonanz.crm.models import Contact, Identity, Organization
    from resonanz.inbox import demo_data as d

    n = args.contacts
    with transaction.atomic():
        orgs = Organization.objects.bulk_create(Organization(name=f"Firma {i}") for i in range(n // 40 + 1))
        rng = random.Random(7)
        names = [f"{rng.choice(d.FIRST_NAMES_DE + d.FIRST_NAMES_EN)} {rng.choice(d.LAST_NAMES_DE + d.LAST_NAMES_EN)}"
                 for _ in range(n)]
        for i in range(1, n, 40):  # one near-duplicate per organisation: "Schulz, Anna" beside "Anna Schulz"
            first, last = names[i - 1].split(" ", 1)
            names[i] = f"{last}, {first}"
        contacts = Contact.objects.bulk_create(Contact(name=names[i], organization=orgs[i // 40]) for i in range(n))
        rows = [Identity(contact=c, kind="email", handle=f"kunde{i}@example.com") for i, c in enumerate(contacts)]
        rows += [Identity(contact=contacts[i + 1], kind="api", handle=f"kunde{i}@example.com")
                 for i in range(0, n - 1, 20)]
        rows += [Identity(contact=c, kind="phone", handle=f"+49170{(i // 2) if i % 25 < 2 else i:07d}")
                 for i, c in enumerate(contacts)]
        Identity.objects.bulk_create(rows, ignore_conflicts=True)
    print(command_line())
    results = {}
    for label, target in (("list page (all pairs, first 200)", None), ("one contact's card", contacts[n // 2])):
        cpu, wall, statements, found = [], [], 0, 0
        for _ in range(args.runs):
            t0, c0 = time.perf_counter(), time.process_time()
            with CaptureQueriesContext(connection) as captured:
                found = len(duplicates.suggestions(target))
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            statements = len(captured.captured_queries)
            slowest = sorted(captured.captured_queries, key=lambda q: -float(q["time"]))[:3]
        results[label] = (median(wall), median(cpu), statements, found)
        if "--explain" in sys.argv:
            for q in slowest:
                print(q["time"], q["sql"][:300])
    print(f"| {n} contacts | median wall s | median CPU s (this process) | SQL statements | pairs shown |")
    print("|---|---|---|---|---|")
    for label, (wall, cpu, statements, found) in results.items():
        print(f"| {label} | {wall:.3f} | {cpu:.3f} | {statements} | {found} |")


if __name__ == "__main__":
    main()
