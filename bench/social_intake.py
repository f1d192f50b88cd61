"""Social intake: N mentions and N/4 hashtag posts on a local Mastodon API server, read by the Mastodon driver
into conversations and the listening stream (analysis waits for the worker), against the raw ingestion rate of
the same messages handed to ingest_many directly (no HTTP, no parsing) in the same run. Beside it, the listening
stream's own writer: the hashtag posts stored in pages of 40 by the batched ``ingest_posts`` against one post at a
time (``ingest_post``, the way the stream stored them before), with the statements each needs per page.

    python bench/social_intake.py [--mentions 10000 --customers 2000 --runs 3 --database-url URL]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT.parent))
from _setup import command_line, django_for, median  # noqa: E402

WORDS = ("Bestellung Lieferung Rechnung Paket defekt kaputt Frage Hilfe bitte danke order refund account "
         "broken late delivery invoice support Kündigung Vertrag Tarif app crash heute morgen").split()


def replay(server, firma_token: str, tokens: list[str], n: int, seed: int) -> None:
    """Fill the server with n mentions of @firma and n/4 public posts tagged #fahrrad (as its own writes)."""
    rng = random.Random(seed)
    for i in range(n):
        server.post(rng.choice(tokens), f"@firma {' '.join(rng.choices(WORDS, k=rng.randint(5, 30)))} #{i}")
    for _ in range(n // 4):
        server.post(rng.choice(tokens), f"{' '.join(rng.choices(WORDS, k=rng.randint(5, 30)))} #fahrrad")


def run_driver(server, firma_token: str, run: int, expected: int, progress) -> float:
    from resonanz.connectors.actions import create_channel
    from resonanz.connectors.models import SourceState

    channel = create_channel(kind="mastodon", name=f"bench-{run}", settings={
        "server_url": server.url, "listen": ["#fahrrad"]}, credentials={"access_token": firma_token})
    driver = channel.driver
    driver.account(driver.client())
    SourceState.objects.create(channel=channel, key="mentions", cursor={"since": "0"})
    SourceState.objects.create(channel=channel, key="listen:#fahrrad", cursor={"since": "0"})
    start, cpu, stored = time.perf_counter(), time.thread_time(), 0
    while stored < expected:
        new = channel.driver.poll()  # each poll reads at most 20 pages of 40 per source
        if not new:
            break
        stored += new
        progress.update(new)
    seconds, cpu = time.perf_counter() - start, time.thread_time() - cpu
    if stored != expected:
        raise SystemExit(f"stored {stored} of {expected} items")
    return stored / seconds, stored / cpu


def run_raw(server, run: int) -> float:
    """The same mentions straight into ingest_many: the physical limit of the ingestion core on this machine."""
    from resonanz.connectors.actions import create_channel
    from resonanz.connectors.drivers.base import InboundMessage
    from resonanz.inbox.actions import ingest_many

    channel = create_channel(kind="mastodon", name=f"raw-{run}", settings={"server_url": server.url})
    items = [InboundMessage(external_id=s["id"], sender_handle=f"{s['account']['acct']}@social.example",
                            text=s["content"], html=s["content"], is_public=True)
             for s in server.statuses.values() if s["mentions"]]
    start, cpu = time.perf_counter(), time.thread_time()
    ingest_many(channel, items)
    return len(items) / (time.perf_counter() - start), len(items) / (time.thread_time() - cpu)


def post_items(server, run: int, tag: str) -> list:
    from resonanz.connectors.drivers.base import InboundPost

    return [InboundPost(external_id=f"{run}-{s['id']}", text=s["content"], html=s["content"],
                        author=s["account"]["display_name"], author_handle=s["account"]["acct"],
                        link=s["url"], reach=s["account"]["followers_count"], source=f"mastodon:#{tag}")
            for s in server.statuses.values() if not s["mentions"]]


def run_posts(server, run: int, batched: bool) -> tuple[float, float]:
    """(posts/s, statements per page of 40) storing the hashtag posts batched or one at a time."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from resonanz.connectors.actions import create_channel
    from resonanz.listening.actions import ingest_post, ingest_posts

    kind = "batched" if batched else "single"
    channel = create_channel(kind="mastodon", name=f"posts-{kind}-{run}", settings={"server_url": server.url})
    items = post_items(server, run, "fahrrad")
    pages = [items[i:i + 40] for i in range(0, len(items), 40)]
    statements = []
    start = time.perf_counter()
    for page in pages:
        connection.queries_log.clear()  # the log keeps 9,000 statements; counting needs room for a page
        with CaptureQueriesContext(connection) as ctx, transaction.atomic():  # one transaction per page, as a poll
            if batched:
                ingest_posts(channel, page)
            else:
                for item in page:
                    ingest_post(channel, item)
        statements.append(len(ctx.captured_queries))
    seconds = time.perf_counter() - start
    return len(items) / seconds, median(statements)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=10_000)
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    django_for(args.database_url, "social_intake")
    from django.conf import settings
    from tests.support.mastodon.server import MastodonServer
    from tqdm import tqdm

    settings.RESONANZ_OUTBOUND_ALLOW = ["127.0.0.1"]
    server = MastodonServer().start()
    _, firma_token = server.add_account("firma", "Firma GmbH", followers=1200)
    tokens = [server.add_account(f"kunde{i}", f"Kunde {i}", followers=i)[1] for i in range(args.customers)]
    server.remaining = {t: 10**9 for t in [firma_token, *tokens]}  # the bench measures us, not a rate limit
    replay(server, firma_token, tokens, args.mentions, seed=1)
    expected = args.mentions + args.mentions // 4
    driver_rates, raw_rates, batched, single = [], [], [], []
    for run in range(args.runs):
        with tqdm(total=expected, unit="items", desc=f"run {run + 1}", file=sys.stderr) as progress:
            driver_rates.append(run_driver(server, firma_token, run, expected, progress))
        raw_rates.append(run_raw(server, run))
        single.append(run_posts(server, run, batched=False))  # alternated in each run: the same machine state
        batched.append(run_posts(server, run, batched=True))
    server.stop()
    driver, raw = median([w for w, _ in driver_rates]), median([w for w, _ in raw_rates])
    driver_cpu, raw_cpu = median([c for _, c in driver_rates]), median([c for _, c in raw_rates])
    post_batched, post_single = median([r for r, _ in batched]), median([r for r, _ in single])
    print(command_line())
    print(f"driver (HTTP + parsing + threading + listening): {driver:,.0f} items/s wall (median of {args.runs}; "
          f"runs {', '.join(f'{w:,.0f}' for w, _ in driver_rates)}), {driver_cpu:,.0f} items per CPU second of "
          "the polling thread (the local server's threads excluded)")
    print(f"raw ingest_many of the same mentions:           {raw:,.0f} messages/s wall, {raw_cpu:,.0f} per CPU second")
    print(f"ratio driver/raw: {driver / raw:.2f} wall, {driver_cpu / raw_cpu:.2f} CPU")
    print(f"listening posts, ingest_posts in pages of 40:   {post_batched:,.0f} posts/s, "
          f"{median([n for _, n in batched]):.0f} statements per page")
    print(f"listening posts, one ingest_post at a time:     {post_single:,.0f} posts/s, "
          f"{median([n for _, n in single]):.0f} statements per page")
    print(f"ratio batched/one at a time: {post_batched / post_single:.1f}")


if __name__ == "__main__":
    main()
