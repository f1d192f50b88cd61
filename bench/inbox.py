"""Inbox latency with a large history: p50/p95 of the inbox page, a filtered inbox page and a
conversation page, rendered through the whole Django stack (middleware, auth, templates), and the inbox
search for one to three words that are very common, medium (in about 10 % or 2.5 % of conversations) or
rare, a name, an email address and a ticket number.

    python bench/inbox.py [--conversations 100000 --messages 1000000 --requests 200 --database-url URL]
                          [--search-only --search-requests 40 --old-requests 5 --runs 3 --reuse]

The data is bulk-loaded with executemany (not through ingest(), which bench/ingest.py measures), with the
search index's triggers in place. The baseline measured in the same run is the cheapest page of the same
stack (/healthz), so the ratio shows what the inbox itself costs; each search is measured again with the
search as it was before the per-conversation index (bench/_old_search.py, on the old per-message index,
which the run adds next to the new one). ``--reuse`` measures a database an earlier run loaded.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import command_line, django_for, median, percentile  # noqa: E402

WORDS = ("Bestellung Lieferung Rechnung Paket defekt kaputt Frage Hilfe bitte danke order refund account login "
         "password broken late delivery invoice support Kündigung Vertrag Tarif app crash heute morgen").split()
# Rarer words, added to a message now and then: each MEDIUM word lands in about 1 % of the messages (10 % of
# the conversations), each SELDOM word in about 2.5 % of the conversations, each RARE one in about 20 messages.
MEDIUM = ("Gutschein Retoure Zahlung Adresse Garantie Umtausch Mahnung Storno Lastschrift Versandkosten "
          "voucher return payment address warranty exchange reminder cancel debit shipping").split()
SELDOM = ("Reklamation Kulanz Inkasso Widerruf Sperrung Zustellung Abholung Ersatzteil Rabatt Sendungsnummer "
          "complaint goodwill collection revocation lock parcelshop pickup spare discount tracking").split()
RARE = [f"artikel{n:04d}" for n in range(1000)]


def message_text(rng: random.Random) -> str:
    words = rng.choices(WORDS, k=rng.randint(8, 30))
    if rng.random() < 0.2:
        words.insert(rng.randrange(len(words)), rng.choice(MEDIUM))
    if rng.random() < 0.05:
        words.insert(rng.randrange(len(words)), rng.choice(SELDOM))
    if rng.random() < 0.02:
        words.insert(rng.randrange(len(words)), rng.choice(RARE))
    return " ".join(words)


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
            "last_activity_at, last_inbound_at, waiting_for_us, message_count, is_demo, filtered, filtered_reason, "
            "is_public, thread_key) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, false, '', '', false, '')", rows)
        cursor.execute("SELECT MIN(id), MAX(id) FROM inbox_conversation")
        low, high = cursor.fetchone()
    per = messages // conversations
    batch = []
    with connection.cursor() as cursor:
        for cid in range(low, high + 1):
            for k in range(per):
                text = message_text(rng)
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


SEARCHES = [  # (kind, query): the bench's vocabulary decides how common each is
    ("very common, 1 word", "bitte"),
    ("very common, 2 words", "kündigung vertrag"),
    ("very common, 3 words", "paket defekt hilfe"),
    ("very common, prefix", "liefer"),
    ("medium (10 %), 1 word", "gutschein"),
    ("medium, 2 words", "gutschein retoure"),
    ("medium, 3 words", "gutschein bitte danke"),
    ("seldom (2.5 %), 1 word", "reklamation"),
    ("seldom, 2 words", "reklamation paket"),
    ("rare, 1 word", "artikel0123"),
    ("rare, 2 words", "artikel0123 bitte"),
    ("rare, 3 words", "artikel0123 paket defekt"),
    ("no match", "quarzblau"),
    ("name", "kunde 4711"),
    ("email address", "kunde4711@example.com"),
    ("ticket number", "RZ-{ticket}"),
]


def measure_searches(client, args, ticket: int) -> dict[str, dict[str, list[float]]]:
    """{query: {"new": [ms...], "old": [ms...]}} for the inbox page with each search, new and old."""
    from urllib.parse import quote

    from _old_search import use_new_search, use_old_search

    out = {}
    for kind, query in SEARCHES:
        query = query.format(ticket=ticket)
        url = f"/inbox/?status=all&q={quote(query)}"
        timed(client, url, 2)
        new = timed(client, url, args.search_requests)
        old = []
        if args.old_requests:
            use_old_search()
            try:
                timed(client, url, 1)
                old = timed(client, url, args.old_requests)
            finally:
                use_new_search()
        out[kind] = {"query": query, "new": new, "old": old}
        print(f"  {kind} ({query}): new p95 {percentile(new, 95):.1f} ms"
              + (f", old p95 {percentile(old, 95):.1f} ms" if old else "") + f", load {os.getloadavg()[0]:.1f}",
              flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--search-requests", type=int, default=40)
    parser.add_argument("--old-requests", type=int, default=5, help="requests per search the old way (0: skip)")
    parser.add_argument("--runs", type=int, default=1, help="measurement runs over the same data (medians)")
    parser.add_argument("--search-only", action="store_true", help="only healthz and the searches")
    parser.add_argument("--reuse", action="store_true", help="measure the database an earlier run loaded")
    parser.add_argument("--load-only", action="store_true", help="load the database and stop (measure with --reuse)")
    parser.add_argument("--bulk-index", action="store_true",
                        help="load without the search index's triggers and build the index afterwards in one "
                             "statement (as migration 0009 does for existing data): faster than a trigger per row")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    django_for(args.database_url, "inbox", fresh=not args.reuse)
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from _old_search import conversation_index, drop_conversation_index, message_index
    from resonanz.inbox.actions import invite_agent
    from resonanz.inbox.models import Conversation, Team

    setup_test_environment()
    if not args.reuse:
        start = time.perf_counter()
        if args.bulk_index:
            drop_conversation_index()
        load(args.conversations, args.messages, args.contacts)
        print(f"loaded in {time.perf_counter() - start:.0f} s")
        if args.bulk_index:
            start = time.perf_counter()
            conversation_index()
            print(f"per-conversation search index built in {time.perf_counter() - start:.0f} s")
        if args.old_requests:
            start = time.perf_counter()
            message_index()  # the old per-message index, for the old search's baseline
            print(f"old per-message index built in {time.perf_counter() - start:.0f} s")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        invite_agent("bench@example.com", role="agent", password="bench-pass-1")
    if args.load_only:
        return
    client = Client()
    assert client.login(username="bench@example.com", password="bench-pass-1")
    team = Team.objects.get(name="Legal").pk
    busy = Conversation.objects.order_by("-id").values_list("id", flat=True)[500]
    pages = {"healthz (baseline)": "/healthz"}
    if not args.search_only:
        pages.update({
            "inbox": "/inbox/",
            "inbox filtered (team, waiting, priority sort)": f"/inbox/?status=open&team={team}&waiting=1&sort=priority",
            "conversation": f"/inbox/conversations/{busy}/",
        })
    runs = []
    for run in range(args.runs):
        for url in pages.values():
            timed(client, url, 3)  # warm caches
        results = {name: timed(client, url, args.requests) for name, url in pages.items()}
        searches = measure_searches(client, args, ticket=busy)
        runs.append((results, searches))
        print(f"run {run + 1} done, load {os.getloadavg()[0]:.1f}", flush=True)
    print(f"\n{command_line()}")
    print(f"database: {connection.vendor}; {args.conversations:,} conversations, {args.messages:,} messages; "
          f"{args.requests} requests per page, {args.search_requests} per search "
          f"({args.old_requests} the old way); medians over {args.runs} runs")
    base = median([median(r["healthz (baseline)"]) for r, _ in runs])
    print("| page | p50 ms | p95 ms | p50 / baseline |\n|---|---|---|---|")
    for name in pages:
        p50 = median([median(r[name]) for r, _ in runs])
        p95 = median([percentile(r[name], 95) for r, _ in runs])
        print(f"| {name} | {p50:.1f} | {p95:.1f} | {p50 / base:.1f} |")
    print("\n| inbox search | query | p50 ms | p95 ms | old p50 ms | old p95 ms | old p95 / new p95 |")
    print("|---|---|---|---|---|---|---|")
    for kind, _query in SEARCHES:
        rows = [s[kind] for _, s in runs]
        p50 = median([median(r["new"]) for r in rows])
        p95 = median([percentile(r["new"], 95) for r in rows])
        old = [r["old"] for r in rows if r["old"]]
        o50 = median([median(o) for o in old]) if old else float("nan")
        o95 = median([percentile(o, 95) for o in old]) if old else float("nan")
        print(f"| {kind} | {rows[0]['query']} | {p50:.1f} | {p95:.1f} | {o50:.1f} | {o95:.1f} | {o95 / p95:.1f} |")


if __name__ == "__main__":
    main()
