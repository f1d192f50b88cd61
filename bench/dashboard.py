"""Insights dashboard latency over a large number of analysed items: p50/p95 of the whole dashboard page
(Django stack, templates, SVG charts, KPIs) for 30 days, 365 days and one listening query, and, in the same
run, the dashboard's aggregates read from the rollups (daily ones for whole days, hourly ones for the ends)
against the same aggregates from the hourly rollups only and over the raw rows (facts and mentions) — the
baselines the rollups exist to beat. The charts include intents and urgency and the entities named most
(with their urgency and entity rollups, insights 0004).

    python bench/dashboard.py [--items 1000000 --days 365 --queries 5 --requests 30 --raw-runs 3 --reuse
                               --database-url URL]

Items are bulk-loaded with executemany as posts with their facts and mentions (not through the pipeline,
which bench/listening_match.py and bench/ingest.py measure); the rollups are then built by the product's
own ``refresh_rollups``, the function the pipeline step calls for the hours a batch touched (it keeps the
daily rollups too; its time is printed), and ``days.rebuild`` (``resonanz insights days``) is timed after it.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import command_line, django_for, median, percentile  # noqa: E402

WORDS = ("Kaffeewerk Lieferung Paket defekt kaputt Frage Hilfe danke Espresso Mühle Milchschaum Preis teuer "
         "günstig Service schnell langsam verspätet great coffee delivery broken price support love").split()
SENTIMENTS = ("negative", "neutral", "neutral", "positive")
LANGS = ("de", "de", "de", "en", "other")
INTENTS = ("", "", ",question,", ",complaint,", ",praise,", ",idea,", ",complaint,outage,")
URGENCY = ("low", "low", "low", "medium", "high")
ENTITIES = ("", "", "", ",brand:Kaffeewerk,", ",competitor:BrühBar,", ",brand:Kaffeewerk,product:Barista Pro,",
            ",competitor:Tassenglück,", ",brand:Kaffeewerk,competitor:BrühBar,")


def load(items: int, days: int, queries: int) -> list[int]:
    from django.db import connection, transaction
    from django.utils import timezone

    from resonanz.connectors.actions import create_channel
    from resonanz.insights.models import ListeningQuery

    rng = random.Random(1)
    channels = [create_channel(kind="feed", name=f"bench feed {i}", settings={"feeds": []}).pk for i in range(5)]
    qids = [ListeningQuery.objects.create(name=f"Bench {i}", expression=f"w{i}",
                                          tag="brand" if i == 0 else "competitor").pk for i in range(queries)]
    now = timezone.now()
    span = days * 86400
    # SQLite stores Django's datetimes as naive UTC "YYYY-MM-DD HH:MM:SS[.ffffff]" (not ISO with a "T"): the
    # rollups' hour__in lookups compare these strings, so the bench writes exactly what the ORM writes
    ts = (lambda dt: str(dt.astimezone(UTC).replace(tzinfo=None))) if connection.vendor == "sqlite" else (lambda dt: dt)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM listening_post")
        first = cursor.fetchone()[0] + 1
    step = 50_000
    for start in range(0, items, step):
        posts, facts, mentions = [], [], []
        for i in range(start, min(items, start + step)):
            at = now - timedelta(seconds=rng.random() * span)
            hour = at.replace(minute=0, second=0, microsecond=0)
            ch = rng.choice(channels)
            text = " ".join(rng.choices(WORDS, k=rng.randint(6, 16)))
            posts.append((ch, f"b{i}", text, ts(at), ts(at)))
            facts.append((first + i, ts(at), ts(hour), ch, rng.choice(LANGS), rng.choice(SENTIMENTS),
                          rng.choice(INTENTS), f"user{i % 5000}", rng.randint(10, 9000), rng.choice(URGENCY),
                          rng.choice(ENTITIES)))
            for q in qids:
                if rng.random() < 0.1:
                    mentions.append((q, first + i, ts(hour)))
        if connection.vendor == "postgresql":
            _copy(first + start, posts, facts, mentions)
            print(f"  loaded {min(items, start + step):,}/{items:,} items", flush=True)
            continue
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO listening_post (id, channel_id, external_id, source, source_title, author, author_handle, "
                "link, title, text, html, content_hash, media, published_at, fetched_at, is_demo, pipeline_state, "
                "pipeline_error) VALUES "
                "(%s, %s, %s, '', '', '', '', '', '', %s, '', '', '[]', %s, %s, false, 'done', '')",
                [(first + start + k, *p) for k, p in enumerate(posts)])
            cursor.executemany(
                "INSERT INTO insights_fact (post_id, at, hour, channel_id, language, sentiment, intents, author, "
                "reach, urgency, entities, is_demo) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, false)", facts)
            cursor.executemany("INSERT INTO insights_mention (query_id, fact_id, hour) SELECT %s, id, %s FROM "
                               "insights_fact WHERE post_id = %s", [(q, h, p) for q, p, h in mentions])
        print(f"  loaded {min(items, start + step):,}/{items:,} items", flush=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for table in ("listening_post", "insights_fact", "insights_mention"):
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"(SELECT COALESCE(MAX(id), 1) FROM {table}))")
    return qids


def _copy(first_id: int, posts: list, facts: list, mentions: list) -> None:
    """PostgreSQL's COPY for one batch: row-by-row INSERTs load 10,000,000 items in about 70 minutes.

    A post and its fact share an id here (both tables are filled only by this loader), so a mention can
    name its fact without a lookup."""
    from django.db import connection, transaction

    with transaction.atomic():
        raw = connection.connection.cursor()
        with raw.copy("COPY listening_post (id, channel_id, external_id, source, source_title, author, "
                      "author_handle, link, title, text, html, content_hash, media, published_at, fetched_at, "
                      "is_demo, pipeline_state, pipeline_error) FROM STDIN") as copy:
            for k, (ch, ext, text, at, fetched) in enumerate(posts):
                copy.write_row((first_id + k, ch, ext, "", "", "", "", "", "", text, "", "", "[]", at, fetched,
                                False, "done", ""))
        with raw.copy("COPY insights_fact (id, post_id, at, hour, channel_id, language, sentiment, intents, "
                      "author, reach, urgency, entities, is_demo) FROM STDIN") as copy:
            for row in facts:
                copy.write_row((row[0], *row, False))
        with raw.copy("COPY insights_mention (query_id, fact_id, hour) FROM STDIN") as copy:
            for q, post_id, hour in mentions:
                copy.write_row((q, post_id, hour))


def build_rollups() -> float:
    from resonanz.insights.facts import refresh_rollups
    from resonanz.insights.models import Fact

    start = time.perf_counter()
    hours = list(Fact.objects.values_list("hour", flat=True).distinct())
    refresh_rollups(hours)
    return time.perf_counter() - start


def rebuild_days() -> tuple[float, int]:
    from resonanz.insights import days
    from resonanz.insights.models import DailyRollup, Rollup

    start = time.perf_counter()
    days.rebuild()
    elapsed = time.perf_counter() - start
    print(f"daily rollups rebuilt (resonanz insights days) in {elapsed:.1f} s: {DailyRollup.objects.count():,} "
          f"daily rows for {Rollup.objects.count():,} hourly rows")
    return elapsed, DailyRollup.objects.count()


def raw_aggregates(sel) -> None:
    """What the dashboard's charts count, computed over the raw rows instead of the rollups."""
    from django.db.models import Count

    facts = sel.facts()
    list(facts.values("hour", "sentiment").annotate(c=Count("id")).order_by())
    list(sel.previous.facts().values("sentiment").annotate(c=Count("id")).order_by())
    list(facts.values("channel_id").annotate(c=Count("id")).order_by())
    list(facts.values("language").annotate(c=Count("id")).order_by())
    list(facts.exclude(intents="").values("intents").annotate(c=Count("id")).order_by())
    list(sel.previous.facts().exclude(intents="").values("intents").annotate(c=Count("id")).order_by())
    list(facts.values("urgency").annotate(c=Count("id")).order_by())
    list(sel.previous.facts().values("urgency").annotate(c=Count("id")).order_by())
    list(facts.exclude(entities="").values("entities", "sentiment").annotate(c=Count("id")).order_by())
    list(sel.previous.facts().exclude(entities="").values("entities").annotate(c=Count("id")).order_by())
    from resonanz.insights.models import ListeningQuery, Mention

    for q in ListeningQuery.objects.filter(tag__in=("brand", "competitor")):
        list(Mention.objects.filter(query=q, hour__gte=sel.start, hour__lt=sel.end)
             .values("fact__sentiment").annotate(c=Count("id")).order_by())


def rollup_aggregates(sel) -> None:
    from resonanz.insights import dashboard

    dashboard.volume(sel)
    dashboard.by_channel_and_language(sel)
    dashboard.intents(sel)
    dashboard.urgency(sel)
    dashboard.entities(sel)
    dashboard.share_of_voice(sel)


def timed(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--queries", type=int, default=5)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--raw-runs", type=int, default=3, help="runs of the raw-row baseline (slow)")
    parser.add_argument("--reuse", action="store_true", help="measure the database an earlier run loaded")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    django_for(args.database_url, "dashboard", fresh=not args.reuse)
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from resonanz.inbox.actions import ensure_default_teams, invite_agent
    from resonanz.insights.dashboard import Selection

    setup_test_environment()
    from resonanz.insights.models import Fact, ListeningQuery

    if args.reuse and Fact.objects.exists():
        qids = list(ListeningQuery.objects.filter(name__startswith="Bench ").order_by("pk").values_list("pk", flat=True))
        args.items = Fact.objects.count()
        print(f"measuring the {args.items:,} items an earlier run loaded")
    else:
        ensure_default_teams()
        start = time.perf_counter()
        qids = load(args.items, args.days, args.queries)
        print(f"loaded in {time.perf_counter() - start:.0f} s")
        print(f"rollups built by refresh_rollups in {build_rollups():.0f} s")
        rebuild_days()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        invite_agent("bench@example.com", role="supervisor", password="bench-pass-1")
    from resonanz.insights import days as days_module

    if not days_module.ready():  # a database loaded before daily rollups existed
        rebuild_days()
    client = Client()
    client.login(username="bench@example.com", password="bench-pass-1")

    def page(url):
        def get():
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
        return get

    pages = {"healthz (baseline)": "/healthz", "dashboard, 30 days": "/insights/?days=30",
             "dashboard, 365 days": "/insights/?days=365", "dashboard, one query, 30 days": f"/insights/?query={qids[0]}",
             "dashboard, one query, 365 days": f"/insights/?query={qids[0]}&days=365"}
    results = {}
    for name, url in pages.items():
        timed(page(url), 2)
        results[name] = timed(page(url), args.requests)
    query = ListeningQuery.objects.get(pk=qids[0])
    aggregates = {}
    real_ready = days_module.ready
    for label, sel in (("30 days", Selection(days=30)), ("365 days", Selection(days=365)),
                       ("one query, 30 days", Selection(days=30, query=query)),
                       ("one query, 365 days", Selection(days=365, query=query))):
        timed(lambda sel=sel: rollup_aggregates(sel), 1)
        aggregates[(label, "rollups")] = timed(lambda sel=sel: rollup_aggregates(sel), max(3, args.requests // 3))
        days_module.ready = lambda: False  # the same aggregates from the hourly rollups only
        aggregates[(label, "hourly")] = timed(lambda sel=sel: rollup_aggregates(sel), max(3, args.requests // 6))
        days_module.ready = real_ready
        aggregates[(label, "raw rows")] = timed(lambda sel=sel: raw_aggregates(sel), args.raw_runs)
    from resonanz.insights import dashboard as dash

    authors = {label: timed(lambda sel=sel: dash.top_authors(sel), 3)
               for label, sel in (("30 days", Selection(days=30)), ("365 days", Selection(days=365)))}
    base = median(results["healthz (baseline)"])
    print(f"\n{command_line()}")
    print(f"database: {connection.vendor}; {args.items:,} items over {args.days} days, {args.queries} queries; "
          f"{args.requests} requests each")
    print("| page | p50 ms | p95 ms | p50 / baseline |\n|---|---|---|---|")
    for name, values in results.items():
        print(f"| {name} | {median(values):.1f} | {percentile(values, 95):.1f} | {median(values) / base:.1f} |")
    print("\n| the charts' aggregates | daily + hourly rollups p50 ms | hourly rollups only p50 ms | raw rows p50 ms "
          "| hourly / daily | raw / daily |\n|---|---|---|---|---|---|")
    for label in ("30 days", "365 days", "one query, 30 days", "one query, 365 days"):
        r, h, w = (median(aggregates[(label, k)]) for k in ("rollups", "hourly", "raw rows"))
        print(f"| {label} | {r:.1f} | {h:.1f} | {w:.1f} | {h / r:.1f} | {w / r:.1f} |")
    print("\n| top authors (read from the facts after the page, cached 5 min) | p50 ms of 3 |\n|---|---|")
    for label, values in authors.items():
        print(f"| {label} | {median(values):.1f} |")


if __name__ == "__main__":
    main()
