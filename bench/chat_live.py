"""Live chat under load: many widget visitors hold a live stream (SSE) open and each sends a line every few
seconds, while another process writes agents' replies into the database, on the embedded default (one uvicorn
process, SQLite).

    python bench/chat_live.py --visitors 500 --interval 5 --seconds 60          # the run of docs/benchmarks.md
    python bench/chat_live.py --visitors 50 --interval 5 --seconds 20           # a quick look

Measured on the visitor's side (one asyncio client process, raw HTTP/1.0 so nothing but the socket sits between):
  * visitor → stream: from sending a line (POST messages/) to seeing it, stored, on the visitor's own stream
    (the path an agent's page and the widget share: stored, found by the event-log watcher, pushed);
  * agent → visitor: a reply written by ANOTHER process (``send_reply`` + delivery, as the desk or the worker
    does), stamped with its time, until it arrives on the visitor's open stream;
  * lost (acknowledged or written, never arrived) and duplicated (arrived twice);
  * memory per held connection: the server's RSS with all streams open minus before, divided by the streams;
  * baseline in the same run: round trips of a bare ASGI echo endpoint (its own uvicorn process) at the same
    moments, so a busy machine shows in both numbers.

A fresh instance of its own under var/bench/chat_live (never the user's). Prints a JSON summary.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

from resonanz.core.webserver import uvicorn_command

ROOT = Path(__file__).resolve().parent.parent
ORIGIN = "http://bench.example"
SETUP = """
from resonanz.connectors.actions import create_channel
from resonanz.inbox.actions import invite_agent
invite_agent("bench-agent@example.com", display_name="Bench Agent", role="agent", password="pw-bench-12345")
print(create_channel(kind="chat", name="Bench chat", settings={"allowed_origins": ["ORIGIN"]}).slug)
""".replace("ORIGIN", ORIGIN)
AGENT = """
import json, random, sys, time
from django.contrib.auth import get_user_model
from resonanz.inbox.actions import send_reply
from resonanz.inbox.delivery import deliver_message
from resonanz.inbox.models import Conversation
user = get_user_model().objects.get(username="bench-agent@example.com")
rate, until, out = float(sys.argv[1]), time.time() + float(sys.argv[2]), open(sys.argv[3], "a")
n = 0
while time.time() < until:
    ids = list(Conversation.objects.filter(channel__kind="chat").values_list("pk", flat=True))
    if ids:
        n += 1
        marker = f"bench-reply-{n}@{time.time():.6f}"
        message = send_reply(Conversation.objects.get(pk=random.choice(ids)), user, marker)
        deliver_message(message.pk)
        out.write(marker + "\\n"); out.flush()
    time.sleep(1 / rate)
"""
ECHO = """
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (the server's own, not the database's or the clients')."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


async def request(port: int, method: str, path: str, body: bytes = b"", headers: dict | None = None):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = [f"{method} {path} HTTP/1.0", "Host: 127.0.0.1", f"Origin: {ORIGIN}", f"Content-Length: {len(body)}"]
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
    await writer.drain()
    raw = await reader.read()
    writer.close()
    status_line, _, rest = raw.partition(b"\r\n")
    _, _, payload = rest.partition(b"\r\n\r\n")
    return int(status_line.split()[1]), payload


class Visitor:
    def __init__(self, n: int, port: int, slug: str, stats: dict) -> None:
        self.n, self.port, self.slug, self.stats = n, port, slug, stats
        self.token, self.sent, self.seen_ids, self.connected = "", {}, set(), asyncio.Event()

    async def start(self) -> None:
        status, body = await request(self.port, "POST", f"/chat/{self.slug}/session/", b"{}",
                                     {"Content-Type": "application/json"})
        assert status == 200, body
        self.token = json.loads(body)["token"]
        await self.say("hello")  # a conversation to stream (and for the agents to answer)

    async def say(self, text: str) -> None:
        cid = f"v{self.n}-{len(self.sent)}"
        self.sent[cid] = time.monotonic()
        body = json.dumps({"client_id": cid, "text": f"{text} {cid}"}).encode()
        status, payload = await request(self.port, "POST", f"/chat/{self.slug}/messages/", body,
                                        {"Content-Type": "application/json", "X-Resonanz-Chat": self.token})
        if status == 201:
            self.stats["acked"].add(cid)
            self.stats["post_ms"].append((time.monotonic() - self.sent[cid]) * 1000)
        else:
            self.stats["errors"].append(f"{status} {payload[:100]!r}")

    async def listen(self, stop: asyncio.Event) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port, limit=2 ** 22)
        path = f"/chat/{self.slug}/stream/?token={self.token}"
        writer.write(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nOrigin: {ORIGIN}\r\n\r\n".encode())
        await writer.drain()
        kind = ""
        try:
            while not stop.is_set():
                line = await reader.readline()
                if not line:
                    self.stats["errors"].append(f"stream {self.n} ended")
                    return
                line = line.decode().rstrip("\r\n")
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: ") and kind == "update":
                    self.connected.set()
                    self.receive(json.loads(line[6:]))
        finally:
            writer.close()

    def receive(self, data: dict) -> None:
        now, wall = time.monotonic(), time.time()
        for m in data.get("messages", []):
            if m["id"] in self.seen_ids:
                self.stats["duplicates"] += 1
                continue
            self.seen_ids.add(m["id"])
            cid = m.get("client_id")
            if m["from"] == "visitor" and cid in self.sent:
                self.stats["arrived"].add(cid)
                if self.connected.is_set() and not cid.endswith("-0"):
                    self.stats["visitor_ms"].append((now - self.sent[cid]) * 1000)
            elif m["from"] == "agent" and m["text"].startswith("bench-reply-"):
                self.stats["replies"].add(m["text"])
                self.stats["agent_ms"].append((wall - float(m["text"].rsplit("@", 1)[1])) * 1000)


async def echo_loop(port: int, stop: asyncio.Event, out: list[float]) -> None:
    while not stop.is_set():
        started = time.monotonic()
        status, _ = await request(port, "GET", "/")
        if status == 200:
            out.append((time.monotonic() - started) * 1000)
        await asyncio.sleep(0.1)


async def load(port: int, echo_port: int, slug: str, visitors: int, interval: float, seconds: float,
               server_pid: int, env: dict, workdir: Path) -> dict:
    stats = {"acked": set(), "arrived": set(), "replies": set(), "visitor_ms": [], "agent_ms": [], "errors": [],
             "duplicates": 0, "echo_ms": [], "post_ms": []}
    crowd = [Visitor(n, port, slug, stats) for n in range(visitors)]
    for chunk in range(0, visitors, 50):  # sessions in batches, as visitors arrive over a minute, not at once
        await asyncio.gather(*(v.start() for v in crowd[chunk:chunk + 50]))
    rss_before = rss_kb(server_pid)
    stop = asyncio.Event()
    listeners = [asyncio.create_task(v.listen(stop)) for v in crowd]
    await asyncio.wait_for(asyncio.gather(*(v.connected.wait() for v in crowd)), 120)
    await asyncio.sleep(2)
    rss_open = rss_kb(server_pid)
    replies_file = workdir / "replies.txt"
    agent = subprocess.Popen([sys.executable, "-m", "resonanz.cli", "shell", "-c",
                              f"import sys; sys.argv = ['x', '5', '{seconds}', '{replies_file}']\n" + AGENT],
                             env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=(workdir / "agent.log").open("w"))
    echo = asyncio.create_task(echo_loop(echo_port, stop, stats["echo_ms"]))
    started, cpu_before, load_before = time.monotonic(), cpu_s(server_pid), os.getloadavg()[0]

    async def chatter(v: Visitor) -> None:
        await asyncio.sleep(random.uniform(0, interval))
        while time.monotonic() - started < seconds:
            await v.say("line")
            await asyncio.sleep(interval)

    await asyncio.gather(*(chatter(v) for v in crowd))
    await asyncio.to_thread(agent.wait, 60)  # never block the loop that reads the streams
    await asyncio.sleep(3)  # the last lines and replies in flight
    cpu_used, load_after = cpu_s(server_pid) - cpu_before, os.getloadavg()[0]
    stop.set()
    echo.cancel()
    for task in listeners:
        task.cancel()
    written = {line for line in replies_file.read_text().splitlines() if line} if replies_file.exists() else set()
    return {
        "visitors": visitors, "interval_s": interval, "seconds": seconds,
        "lines_acknowledged": len(stats["acked"]), "lines_lost": len(stats["acked"] - stats["arrived"]),
        "replies_written": len(written), "replies_lost": len(written - stats["replies"]),
        "duplicated": stats["duplicates"], "errors": len(stats["errors"]), "first_errors": stats["errors"][:5],
        "visitor_to_stream_ms": {"p50": round(pct(stats["visitor_ms"], 50), 1),
                                 "p95": round(pct(stats["visitor_ms"], 95), 1), "n": len(stats["visitor_ms"])},
        "agent_to_visitor_ms": {"p50": round(pct(stats["agent_ms"], 50), 1),
                                "p95": round(pct(stats["agent_ms"], 95), 1), "n": len(stats["agent_ms"])},
        "post_line_ms": {"p50": round(pct(stats["post_ms"], 50), 1), "p95": round(pct(stats["post_ms"], 95), 1)},
        "echo_baseline_ms": {"p50": round(pct(stats["echo_ms"], 50), 1), "p95": round(pct(stats["echo_ms"], 95), 1),
                             "n": len(stats["echo_ms"])},
        "server_cpu_s": round(cpu_used, 1),
        "server_cpu_ms_per_line": round(1000 * cpu_used / max(1, len(stats["post_ms"]) + len(written)), 2),
        "load_average": [round(load_before, 1), round(load_after, 1)],
        "server_rss_mb": {"before_streams": round(rss_before / 1024, 1), "streams_open": round(rss_open / 1024, 1)},
        "kb_per_connection": round((rss_open - rss_before) / visitors, 1),
    }


def run(visitors: int, interval: float, seconds: float, workdir: Path) -> dict:
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    limits = "chat_ip=10000000/60,chat_visitor=100000/60,chat_reads=10000000/60"
    env = {**os.environ, "RESONANZ_VAR_DIR": str(workdir), "DJANGO_SETTINGS_MODULE": "resonanz.settings",
           "DATABASE_URL": f"sqlite:///{workdir / 'resonanz.sqlite3'}", "CELERY_BROKER_URL": "memory://",
           "RESONANZ_EMBEDDER": "none", "RESONANZ_LOG_LEVEL": "WARNING", "ALLOWED_HOSTS": "127.0.0.1",
           "SECRET_KEY": "chat-bench", "PYTHONPATH": str(ROOT / "src"), "RESONANZ_RATE_LIMITS": limits,
           # scripted visitors write at once and no worker drains the pipeline here: the bot check and the
           # back-pressure (both tested elsewhere) would refuse them
           "RESONANZ_CHAT_MIN_SECONDS": "0", "RESONANZ_BACKLOG_LIMIT": "0"}
    subprocess.run([sys.executable, "-m", "resonanz.cli", "migrate", "--no-input", "-v", "0"], env=env, cwd=ROOT,
                   check=True, timeout=900)
    done = subprocess.run([sys.executable, "-m", "resonanz.cli", "shell", "-c", SETUP], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=True)
    slug = done.stdout.strip().splitlines()[-1]
    (workdir / "echo.py").write_text(ECHO)
    port, echo_port = free_port(), free_port()
    server = subprocess.Popen(uvicorn_command("127.0.0.1", port, extra=("--backlog", "2048")),
                              env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=(workdir / "server.log").open("w"))
    echo = subprocess.Popen(uvicorn_command("127.0.0.1", echo_port, app="echo:app", extra=("--app-dir", str(workdir))),
                            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                status, _ = asyncio.run(request(port, "GET", f"/chat/{slug}/config/"))
                status2, _ = asyncio.run(request(echo_port, "GET", "/"))
                if status == 200 and status2 == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the servers did not start")
            time.sleep(0.3)
        return asyncio.run(load(port, echo_port, slug, visitors, interval, seconds, server.pid, env, workdir))
    finally:
        for p in (server, echo):
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--visitors", type=int, default=500)
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between a visitor's lines")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=ROOT / "var" / "bench" / "chat_live")
    args = parser.parse_args()
    results = [run(args.visitors, args.interval, args.seconds, args.workdir) for _ in range(args.runs)]
    print("command:", " ".join([Path(sys.executable).name] + sys.argv))
    for r in results:
        print(json.dumps(r))
    if len(results) > 1:
        keys = ("visitor_to_stream_ms", "agent_to_visitor_ms", "echo_baseline_ms")
        print(json.dumps({k: {p: statistics.median(r[k][p] for r in results) for p in ("p50", "p95")}
                          for k in keys} | {"kb_per_connection": statistics.median(
                              r["kb_per_connection"] for r in results)}))


if __name__ == "__main__":
    main()
