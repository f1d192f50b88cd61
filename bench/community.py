"""Community latency with a large forum, and exact idea votes under concurrent voters.

    python bench/community.py [--questions 100000 --answers 500000 --votes 1000000 --requests 100
                               --voters 50 --database-url URL]

Pages (start page in each sort, a busy question, the ideas list) are rendered through the whole Django stack;
p50/p95 in ms, with /healthz measured in the same run as the baseline. The data is bulk-loaded with
executemany. Then ``--voters`` threads vote on one idea at the same moment (each twice, half withdraw
once and vote again); the count on the idea must equal the rows in the vote table and the number of voters.
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import command_line, django_for, median, percentile  # noqa: E402

WORDS = ("Bestellung Lieferung Rechnung Paket defekt Frage Hilfe Adresse Konto Passwort App Tarif Vertrag "
         "order refund account login password broken delivery invoice dark mode export").split()


def _columns(cursor, table: str) -> set[str]:
    from django.db import connection

    return {c.name for c in connection.introspection.get_table_description(cursor, table)}


def load(members: int, questions: int, answers: int, votes: int, events: int, tags: int) -> None:
    """Bulk rows as the forum would have them; also runs against the previous release's schema (same-run
    comparison), so columns added since are filled only where they exist."""
    from django.db import connection, transaction
    from django.utils import timezone

    rng = random.Random(1)
    now = timezone.now()
    ts = (lambda: now.isoformat()) if connection.vendor == "sqlite" else (lambda: now)
    with transaction.atomic(), connection.cursor() as cursor:
        extra = ", avatar_version" if "avatar_version" in _columns(cursor, "community_member") else ""
        cursor.executemany(
            "INSERT INTO community_member (display_name, about, language, reputation, is_moderator, "
            f"privileges_revoked, is_deleted, keep_posts_on_erasure, created_at{extra}) "
            f"VALUES (%s, '', 'de', %s, false, false, false, false, %s{', 0' if extra else ''})",
            [(f"Mitglied {i}", rng.randrange(500), ts()) for i in range(members)])
        cursor.execute("SELECT MIN(id) FROM community_member")
        m0 = cursor.fetchone()[0]
        rows = []
        for i in range(questions):
            title = f"Frage {i}: " + " ".join(rng.choices(WORDS, k=5))
            body = " ".join(rng.choices(WORDS, k=40))
            rows.append((m0 + rng.randrange(members), title, body, f"<p>{body}</p>", rng.randrange(30),
                         answers // questions if i % 5 else 0, ts(), ts(), ts()))
        cursor.executemany(
            "INSERT INTO community_question (author_id, title, body, body_html, product, language, visibility, "
            "locked, score, answer_count, created_at, updated_at, last_activity_at) "
            "VALUES (%s, %s, %s, %s, '', 'de', 'visible', false, %s, %s, %s, %s, %s)", rows)
        cursor.execute("SELECT MIN(id), MAX(id) FROM community_question")
        q0, q1 = cursor.fetchone()
    print(f"  loaded {questions:,} questions", flush=True)
    per = answers // questions
    batch: list = []
    with connection.cursor() as cursor:
        for qid in range(q0, q1 + 1):
            if (qid - q0) % 5 == 0:
                continue
            for _ in range(per):
                text = " ".join(rng.choices(WORDS, k=30))
                batch.append((qid, m0 + rng.randrange(members), text, f"<p>{text}</p>", rng.randrange(20), ts()))
            if len(batch) >= 50_000 or qid == q1:
                with transaction.atomic():
                    cursor.executemany(
                        "INSERT INTO community_answer (question_id, author_id, body, body_html, by_staff, visibility, "
                        "score, created_at) VALUES (%s, %s, %s, %s, false, 'visible', %s, %s)", batch)
                batch = []
        print(f"  loaded {answers:,} answers", flush=True)
        seen = set()
        while len(seen) < votes:
            seen.add((m0 + rng.randrange(members), q0 + rng.randrange(q1 - q0 + 1)))
        pairs = list(seen)
        for start in range(0, len(pairs), 100_000):
            with transaction.atomic():
                cursor.executemany(
                    "INSERT INTO community_vote (member_id, question_id, recipient_id, created_at) "
                    "VALUES (%s, %s, %s, %s)", [(m, q, m0, ts()) for m, q in pairs[start:start + 100_000]])
        print(f"  loaded {votes:,} votes", flush=True)
        # reputation events of the last 30 days (experts of the week read the last seven)
        cursor.execute("SELECT MIN(id), MAX(id) FROM community_answer")
        a0, a1 = cursor.fetchone()
        rows = []
        for _ in range(events):
            when = now - timedelta(minutes=rng.randrange(30 * 24 * 60))
            rows.append((m0 + rng.randrange(members), rng.choice((10, 15)), rng.randrange(a0, a1 + 1),
                         when.isoformat() if connection.vendor == "sqlite" else when))
        with transaction.atomic():
            cursor.executemany(
                "INSERT INTO community_reputationevent (member_id, points, reason, answer_id, revoked_reason, "
                "created_at) VALUES (%s, %s, 'answer_upvoted', %s, '', %s)", rows)
        print(f"  loaded {events:,} reputation events", flush=True)
        # tags: each question gets one of ``tags`` tags
        with transaction.atomic():
            described = "description" in _columns(cursor, "community_tag")
            cursor.executemany("INSERT INTO community_tag (name, question_count" + (", description" if described else "")
                               + ") VALUES (%s, %s" + (", ''" if described else "") + ")",
                               [(f"thema-{i}", 0) for i in range(tags)])
            cursor.execute("SELECT MIN(id) FROM community_tag")
            t0 = cursor.fetchone()[0]
            cursor.executemany("INSERT INTO community_question_tags (question_id, tag_id) VALUES (%s, %s)",
                               [(qid, t0 + (qid % tags)) for qid in range(q0, q1 + 1)])
            cursor.execute("UPDATE community_tag SET question_count = (SELECT COUNT(*) FROM community_question_tags "
                           "WHERE tag_id = community_tag.id)")
        print(f"  loaded {tags} tags", flush=True)
        cursor.execute("ANALYZE")


def reuse(path: str) -> None:
    import os

    import django

    root = Path(path).resolve().parent
    os.environ["RESONANZ_VAR_DIR"] = str(root)
    os.environ["DATABASE_URL"] = f"sqlite:///{Path(path).resolve()}"
    os.environ["CELERY_BROKER_URL"] = f"sqla+sqlite:///{root / 'broker.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resonanz.settings")
    os.environ["RESONANZ_LOG_LEVEL"] = "WARNING"
    django.setup()


def statements(client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    return len(ctx.captured_queries)


def timed(client, url: str, n: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds per request (CPU time of this process: what the page itself costs,
    whatever else the shared machine is doing)."""
    wall, cpu = [], []
    for _ in range(n):
        start, start_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return wall, cpu


def concurrent_votes(voters: int) -> tuple[int, int]:
    from django.db import connection

    from resonanz.community import actions
    from resonanz.community.models import Idea, IdeaVote, Member

    author = Member.objects.create(display_name="Ideengeberin")
    idea = actions.submit_idea(author, title="Dunkelmodus für die App", description="Abends ist die App zu hell.")
    people = [Member.objects.create(display_name=f"Wähler {i}") for i in range(voters)]
    barrier = threading.Barrier(voters)
    errors: list[Exception] = []

    def go(i: int, member) -> None:
        try:
            barrier.wait()
            actions.vote_idea(member, idea)
            if i % 2:
                actions.vote_idea(member, idea, up=False)
            actions.vote_idea(member, idea)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=go, args=(i, m)) for i, m in enumerate(people)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        print(f"  {len(errors)} voters failed, first: {errors[0]!r}")
    return Idea.objects.get(pk=idea.pk).votes, IdeaVote.objects.filter(idea=idea).count()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--questions", type=int, default=100_000)
    parser.add_argument("--answers", type=int, default=500_000)
    parser.add_argument("--votes", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=200_000, help="reputation events over 30 days")
    parser.add_argument("--tags", type=int, default=200)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--voters", type=int, default=50)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--reuse", metavar="SQLITE_FILE", default=None,
                        help="measure the pages on a database a previous run loaded (no load, no voters): lets "
                             "two code trees be timed alternately on the very same data")
    args = parser.parse_args()
    if args.reuse:
        reuse(args.reuse)
    else:
        django_for(args.database_url, "community")
    from django.test import Client
    from django.test.utils import setup_test_environment

    from resonanz.community.models import Question

    setup_test_environment()
    if not args.reuse:
        start = time.perf_counter()
        load(args.members, args.questions, args.answers, args.votes, args.events, args.tags)
        print(f"loaded in {time.perf_counter() - start:.0f} s")
    client = Client()
    busy = Question.objects.filter(answer_count__gt=0).order_by("-score", "-id").values_list("id", flat=True)[0]
    pages = {
        "/healthz (baseline)": "/healthz",
        "start page (newest)": "/community/",
        "start page (most votes)": "/community/?sort=votes",
        "start page (unanswered)": "/community/?sort=unanswered",
        "question page": f"/community/q/{busy}/",
        "tag page": "/community/tags/thema-7/",
        "ideas": "/community/ideas/",
    }
    for url in pages.values():
        timed(client, url, 3)  # warm caches and templates
    print(f"\n{command_line()}\n")
    print("| page | statements | p50 ms | p95 ms | CPU p50 ms | CPU p95 ms |\n|---|---|---|---|---|---|")
    for label, url in pages.items():
        n = statements(client, url)
        ms, cpu = timed(client, url, args.requests)
        print(f"| {label} | {n} | {median(ms):.1f} | {percentile(ms, 95):.1f} | {median(cpu):.1f} | "
              f"{percentile(cpu, 95):.1f} |", flush=True)
    if args.reuse:
        return
    counted, rows = concurrent_votes(args.voters)
    print(f"\n{args.voters} concurrent voters on one idea: counter {counted}, vote rows {rows}, "
          f"expected {args.voters + 1} -> {'exact' if counted == rows == args.voters + 1 else 'WRONG'}")


if __name__ == "__main__":
    main()
