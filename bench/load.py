"""Load: agents work the inbox (pages, search, replies) while messages arrive over the API; counts errors
and lost messages and checks that the worker keeps up.

    python bench/load.py --seconds 600 --agents 50 --rate 50          # the 10-minute run of docs/benchmarks.md
    python bench/load.py --seconds 60 --agents 10 --rate 10           # the short run (tests/test_load.py)
    python bench/load.py --database postgres://postgres@127.0.0.1:5432/rz_load --broker redis://127.0.0.1:6379/5

A fresh instance of its own under var/bench/load (never the user's): migrate, agents, a channel, a few hundred
conversations to work on; then uvicorn, a pipeline worker and locust (headless, against 127.0.0.1). Exits 1 on
any error or lost message. Times are measured here only, never asserted in tests.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from resonanz.core.webserver import uvicorn_command

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "pw-load-12345"
SETUP = """
from rest_framework.authtoken.models import Token
from resonanz.connectors.actions import create_channel
from resonanz.connectors.drivers.base import InboundMessage
from resonanz.inbox.actions import ingest_many, invite_agent, ensure_default_teams
import json, sys
ensure_default_teams()
names = []
for n in range({agents}):
    invite_agent(f"agent{{n}}@example.com", display_name=f"Agent {{n}}", role="agent", password="{password}")
    names.append(f"agent{{n}}@example.com")
admin = invite_agent("loadadmin@example.com", display_name="Load", role="admin", password="{password}")
channel = create_channel(kind="api", name="Load API")
ingest_many(channel, [InboundMessage(external_id=f"seed-{{n}}", sender_handle=f"seed{{n % 300}}@example.com",
                                     text=f"Frühere Frage {{n}} zur Lieferung und Rechnung") for n in range(600)])
print(json.dumps({{"token": Token.objects.create(user=admin).key, "channel": channel.pk, "agents": names}}))
"""
WORKER = """
import time
from resonanz.core.pipeline import run_until_empty
while True:
    if not run_until_empty():
        time.sleep(0.2)
"""
STATE = """
import json
from django.db.models import Count
from resonanz.inbox.models import Message
rows = dict(Message.objects.filter(direction="inbound").values_list("pipeline_state").annotate(n=Count("id"))
            .values_list("pipeline_state", "n"))
ids = list(Message.objects.filter(external_id__startswith="load-").values_list("external_id", flat=True))
print(json.dumps({"states": rows, "ids": ids}))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def shell(env: dict, code: str, timeout: float = 600) -> str:
    done = subprocess.run([sys.executable, "-m", "resonanz.cli", "shell", "-c", code], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)
    if done.returncode:
        raise RuntimeError(done.stderr[-3000:])
    return done.stdout.strip().splitlines()[-1]


def run(seconds: int, agents: int, rate: float, database: str | None, broker: str | None,
        workdir: Path, web_workers: int = 1, think: str = "1,3") -> dict:
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    env = {**os.environ, "RESONANZ_VAR_DIR": str(workdir), "DJANGO_SETTINGS_MODULE": "resonanz.settings",
           "DATABASE_URL": database or f"sqlite:///{workdir / 'resonanz.sqlite3'}",
           "CELERY_BROKER_URL": broker or f"sqla+sqlite:///{workdir / 'broker.sqlite3'}",
           "RESONANZ_EMBEDDER": "none", "RESONANZ_LOG_LEVEL": "WARNING", "ALLOWED_HOSTS": "127.0.0.1",
           "SECRET_KEY": "load-test", "PYTHONPATH": str(ROOT / "src")}
    subprocess.run([sys.executable, "-m", "resonanz.cli", "migrate", "--no-input", "-v", "0"], env=env, cwd=ROOT,
                   check=True, timeout=600)
    info = json.loads(shell(env, SETUP.format(agents=agents, password=PASSWORD)))
    port = free_port()
    processes = [
        subprocess.Popen(uvicorn_command("127.0.0.1", port, workers=web_workers), env=env, cwd=ROOT,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen([sys.executable, "-m", "resonanz.cli", "shell", "-c", WORKER], env=env, cwd=ROOT,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
    ]
    sent_file = workdir / "sent.txt"
    sent_file.touch()
    inbound_users = max(1, min(50, int(rate)))  # enough senders that one slow answer does not lower the rate
    try:
        _wait_for(port)
        _drain(env, limit=600)  # the seed conversations are read before the load starts
        load_env = {**env, "RZ_TOKEN": info["token"], "RZ_CHANNEL": str(info["channel"]),
                    "RZ_AGENTS": ",".join(info["agents"]), "RZ_PASSWORD": PASSWORD, "RZ_INBOUND_RATE": str(rate),
                    "RZ_SENT": str(sent_file), "RZ_INBOUND_USERS": str(inbound_users),
                    "RZ_AGENT_USERS": str(agents), "RZ_THINK": think}
        started = time.monotonic()
        subprocess.run([sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
                        "-u", str(agents + inbound_users), "-r", str(max(5, agents)), "-t", f"{seconds}s",
                        "--host", f"http://127.0.0.1:{port}", "--csv", str(workdir / "locust"), "--only-summary",
                        "--exit-code-on-error", "0", "--stop-timeout", "10"],
                       env=load_env, cwd=ROOT, timeout=seconds + 180, stdout=subprocess.DEVNULL,
                       stderr=(workdir / "locust.log").open("w"))
        load_seconds = time.monotonic() - started
        backlog_at_end = _backlog(env)
        drained_after = _drain(env, limit=180)
        state = json.loads(shell(env, STATE))
    finally:
        for p in processes:
            p.send_signal(signal.SIGTERM)
        for p in processes:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
    acknowledged = [line for line in sent_file.read_text().split("\n") if line]
    stored = set(state["ids"])
    stats = _stats(workdir / "locust_stats.csv")
    return {
        "seconds": round(load_seconds), "agents": agents, "web_workers": web_workers, "think": think, "rate": rate,
        "database": "postgresql" if database else "sqlite",
        "acknowledged": len(acknowledged), "lost": len(set(acknowledged) - stored),
        "duplicated": len(acknowledged) - len(set(acknowledged)),
        "errors": sum(s["failures"] for s in stats.values()),
        "backlog_at_end": backlog_at_end, "drained_after_s": drained_after,
        "unfinished": sum(n for k, n in state["states"].items() if k != "done"),
        "requests": stats,
    }


def _wait_for(port: int) -> None:
    import urllib.request

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=20)
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("the web server did not start")


def _backlog(env: dict) -> int:
    states = json.loads(shell(env, STATE))["states"]
    return sum(n for k, n in states.items() if k != "done")


def _drain(env: dict, limit: float) -> float | None:
    """Seconds until the worker has finished every message after the load stopped (None: not within limit)."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if _backlog(env) == 0:
            return round(time.monotonic() - started, 1)
        time.sleep(2)
    return None


def _stats(path: Path) -> dict:
    out = {}
    with path.open() as f:
        for row in csv.DictReader(f):
            if row["Name"] == "Aggregated":
                continue
            out[row["Name"]] = {"requests": int(row["Request Count"]), "failures": int(row["Failure Count"]),
                                "p50_ms": float(row["50%"] or 0), "p95_ms": float(row["95%"] or 0)}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=600)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--rate", type=float, default=50, help="inbound messages per second")
    parser.add_argument("--database", help="a PostgreSQL URL (default: SQLite, the embedded mode)")
    parser.add_argument("--broker", help="a Redis URL (default: the SQLite broker)")
    parser.add_argument("--web-workers", type=int, default=1,
                        help="uvicorn processes (each runs Django's synchronous views one at a time)")
    parser.add_argument("--think", default="1,3", metavar="MIN,MAX",
                        help="seconds an agent waits between two actions (reading, typing)")
    parser.add_argument("--dir", default=os.environ.get("RESONANZ_BENCH_DIR", str(ROOT / "var" / "bench")))
    args = parser.parse_args(argv)
    result = run(args.seconds, args.agents, args.rate, args.database, args.broker, Path(args.dir) / "load",
                 args.web_workers, args.think)
    print("command: python bench/load.py " + " ".join(argv if argv is not None else sys.argv[1:]))
    print(f"{result['database']}: {result['seconds']} s, {result['agents']} agents, {result['rate']}/s inbound; "
          f"acknowledged {result['acknowledged']}, lost {result['lost']}, duplicated {result['duplicated']}, "
          f"errors {result['errors']}, backlog at end {result['backlog_at_end']}, "
          f"drained after {result['drained_after_s']} s")
    print("| request | count | failures | p50 ms | p95 ms |\n|---|---|---|---|---|")
    for name, s in sorted(result["requests"].items()):
        print(f"| {name} | {s['requests']} | {s['failures']} | {s['p50_ms']:.0f} | {s['p95_ms']:.0f} |")
    print(json.dumps({k: v for k, v in result.items() if k != "requests"}))
    bad = result["errors"] or result["lost"] or result["duplicated"] or result["unfinished"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
