"""Webhook intake: signed WhatsApp notifications verified, stored and answered, against /healthz in the same run.

    python bench/webhook_intake.py [--requests 300 --entries 1 --database-url URL]

Each request is a new customer message (its own wamid) signed with X-Hub-Signature-256 and posted to
/hooks/<slug>/ through the whole Django stack (middleware, routing, signature check, JSON parsing, ingestion
with contact and conversation, the event log) in one process, one request at a time, on a fresh SQLite
database. Meta retries slow webhooks, so the p95 answer time matters as much as the rate. The baseline is
/healthz in the same process, so the ratio shows what the intake costs. (Concurrency through a real ASGI server
is not measured here.) ``--entries N`` puts N customer messages into each notification as N entries, the way
Meta batches notifications under load; they go through the batched ingestion core (``ingest_many``) together,
and the rate is then also given in messages per second.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import command_line, django_for, median, percentile  # noqa: E402

SECRET = "bench-app-secret"


def entry(n: int) -> dict:
    sender = f"4915100{n % 5000:06d}"
    return {"id": "102290129340398", "changes": [{
        "value": {"messaging_product": "whatsapp",
                  "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
                  "contacts": [{"profile": {"name": f"Kunde {n}"}, "wa_id": sender}],
                  "messages": [{"from": sender, "id": f"wamid.BENCH{n:08d}", "timestamp": str(int(time.time())),
                                "type": "text", "text": {"body": f"Wo bleibt meine Bestellung {n}?"}}]},
        "field": "messages"}]}


def notification(n: int, entries: int = 1) -> bytes:
    return json.dumps({"object": "whatsapp_business_account",
                       "entry": [entry(n * entries + k) for k in range(entries)]}).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--entries", type=int, default=1, help="customer messages per notification")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    django_for(args.database_url, "webhook_intake")
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from resonanz.connectors.actions import create_channel

    setup_test_environment()
    channel = create_channel(kind="whatsapp", name="bench", settings={"phone_number_id": "106540352242922"},
                             credentials={"access_token": "x", "app_secret": SECRET, "verify_token": "v"})
    client = Client()
    url = f"/hooks/{channel.slug}/"
    bodies = [notification(n, args.entries) for n in range(args.requests + 10)]
    signatures = ["sha256=" + hmac.new(SECRET.encode(), b, hashlib.sha256).hexdigest() for b in bodies]

    def hook(i: int) -> float:
        start = time.perf_counter()
        response = client.post(url, data=bodies[i], content_type="application/json",
                               HTTP_X_HUB_SIGNATURE_256=signatures[i])
        elapsed = (time.perf_counter() - start) * 1000
        assert response.status_code == 200 and response.json()["created"] == args.entries, response.content
        return elapsed

    def health() -> float:
        start = time.perf_counter()
        assert client.get("/healthz").status_code in (200, 503)
        return (time.perf_counter() - start) * 1000

    for i in range(10):  # warm up
        hook(i)
        health()
    started, cpu = time.perf_counter(), time.process_time()
    hooks = [hook(i) for i in range(10, args.requests + 10)]
    hook_seconds, hook_cpu = time.perf_counter() - started, time.process_time() - cpu
    started, cpu = time.perf_counter(), time.process_time()
    checks = [health() for _ in range(args.requests)]
    health_seconds, health_cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"\n{command_line()}")
    print(f"database: {connection.vendor}; {args.requests} requests each, sequential, in-process; "
          f"{args.entries} message(s) per notification")
    print("| request | per second | p50 ms | p95 ms | CPU ms per request |\n|---|---|---|---|---|")
    print(f"| /healthz (baseline) | {args.requests / health_seconds:.0f} | {median(checks):.1f} | "
          f"{percentile(checks, 95):.1f} | {health_cpu / args.requests * 1000:.2f} |")
    print(f"| signed WhatsApp webhook, stored | {args.requests / hook_seconds:.0f} | {median(hooks):.1f} | "
          f"{percentile(hooks, 95):.1f} | {hook_cpu / args.requests * 1000:.2f} |")
    if args.entries > 1:
        print(f"messages stored per second: {args.requests * args.entries / hook_seconds:.0f}")
    profile(client, url, bodies, args)


def profile(client, url: str, bodies: list[bytes], args) -> None:
    """Where a notification's time goes: statements per request (a new customer, a known one, a redelivery),
    and the cost of the signature check and the safe JSON parsing alone, per request."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from resonanz.connectors.social import meta as graph
    from resonanz.core import jsonsafe

    def statements(body: bytes) -> int:
        signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        with CaptureQueriesContext(connection) as queries:
            assert client.post(url, data=body, content_type="application/json",
                               HTTP_X_HUB_SIGNATURE_256=signature).status_code == 200
        return len(queries.captured_queries)

    fresh = notification(10**6, args.entries).replace(b'4915100', b'4915999')  # senders never seen before
    known = json.loads(fresh)
    for k, item in enumerate(known["entry"]):
        item["changes"][0]["value"]["messages"][0]["id"] = f"wamid.KNOWN{k:08d}"
    counts = {"new customer(s)": statements(fresh), "redelivery": statements(fresh),
              "known customer(s)": statements(json.dumps(known).encode())}
    body = bodies[0]
    header = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    rounds = 2000
    started = time.perf_counter()
    for _ in range(rounds):
        graph.verify_signature(SECRET, body, header)
    signing = (time.perf_counter() - started) / rounds * 1e6
    started = time.perf_counter()
    for _ in range(rounds):
        jsonsafe.loads(body)
    parsing = (time.perf_counter() - started) / rounds * 1e6
    print(f"statements per request ({args.entries} message(s)): "
          + ", ".join(f"{k} {v}" for k, v in counts.items()))
    print(f"signature check {signing:.1f} µs, safe JSON parsing {parsing:.1f} µs per request "
          f"({len(body)} bytes)")


if __name__ == "__main__":
    main()
