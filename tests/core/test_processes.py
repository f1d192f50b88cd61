"""Process safety with real processes: `resonanz run` killed with SIGKILL leaves no worker, web server or
scheduler behind, and a second scheduler on the same schedule file refuses to tick.

The scheduler writes its pid into the schedule's lock file; the test reads the process tree from /proc.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signals are Linux's")


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return "\nState:\tZ" not in state  # a zombie is dead, only not yet reaped


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def env(tmp_path):
    var = tmp_path / "var"
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "resonanz.settings", "RESONANZ_VAR_DIR": str(var),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "CELERY_BROKER_URL": "memory://",
            "RESONANZ_EMBEDDER": "none", "SECRET_KEY": "process-tests", "PYTHONPATH": os.pathsep.join(sys.path)}


def beat_pid(lock: Path) -> int:
    text = lock.read_text().strip() if lock.exists() else ""
    return int(text) if text.isdigit() and alive(int(text)) else 0


def test_sigkill_of_resonanz_run_takes_worker_scheduler_and_web_server_along(env, tmp_path):
    port = free_port()
    run = subprocess.Popen([sys.executable, "-m", "resonanz.cli", "run", "--port", str(port)], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path)
    lock = Path(env["RESONANZ_VAR_DIR"]) / "celerybeat-schedule.lock"
    try:
        beat = wait_for(lambda: beat_pid(lock), 90, "the scheduler to start")
        worker = parent_of(beat)
        assert worker != run.pid and parent_of(worker) == run.pid
        wait_for(lambda: _answers(port), 60, "the web server to answer")
        web = [pid for pid in _children(run.pid) if pid != worker]
        assert len(web) == 1

        second = subprocess.run([sys.executable, "-m", "celery", "-A", "resonanz.celery", "beat",
                                 "--schedule", str(lock)[:-len(".lock")]], env=env, capture_output=True,
                                text=True, timeout=90, cwd=tmp_path)
        assert second.returncode == 3
        assert "another scheduler" in second.stderr + second.stdout
        assert alive(beat)  # the first one ticks on

        os.kill(run.pid, signal.SIGKILL)
        run.wait(10)
        for pid, name in ((worker, "worker"), (web[0], "web server"), (beat, "scheduler")):
            wait_for(lambda pid=pid: not alive(pid), 30, f"the {name} to end")
    finally:
        if run.poll() is None:
            run.kill()


def test_a_worker_killed_with_sigkill_takes_its_scheduler_along(env, tmp_path):
    schedule = tmp_path / "schedule"
    worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "resonanz.celery", "worker", "--beat",
                               "--pool", "solo", "--schedule", str(schedule)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path)
    try:
        beat = wait_for(lambda: beat_pid(Path(f"{schedule}.lock")), 90, "the scheduler to start")
        assert parent_of(beat) == worker.pid
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        wait_for(lambda: not alive(beat), 30, "the scheduler to end with its worker")
    finally:
        if worker.poll() is None:
            worker.kill()


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if parent_of(int(entry.name)) == pid and alive(int(entry.name)):
                    found.append(int(entry.name))
            except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
                continue
    return found


def _answers(port: int) -> bool:
    try:
        requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
        return True
    except requests.RequestException:
        return False


# `resonanz run` keeps an idle HTTP connection open longer than an agent pauses between clicks: with uvicorn's
# default (5 s) a client reusing its connection just as the server closed it got "connection reset by peer"
# under load (bench/load.py, agents acting every 5–15 s).
REQUEST = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n"


def _response(sock: socket.socket) -> bytes:
    """One whole response (headers and Content-Length body), or what came before the server closed."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head


def test_an_idle_connection_is_still_open_after_seven_seconds(env, tmp_path):
    port = free_port()
    run = subprocess.Popen([sys.executable, "-m", "resonanz.cli", "run", "--no-worker", "--port", str(port)],
                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path)
    try:
        wait_for(lambda: _answers(port), 90, "the web server to answer")
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(REQUEST)
            assert _response(sock).startswith(b"HTTP/1.1 ")
            time.sleep(7)
            sock.sendall(REQUEST)
            second = _response(sock)
        assert second.startswith(b"HTTP/1.1 "), f"the server closed the idle connection: {second!r}"
    finally:
        run.terminate()
        run.wait(20)


def test_several_worker_processes_one_scheduler_and_a_sigkill_takes_them_all_along(env, tmp_path):
    """`resonanz run --worker-processes 2`: two workers (a backlog is drained on both cores), one of them with the
    scheduler, and none left behind when `resonanz run` is killed."""
    port = free_port()
    run = subprocess.Popen([sys.executable, "-m", "resonanz.cli", "run", "--port", str(port), "--worker-processes",
                            "2"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path)
    lock = Path(env["RESONANZ_VAR_DIR"]) / "celerybeat-schedule.lock"

    def workers() -> list[int]:
        found = [pid for pid in _children(run.pid) if b"celery" in Path(f"/proc/{pid}/cmdline").read_bytes()]
        return found if len(found) == 2 else []

    try:
        beat = wait_for(lambda: beat_pid(lock), 90, "the scheduler to start")
        both = wait_for(workers, 60, "two worker processes")
        assert parent_of(beat) in both
        assert [pid for pid in _children(run.pid) if pid not in both]  # and the web server
        os.kill(run.pid, signal.SIGKILL)
        run.wait(10)
        for pid in [*both, beat]:
            wait_for(lambda pid=pid: not alive(pid), 30, f"process {pid} to end")
    finally:
        if run.poll() is None:
            run.kill()
