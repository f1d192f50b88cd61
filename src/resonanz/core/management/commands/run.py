"""Serve the agent UI and API, with the background worker, until Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from resonanz.core.processes import die_with_parent
from resonanz.core.webserver import uvicorn_command


class Command(BaseCommand):
    help = "Start the web server and the background worker (and its scheduler) together."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("RESONANZ_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("RESONANZ_PORT", 8000)))
        parser.add_argument("--no-worker", action="store_true", help="run the web server only")
        parser.add_argument("--demo", action="store_true", help="load the demo data first")
        parser.add_argument("--workers", type=int, default=int(os.environ.get("RESONANZ_WEB_WORKERS", 1)),
                            help="web server processes (one per core serves platforms' webhooks fastest; "
                                 "default 1 or RESONANZ_WEB_WORKERS)")
        parser.add_argument("--worker-processes", type=int,
                            default=int(os.environ.get("RESONANZ_WORKER_PROCESSES", 1)),
                            help="background worker processes: with a backlog each drains batches of its own "
                                 "(default 1 or RESONANZ_WORKER_PROCESSES; bench/pipeline.py shows the scaling)")

    def handle(self, *args, host, port, no_worker, demo, workers=1, worker_processes=1, **options):
        from django.core.management import call_command

        if demo:
            call_command("demo")
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "resonanz.settings")}
        env.setdefault("RESONANZ_BASE_URL", base_url(host, port))
        processes: list[subprocess.Popen] = []
        if not no_worker:
            # Its own process group (the worker and its beat child are stopped together) and a parent-death
            # signal: a SIGKILL of `resonanz run` takes the worker along, and the worker's death its scheduler.
            # Several worker processes (one per core) each take their own batches; only the first runs beat.
            for n in range(max(1, worker_processes)):
                beat = ["--beat", "--schedule", settings.CELERY_BEAT_SCHEDULE_FILENAME] if n == 0 else []
                processes.append(subprocess.Popen([
                    sys.executable, "-m", "celery", "-A", "resonanz.celery", "worker", *beat,
                    "--pool", "solo", "--loglevel", "INFO", "--hostname", f"worker{n + 1}@%h",
                ], env={**env, "RESONANZ_PROCESS": "worker" if n == 0 else f"worker{n + 1}"},  # a log file each
                    process_group=0, preexec_fn=die_with_parent))
                processes[-1].leads_group = True
        processes.append(subprocess.Popen(uvicorn_command(host, port, workers=workers),
                                          env={**env, "RESONANZ_PROCESS": "web"}, preexec_fn=die_with_parent))
        self.stdout.write(self.style.SUCCESS(f"Resonanz runs at http://{host}:{port}/ (Ctrl-C stops it)"))
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                for p in processes:
                    if p.poll() is not None:
                        self.stderr.write(f"{p.args[2]} stopped with exit code {p.returncode}; stopping Resonanz.")
                        stopping = True
                time.sleep(0.3)
        finally:
            for p in processes:
                _signal_group(p, signal.SIGTERM)
            deadline = time.time() + 15
            for p in processes:
                try:
                    p.wait(timeout=max(0.1, deadline - time.time()))
                except subprocess.TimeoutExpired:
                    _signal_group(p, signal.SIGKILL)
                    p.wait(5)
            for p in processes:  # what is left of a group (a scheduler whose worker already ended)
                _signal_group(p, signal.SIGKILL, leader_too=False)
            self.stdout.write("Resonanz stopped.")


def _signal_group(p: subprocess.Popen, sig: int, *, leader_too: bool = True) -> None:
    """Signal the worker's whole process group (its scheduler included), or another child itself."""
    try:
        if getattr(p, "leads_group", False):
            os.killpg(p.pid, sig)
        elif leader_too and p.poll() is None:
            p.send_signal(sig)
    except (ProcessLookupError, PermissionError):
        pass


def base_url(host: str, port: int) -> str:
    """Where customers' links point when RESONANZ_BASE_URL is not set: the address this server listens on
    (a wildcard host means this machine, so links use its loopback name rather than 0.0.0.0)."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"
