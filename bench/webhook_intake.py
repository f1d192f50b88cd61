"""Webhook intake: signed WhatsApp notifications verified, stored and answered, against /healthz in the same run.

    python bench/webhook_intake.py [--requests 300 --entries 1 --runs 3 --database-url URL]
    python bench/webhook_intake.py --uvicorn 2 --clients 4 --requests 600 --runs 3

Each request is a new customer message (its own wamid) signed with X-Hub-Signature-256 and posted to
/hooks/<slug>/ through the whole Django stack (middleware, routing, signature check, JSON parsing, ingestion
with contact and conversation, the event log) on a fresh SQLite database. Meta retries slow webhooks, so the p95
answer time matters as much as the rate. The baseline is /healthz in the same run, so the ratio shows what the
intake costs.

Two ways to serve:
- in-process (default): Django's test client, one request at a time, in this process: CPU time per request is
  the figure that compares trees and machines (the client's own CPU is in both rows). The start-up heap is
  frozen as ``resonanz.asgi`` does (``core/heap.py``; ``--no-freeze`` leaves it to the garbage collector).
- ``--uvicorn N``: the deployment of docs/operations.md, ``uvicorn resonanz.asgi:application --workers N``
  loaded by ``--clients`` keep-alive connections of bench/_loadgen.py (one asyncio loop, requests built before
  the clock starts; its own CPU per request is printed, so it is seen not to be the bottleneck); the servers' CPU
  time per request is read from /proc. ``--modes django,lean`` alternates the server without and with the lean
  route (``RESONANZ_LEAN_ROUTES``, core/leanroute.py) in every run, each against its own /healthz.

``--entries N`` puts N customer messages into each notification as N entries, the way Meta batches notifications
under load; they go through the batched ingestion core (``ingest_many``) together, and the rate is then also
given in messages per second. ``--runs`` repeats the measurement and prints the median row. The load average
at the start and end is printed, because the machine is shared.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _loadgen as loadgen  # noqa: E402
from _setup import command_line, django_for, median, percentile  # noqa: E402
from resonanz.core.webserver import uvicorn_command  # noqa: E402

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
    parser.add_argument("--requests", type=int, default=300, help="requests per run and kind")
    parser.add_argument("--entries", type=int, default=1, help="customer messages per notification")
    parser.add_argument("--runs", type=int, default=1, help="measurements (the median row is printed too)")
    parser.add_argument("--uvicorn", type=int, default=0, metavar="N",
                        help="serve with uvicorn and N worker processes instead of in-process")
    parser.add_argument("--clients", type=int, default=4, help="concurrent HTTP clients (with --uvicorn)")
    parser.add_argument("--modes", default="django,lean",
                        help="with --uvicorn: server set-ups alternated in every run: django (RESONANZ_LEAN_ROUTES=0), "
                             "lean (the lean route, core/leanroute.py)")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--no-profile", action="store_true", help="skip the statement and signature counts")
    parser.add_argument("--no-freeze", action="store_true",
                        help="in-process: leave the start-up heap to the garbage collector (resonanz.asgi freezes it)")
    args = parser.parse_args()
    root = django_for(args.database_url, "webhook_intake")
    from django.db import connection

    from resonanz.connectors.actions import create_channel

    channel = create_channel(kind="whatsapp", name="bench", settings={"phone_number_id": "106540352242922"},
                             credentials={"access_token": "x", "app_secret": SECRET, "verify_token": "v"})
    url = f"/hooks/{channel.slug}/"
    warm = 20
    servers = len(args.modes.split(",")) if args.uvicorn else 1
    bodies = [notification(n, args.entries) for n in range(warm + args.requests * args.runs * servers)]
    signatures = ["sha256=" + hmac.new(SECRET.encode(), b, hashlib.sha256).hexdigest() for b in bodies]
    load_before = os.getloadavg()
    if args.uvicorn:
        connection.close()
        rows = served(args, root, url, bodies, signatures, warm)
        how = (f"uvicorn --workers {args.uvicorn}, {args.clients} concurrent keep-alive clients (bench/_loadgen.py), "
               f"set-ups {args.modes} alternated")
    else:
        rows = in_process(args, url, bodies, signatures, warm)
        how = "sequential, in-process (Django test client)"
    load_after = os.getloadavg()
    print(f"\n{command_line()}")
    print(f"database: {connection.vendor}; {args.requests} requests per run and kind, {args.runs} run(s), {how}; "
          f"{args.entries} message(s) per notification; load average {load_before[0]:.1f} at the start, "
          f"{load_after[0]:.1f} at the end ({os.cpu_count()} cores)")
    print("| run | request | per second | p50 ms | p95 ms | server CPU ms per request | load generator CPU ms per "
          "request | load average |\n|---|---|---|---|---|---|---|---|")
    for run, kind, rate, p50, p95, cpu, client, load in rows:
        client_ms = "in the server's" if client is None else f"{client:.3f}"
        print(f"| {run} | {kind} | {rate:.0f} | {p50:.1f} | {p95:.1f} | {cpu:.2f} | {client_ms} | {load:.1f} |")
    for kind in dict.fromkeys(r[1] for r in rows):
        mine = [r for r in rows if r[1] == kind]
        clients = [r[6] for r in mine if r[6] is not None]
        print(f"| median | {kind} | {median([r[2] for r in mine]):.0f} | {median([r[3] for r in mine]):.1f} | "
              f"{median([r[4] for r in mine]):.1f} | {median([r[5] for r in mine]):.2f} | "
              f"{f'{median(clients):.3f}' if clients else ''} | {median([r[7] for r in mine]):.1f} |")
    if args.uvicorn:  # the webhook's rate against /healthz of the same server and run
        for mode in args.modes.split(","):
            mine = [r for r in rows if r[1].endswith(f"[{mode.strip()}]")]
            ratios = [hook[2] / health[2] for hook, health in zip(mine[::2], mine[1::2], strict=True)]
            print(f"webhook / healthz rate [{mode.strip()}]: median {median(ratios):.2f} "
                  f"({', '.join(f'{r:.2f}' for r in ratios)})")
    if args.entries > 1:
        hooks = [r[2] for r in rows if r[1].startswith(HOOK)]
        print(f"messages stored per second (median): {median(hooks) * args.entries:.0f}")
    if not args.uvicorn and not args.no_profile:
        from django.test import Client

        profile(Client(), url, bodies, args)


HOOK, HEALTH = "signed WhatsApp webhook, stored", "/healthz (baseline)"


def in_process(args, url: str, bodies: list[bytes], signatures: list[str], warm: int) -> list[tuple]:
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    client = Client()
    try:  # what resonanz.asgi does at start-up (trees before it had no core/heap.py)
        from resonanz.core.heap import freeze_after_startup
    except ImportError:
        freeze_after_startup = None
    if freeze_after_startup and not args.no_freeze:
        freeze_after_startup()

    def hook(i: int) -> float:
        start = time.perf_counter()
        response = client.post(url, data=bodies[i], content_type="application/json",
                               HTTP_X_HUB_SIGNATURE_256=signatures[i])
        elapsed = (time.perf_counter() - start) * 1000
        assert response.status_code == 200 and response.json()["created"] == args.entries, response.content
        return elapsed

    def health(_i: int) -> float:
        start = time.perf_counter()
        assert client.get("/healthz").status_code in (200, 503)
        return (time.perf_counter() - start) * 1000

    for i in range(warm):
        hook(i)
        health(i)
    rows = []
    for run in range(args.runs):
        first = warm + run * args.requests
        for kind, call in ((HOOK, hook), (HEALTH, health)):
            started, cpu = time.perf_counter(), time.process_time()
            times = [call(i) for i in range(first, first + args.requests)]
            seconds, used = time.perf_counter() - started, time.process_time() - cpu
            rows.append((run + 1, kind, args.requests / seconds, median(times), percentile(times, 95),
                         used / args.requests * 1000, None, os.getloadavg()[0]))
    return rows


def served(args, root: Path, url: str, bodies: list[bytes], signatures: list[str], warm: int) -> list[tuple]:
    """uvicorn with ``args.uvicorn`` workers on this run's database, loaded by ``args.clients`` keep-alive connections
    of bench/_loadgen.py; the server set-ups of ``--modes`` alternate in every run, each with its own /healthz."""
    rows = []
    modes = [m.strip() for m in args.modes.split(",")]
    for run in range(args.runs):
        for mode in modes:
            first = warm + (run * len(modes) + modes.index(mode)) * args.requests
            rows += _served_once(args, root, url, bodies, signatures, warm, mode, run, first)
    return rows


def _served_once(args, root, url, bodies, signatures, warm, mode: str, run: int, first: int) -> list[tuple]:
    import resonanz

    source = str(Path(resonanz.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH")])),
           "ALLOWED_HOSTS": "127.0.0.1", "RESONANZ_EMBEDDER": "none",
           "DJANGO_SETTINGS_MODULE": "resonanz.settings", "RESONANZ_LEAN_ROUTES": "1" if mode == "lean" else "0"}
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(uvicorn_command("127.0.0.1", port, workers=args.uvicorn, extra=("--log-level", "warning")), env=env, cwd=root,
                              stdout=subprocess.DEVNULL, stderr=(root / "uvicorn.log").open("a"))

    def hooks(indices) -> list[bytes]:
        return [loadgen.request("POST", url, bodies[i], {"Content-Type": "application/json",
                                                         "X-Hub-Signature-256": signatures[i]}) for i in indices]

    def healthz(n: int) -> list[bytes]:
        return [loadgen.request("GET", "/healthz")] * n

    try:
        _wait_for(port, server)
        time.sleep(1 if args.uvicorn > 1 else 0)  # every worker process up
        loadgen.run(port, hooks(range(warm)), args.clients)  # the first server stores them, the others find them
        loadgen.run(port, healthz(warm), args.clients)
        rows = []
        for kind, requests in ((HOOK, hooks(range(first, first + args.requests))), (HEALTH, healthz(args.requests))):
            cpu, load = _cpu_seconds(server.pid), os.getloadavg()[0]
            result = loadgen.run(port, requests, args.clients)
            used = _cpu_seconds(server.pid) - cpu
            for status, body in result.answers:
                if kind == HOOK:
                    assert status == 200 and json.loads(body)["created"] == args.entries, (status, body[:300])
                else:
                    assert status in (200, 503), status
            rows.append((run + 1, f"{kind} [{mode}]", result.rate, median(result.times_ms),
                         percentile(result.times_ms, 95), used / args.requests * 1000,
                         result.cpu_ms_per_request, load))
        return rows
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()


def _cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of a process and all its descendants (uvicorn's workers), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    used: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        used[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    family, grew = {pid}, True
    while grew:
        more = {p for p, parent in parents.items() if parent in family} - family
        grew = bool(more)
        family |= more
    return sum(used.get(p, 0.0) for p in family)


def _wait_for(port: int, server: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("uvicorn exited; see var/bench/webhook_intake/uvicorn.log")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"uvicorn did not answer on port {port} within {seconds} s")


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
