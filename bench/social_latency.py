"""Latency from a customer's mention on the (local) Mastodon server to the conversation in an open inbox.

The company's channel either keeps the streaming API open (`resonanz stream`'s code path: `driver.stream()`) or
polls every `--interval` seconds (the worker's schedule: `poll_channel`). An observer reads the event log every
second, as the open inbox page does (`app.js` polls `/inbox/updates/` every 1,000 ms), so the figure includes the
inbox's own polling. A customer posts `--mentions` mentions at random gaps; the latency of each is the time from
its POST on the server to the first observer reading that shows its "message received" event.
Targets (issue 10): p95 at most 3 s with streaming, at most one poll interval plus 2 s with polling.

    python bench/social_latency.py [--mentions 40 --interval 10]
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT.parent))
from _setup import command_line, django_for, median, percentile  # noqa: E402

INBOX_POLL = 1.0  # seconds, app.js POLL_MS


def measure(server, kunde_token: str, channel, mode: str, n: int, interval: float, seed: int) -> list[float]:
    from django.db import connection

    from resonanz.connectors.tasks import poll_channel
    from resonanz.inbox.models import ConversationEvent, Message

    stop = threading.Event()

    def company() -> None:
        try:
            if mode == "stream":
                while not stop.is_set():
                    channel.driver.stream()  # until the server ends it
            else:
                while not stop.wait(interval):
                    poll_channel(channel)
        finally:
            connection.close()

    worker = threading.Thread(target=company, daemon=True)
    worker.start()
    if mode == "stream":
        while not any(kind == "user" for _o, kind, _e in server.streams):
            time.sleep(0.05)
    rng = random.Random(seed)
    posted: dict[str, float] = {}
    seen: dict[str, float] = {}
    last_event = ConversationEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    next_post = time.monotonic()
    next_look = time.monotonic() + rng.uniform(0, INBOX_POLL)  # the page was opened at some moment
    while len(seen) < n:
        now = time.monotonic()
        if len(posted) < n and now >= next_post:
            status = server.post(kunde_token, f"@firma Frage Nummer {len(posted)} zu meiner Bestellung")
            posted[status["id"]] = time.monotonic()
            next_post = now + rng.uniform(0.5, 2.5)
        if now >= next_look:
            events = list(ConversationEvent.objects.filter(id__gt=last_event, kind="message_received")
                          .values_list("id", "data"))
            if events:
                last_event = max(e for e, _ in events)
                ids = [d.get("message_id") for _, d in events]
                for external_id in Message.objects.filter(pk__in=ids).values_list("external_id", flat=True):
                    if external_id in posted and external_id not in seen:
                        seen[external_id] = now - posted[external_id]
            next_look += INBOX_POLL
        if len(posted) == n and time.monotonic() - max(posted.values()) > interval * 3 + 30:
            raise SystemExit(f"{mode}: only {len(seen)} of {n} mentions arrived")
        time.sleep(0.01)
    stop.set()
    for _o, _k, events in list(server.streams):
        events.put(None)  # end the open stream so the company thread returns
    worker.join(interval + 10)
    return list(seen.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=40)
    parser.add_argument("--interval", type=float, default=10.0, help="poll interval in seconds")
    parser.add_argument("--database-url")
    args = parser.parse_args()
    django_for(args.database_url, "social_latency")
    from django.conf import settings
    from tests.support.mastodon.server import MastodonServer

    from resonanz.connectors.actions import create_channel

    settings.RESONANZ_OUTBOUND_ALLOW = ["127.0.0.1"]
    results = {}
    for mode in ("stream", "poll"):
        server = MastodonServer().start()
        _, firma_token = server.add_account("firma", "Firma GmbH", followers=1200)
        _, kunde_token = server.add_account("kunde", "Karla Kunde", followers=87)
        channel = create_channel(kind="mastodon", name=f"latency-{mode}", settings={"server_url": server.url},
                                 credentials={"access_token": firma_token})
        channel.driver.poll()  # the account is known and the cursor set, as on a running channel
        results[mode] = measure(server, kunde_token, channel, mode, args.mentions, args.interval, seed=1)
        server.stop()
    print(command_line())
    for mode, values in results.items():
        target = 3.0 if mode == "stream" else args.interval + 2
        p95 = percentile(values, 95)
        print(f"{mode:6}: p50 {median(values):.2f} s, p95 {p95:.2f} s, max {max(values):.2f} s over {len(values)} "
              f"mentions (target p95 <= {target:.0f} s: {'met' if p95 <= target else 'NOT met'})")


if __name__ == "__main__":
    main()
