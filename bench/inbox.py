"""Inbox latency with a large history: p50/p95 of the inbox page, a filtered inbox page and a
conversation page, rendered through the whole Django stack (middleware, auth, templates).

    python bench/inbox.py [--conversations 100000 --messages 1000000 --requests 200 --database-url URL]

The data is bulk-loaded with executemany (not through ingest(), which bench/ingest.py measures).
The baseline measured in the same run is the cheapest page of the same stack (/healthz), so the
ratio shows what the inbox itself costs.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import command_line, django_for, median, percentile  # noqa: E402

WORDS = ("Bestellung Lieferung Rechnung Paket defekt kaputt Frage Hilfe bitte danke order refund account login "
         "password broken late delivery invoice support Kündigung Vertrag Tarif app crash heute morgen").split()


def load(conversations: int, messages: int, contacts: int) -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    from resonanz.connectors.actions import create_channel
    from resonanz.inbox.actions import ensure_default_teams
    from resonanz.inbox.models import Team

    rng = random.Random(1)
    ensure_default_teams()
    teams = list(Team.objects.values_list("id", flat=True))
    channels = [create_channel(kind="api", name=f"bench {i}").pk for i in range(4)]
    now = timezone.now()
    ts = lambda dt: dt.isoformat() if connection.vendor == "sqlite" else dt  # noqa: E731
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO crm_contact (name, preferred_language, lifecycle_stage, custom_fields, consent, notes, "
            "is_demo, created_at, updated_at) VALUES (%s, 'de', 'customer', '{}', false, '', false, %s, %s)",
            [(f"Kunde {i}", ts(now), ts(now)) for i in range(contacts)])
        cursor.execute("SELECT MIN(id) FROM crm_contact")
        first_contact = cursor.fetchone()[0]
        cursor.executemany(
            "INSERT INTO crm_identity (contact_id, kind, handle, display_name, profile, created_at) "
            "VALUES (%s, 'email', %s, '', '{}', %s)",
            [(first_contact + i, f"kunde{i}@example.com", ts(now)) for i in range(contacts)])
        statuses = ["new", "open", "pending", "resolved", "resolved", "closed", "closed", "closed"]
        rows = []
        for i in range(conversations):
            when = now - timedelta(minutes=conversations - i)
            rows.append((f"Anfrage {i}: " + " ".join(rng.choices(WORDS, k=4)), rng.choice(channels),
                         first_contact + rng.randrange(contacts), rng.choice(statuses), rng.choice([1, 2, 2, 3, 4]),
                         rng.choice(teams), ts(when), ts(when), ts(when), rng.random() < 0.5,
                         messages // conversations))
        cursor.executemany(
            "INSERT INTO inbox_conversation (subject, channel_id, contact_id, status, priority, team_id, created_at, "
            "last_activity_at, last_inbound_at, waiting_for_us, message_count, is_demo) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, false)", rows)
        cursor.execute("SELECT MIN(id), MAX(id) FROM inbox_conversation")
        low, high = cursor.fetchone()
    per = messages // conversations
    batch = []
    with connection.cursor() as cursor:
        for cid in range(low, high + 1):
            for k in range(per):
                text = " ".join(rng.choices(WORDS, k=rng.randint(8, 30)))
                batch.append((cid, channels[cid % 4], "inbound" if k % 2 == 0 else "outbound", f"m{cid}-{k}",
                               text, f"<p>{text}</p>", ts(now), ts(now), ts(now)))
            if len(batch) >= 50_000 or cid == high:
                with transaction.atomic():
                    cursor.executemany(
                        "INSERT INTO inbox_message (conversation_id, channel_id, direction, external_id, in_reply_to, "
                        "subject, text, html, is_public, delivery_status, delivery_detail, sent_at, received_at, "
                        "created_at, pipeline_state, pipeline_error, meta) VALUES (%s, %s, %s, %s, '', '', %s, %s, "
                        "false, 'received', '', %s, %s, %s, 'done', '', '{}')", batch)
                batch = []
                print(f"  loaded messages up to conversation {cid - low + 1:,}/{high - low + 1:,}", flush=True)
        cursor.execute("ANALYZE")


def timed(client, url: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        response = client.get(url)
        out.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    django_for(args.database_url, "inbox")
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from resonanz.inbox.actions import invite_agent
    from resonanz.inbox.models import Conversation, Team

    setup_test_environment()
    start = time.perf_counter()
    load(args.conversations, args.messages, args.contacts)
    print(f"loaded in {time.perf_counter() - start:.0f} s")
    invite_agent("bench@example.com", role="agent", password="bench-pass-1")
    client = Client()
    client.login(username="bench@example.com", password="bench-pass-1")
    team = Team.objects.get(name="Legal").pk
    busy = Conversation.objects.order_by("-id").values_list("id", flat=True)[500]
    pages = {
        "healthz (baseline)": "/healthz",
        "inbox": "/inbox/",
        "inbox filtered (team, waiting, priority sort)": f"/inbox/?status=open&team={team}&waiting=1&sort=priority",
        "inbox search (full text)": "/inbox/?status=all&q=kündigung%20vertrag",
        "conversation": f"/inbox/conversations/{busy}/",
    }
    for url in pages.values():
        timed(client, url, 3)  # warm caches
    results = {name: timed(client, url, args.requests) for name, url in pages.items()}
    base = median(results["healthz (baseline)"])
    print(f"\n{command_line()}")
    print(f"database: {connection.vendor}; {args.conversations:,} conversations, {args.messages:,} messages; "
          f"{args.requests} requests each")
    print("| page | p50 ms | p95 ms | p50 / baseline |\n|---|---|---|---|")
    for name, values in results.items():
        print(f"| {name} | {median(values):.1f} | {percentile(values, 95):.1f} | {median(values) / base:.1f} |")


if __name__ == "__main__":
    main()
