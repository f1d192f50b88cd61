"""First start: `resonanz setup` on an empty var/ folder (fresh clone), then optionally `resonanz run` to a login.

Usage: .venv/bin/python bench/first_start.py [--runs 1] [--src src] [--login] [--port 8765]

Each run gets a new var/ folder (database, model store, embedding cache: all
empty, as after `git clone`), so the seed model is built from nothing but the
package. Prints wall time and the CPU time of the child processes (user +
system; meaningful on a shared machine where wall time is not), and the load
average before the run. ``--src`` runs another source tree (for example an
export of an older commit: `git archive <commit> src | tar -x -C /tmp/old`) to
compare before/after in the same session. ``--login`` then starts `resonanz
run` (web + worker) and measures until the login page answers and the
administrator's password is accepted: the issue's "make run to a working
login" (the package install of `make run` is not included).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PASSWORD = "bench-first-start-1"


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _login(port: int, deadline: float) -> float:
    """Seconds until the login page answers and the administrator gets in."""
    import requests

    t = time.perf_counter()
    url = f"http://127.0.0.1:{port}/accounts/login/"
    while time.perf_counter() < deadline:
        try:
            s = requests.Session()
            page = s.get(url, timeout=5)
            if page.status_code == 200:
                token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
                r = s.post(url, data={"csrfmiddlewaretoken": token, "username": "admin@example.com",
                                      "password": PASSWORD}, headers={"Referer": url}, timeout=10,
                           allow_redirects=False)
                if r.status_code == 302 and "login" not in r.headers.get("Location", ""):
                    return time.perf_counter() - t
                raise RuntimeError(f"login refused: {r.status_code} {r.headers.get('Location')}")
        except requests.ConnectionError:
            pass
        time.sleep(0.25)
    raise TimeoutError("no login page within the time limit")


def run_once(src: Path, login: bool, port: int, keep: bool = False) -> dict:
    var = Path(tempfile.mkdtemp(prefix="first-start-"))
    env = {**os.environ, "PYTHONPATH": str(src), "RESONANZ_VAR_DIR": str(var),
           "DATABASE_URL": f"sqlite:///{var / 'resonanz.sqlite3'}",
           "CELERY_BROKER_URL": f"sqla+sqlite:///{var / 'broker.sqlite3'}",
           "RESONANZ_ADMIN_PASSWORD": PASSWORD, "DJANGO_SETTINGS_MODULE": "resonanz.settings"}
    for key in ("RESONANZ_MODEL_DIR", "RESONANZ_LOG_DIR"):
        env.pop(key, None)
    load = os.getloadavg()[0]
    c0, t0 = _children_cpu(), time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "resonanz.cli", "setup"], env=env, capture_output=True, text=True)
    setup_s, setup_cpu = time.perf_counter() - t0, _children_cpu() - c0
    if out.returncode:
        raise SystemExit(f"setup failed:\n{out.stdout}\n{out.stderr[-3000:]}")
    result = {"load_before": round(load, 2), "setup_s": round(setup_s, 1), "setup_cpu_s": round(setup_cpu, 1),
              "output": [line for line in out.stdout.splitlines() if "password" not in line.lower()]}
    if login:
        t1 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "resonanz.cli", "run", "--port", str(port)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, process_group=0)
        try:
            _login(port, time.perf_counter() + 300)
            result["run_to_login_s"] = round(time.perf_counter() - t1, 1)
            result["total_to_login_s"] = round(setup_s + result["run_to_login_s"], 1)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)  # our own process group: `resonanz run`, web and worker
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
    if keep:
        result["var"] = str(var)
    else:
        shutil.rmtree(var, ignore_errors=True)
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--src", default=str(Path(__file__).resolve().parent.parent / "src"))
    ap.add_argument("--login", action="store_true")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--keep", action="store_true", help="keep each run's var/ folder (its embedding cache)")
    args = ap.parse_args(argv)
    print("command:", " ".join([os.path.basename(sys.executable), *sys.argv]))
    print(f"source: {args.src}; cores: {os.cpu_count()}")
    runs = []
    for i in range(args.runs):
        r = run_once(Path(args.src).resolve(), args.login, args.port, args.keep)
        runs.append(r)
        for line in r.pop("output"):
            print("   |", line)
        print(f"run {i + 1}: {r}")
    for key in ("setup_s", "setup_cpu_s", "total_to_login_s"):
        values = [r[key] for r in runs if key in r]
        if values:
            print(f"median {key}: {statistics.median(values):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
