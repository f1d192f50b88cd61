"""Ingestion through the API endpoint: C concurrent clients POST single messages to /api/channels/<id>/inbound/.

A fresh instance of its own (migrate, an admin with a token, an API channel), then uvicorn; each client keeps one
HTTP connection open and sends its next message as soon as the previous one was answered (201). Alternates server
set-ups in every run (``--modes``: group commit ``RESONANZ_INGEST_GROUP_COMMIT``, pooled request threads
``RESONANZ_REUSE_REQUEST_THREADS`` and the lean routes ``RESONANZ_LEAN_ROUTES`` off or on), so all are measured under the same load, and measures the raw insert rate of the same rows in the same run (``bench/ingest.py``'s baseline).
Reports messages per second (wall), the server's CPU time per message (all its processes; on a busy shared machine
the steadier figure), the load generator's own CPU per message (bench/_loadgen.py), latency, and checks that every answered message is stored exactly once.

    python bench/ingest_api.py [--messages 3000 --clients 8 --runs 3 --web-workers 1 --database-url URL]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _loadgen as loadgen  # noqa: E402
from _setup import command_line, django_for, median, percentile  # noqa: E402
from ingest import WORDS, run_raw, synthetic  # noqa: E402
from resonanz.core.webserver import uvicorn_command  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def setup() -> tuple[str, int]:
    from resonanz.connectors.actions import create_channel
    from resonanz.core.tokens import create_token
    from resonanz.inbox.actions import invite_agent

    admin = invite_agent("bench@example.com", display_name="Bench", role="admin", password="pw-bench-12345")
    channel = create_channel(kind="api", name="Bench API")
    return create_token(admin, name="bench")[1], channel.pk


MODES = {  # name: (group commit, pooled request threads, lean routes)
    "before": (False, False, False),
    "group": (True, False, False),
    "group+threads": (True, True, False),
    "threads": (False, True, False),
    "lean": (True, True, True),  # core/leanroute.py: the success path without Django's handler and DRF
}


def start_server(mode: str, workers: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    group_commit, threads, lean = MODES[mode]
    env = {**os.environ, "RESONANZ_INGEST_GROUP_COMMIT": "1" if group_commit else "0",
           "RESONANZ_REUSE_REQUEST_THREADS": "1" if threads else "0", "RESONANZ_LEAN_ROUTES": "1" if lean else "0",
           "ALLOWED_HOSTS": "127.0.0.1",
           "SECRET_KEY": "bench-ingest-api", "RESONANZ_EMBEDDER": "none",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))}
    server = subprocess.Popen(uvicorn_command("127.0.0.1", port, workers=workers),
                              env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                time.sleep(1 if workers > 1 else 0)  # every worker process up
                return server, port
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise RuntimeError("the web server did not start")


def stop_server(server: subprocess.Popen) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(20)
    except subprocess.TimeoutExpired:
        server.kill()


def server_cpu(server: subprocess.Popen) -> float:
    """CPU seconds (user + system) of the server and its worker processes so far."""
    root = psutil.Process(server.pid)
    total = 0.0
    for p in [root, *root.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def post_all(port: int, token: str, channel: int, rows: list, clients: int) -> tuple[float, list[float], list, float]:
    """Every row POSTed once by ``clients`` keep-alive connections (bench/_loadgen.py, requests built before the
    clock starts); returns wall seconds, latencies, failures and the load generator's CPU seconds."""
    path = f"/api/channels/{channel}/inbound/"
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    requests = [loadgen.request("POST", path, json.dumps(
        {"external_id": external_id, "sender": {"handle": handle}, "text": text}).encode(), headers)
        for external_id, handle, text in rows]
    result = loadgen.run(port, requests, clients)
    failures = [(row[0], status) for row, (status, _body) in zip(rows, result.answers, strict=True) if status != 201]
    return result.seconds, result.times_ms, failures, result.cpu_seconds


def stored_once(prefix: str) -> tuple[int, int]:
    """(distinct external ids stored with this prefix, rows beyond one per id)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*), COUNT(DISTINCT external_id) FROM inbox_message WHERE external_id LIKE %s",
                       [prefix + "%"])
        rows, distinct = cursor.fetchone()
    return distinct, rows - distinct


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=3000, help="per server and run")
    parser.add_argument("--contacts", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--web-workers", type=int, default=1)
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL; SQLite under var/bench when absent")
    parser.add_argument("--modes", default="group+threads,lean",
                        help=f"server set-ups to alternate in every run, of: {', '.join(MODES)}")
    args = parser.parse_args()
    django_for(args.database_url, "ingest_api")
    from django.db import connection

    token, channel = setup()
    connection.close()
    modes = [m.strip() for m in args.modes.split(",")]
    results: dict[str, dict[str, list[float]]] = {
        m: {"rate": [], "cpu_ms": [], "p50": [], "p95": [], "client_ms": [], "load": []} for m in modes}
    raw: list[float] = []
    for run in range(args.runs):
        for mode in modes:
            prefix = f"api-{mode}-{run}-"
            rows = synthetic(args.messages, args.contacts, seed=run, prefix=prefix)
            server, port = start_server(mode, args.web_workers)
            try:
                cpu_before, load = server_cpu(server), os.getloadavg()[0]
                seconds, latencies, failures, client_cpu = post_all(port, token, channel, rows, args.clients)
                cpu = server_cpu(server) - cpu_before
            finally:
                stop_server(server)
            distinct, duplicated = stored_once(prefix)
            ok = len(rows) - len(failures)
            lost = ok - distinct if distinct < ok else 0
            r = results[mode]
            r["rate"].append(ok / seconds)
            r["cpu_ms"].append(1000 * cpu / max(ok, 1))
            r["p50"].append(percentile(latencies, 50))
            r["p95"].append(percentile(latencies, 95))
            r["client_ms"].append(1000 * client_cpu / len(rows))
            r["load"].append(load)
            print(f"run {run + 1}, {mode}: {r['rate'][-1]:,.0f} msg/s, "
                  f"server CPU {r['cpu_ms'][-1]:.2f} ms/msg, load generator CPU {r['client_ms'][-1]:.3f} ms/msg, p50 {r['p50'][-1]:.1f} ms, p95 {r['p95'][-1]:.1f} ms, "
                  f"failed {len(failures)} {failures[:3]}, stored {distinct}, lost {lost}, duplicated {duplicated}, "
                  f"load {load:.1f}", flush=True)
        raw.append(run_raw(synthetic(args.messages, args.contacts, seed=run, prefix=f"raw{run}-")))
        print(f"run {run + 1}: raw executemany {raw[-1]:,.0f} rows/s", flush=True)
    m_raw = median(raw)
    print(f"\n{command_line()}")
    print(f"database: {connection.vendor}; {args.messages:,} messages per server and run from {args.contacts:,} "
          f"contacts, {args.clients} clients, {args.web_workers} uvicorn process(es), median of {args.runs} runs")
    print("| server | messages/s | ratio to raw | server CPU ms/message | load generator CPU ms/message | p50 ms "
          "| p95 ms | load average |\n|---|---|---|---|---|---|---|---|")
    for mode, r in results.items():
        rate = median(r["rate"])
        print(f"| {mode} | {rate:,.0f} | {rate / m_raw:.4f} | {median(r['cpu_ms']):.2f} | {median(r['client_ms']):.3f} | "
              f"{median(r['p50']):.1f} | {median(r['p95']):.1f} | {median(r['load']):.1f} |")
    print(f"| raw executemany of the same rows | {m_raw:,.0f} | 1 | | | | | |")


if __name__ == "__main__":
    assert WORDS  # the same synthetic messages as bench/ingest.py
    main()
