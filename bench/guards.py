"""What the request guards cost, as ratios to the unguarded call measured in the same run.

1. JSON: ``resonanz.core.jsonsafe.loads`` (depth check, then parse) against plain ``json.loads`` on
   the same 1 MB bodies (the request-size limit), for several shapes.
2. Outbound: ``resonanz.core.outbound.get`` (resolve, check, pinned connect, new session) against
   ``requests.get`` to the same local HTTP server (allow-listed), both with a fresh connection per call.

Prints medians of several runs and the ratios.

    python bench/guards.py [--runs 7 --requests 300]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resonanz.settings")
os.environ.setdefault("RESONANZ_VAR_DIR", os.path.join(os.environ.get("TMPDIR", "/tmp"), "rz-bench-guards"))


def nest(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


BODIES = {
    "webhook-like objects": json.dumps([{"id": i, "data": {"user": {"email": f"k{i}@example.com"}, "body": "Paket"
                                                           " fehlt, bitte melden."}} for i in range(9000)]),
    "long strings": json.dumps(["Wo bleibt mein Paket? " * 40] * 1100),
    "many small arrays": "[" + ",".join(["[[1,2],[3]]"] * 90_000) + "]",
    "63 levels, wide": "[" + ",".join([nest(62)] * 8000) + "]",
}


def timed(fn, runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def bench_json(runs: int) -> None:
    from resonanz.core import jsonsafe

    print(f"{'body':<22} {'size':>9} {'json.loads':>11} {'jsonsafe':>9} {'ratio':>6}")
    for name, text in BODIES.items():
        raw = text.encode()
        plain = timed(lambda raw=raw: json.loads(raw), runs)
        safe = timed(lambda raw=raw: jsonsafe.loads(raw), runs)
        print(f"{name:<22} {len(raw):>9} {plain * 1000:>9.1f}ms {safe * 1000:>7.1f}ms {safe / plain:>6.2f}")
    deep = b"[" * 1_000_000
    print(f"refusing 1 MB of '[': {timed(lambda: _refuse(deep), runs) * 1000:.1f} ms (median)")


def _refuse(body: bytes) -> None:
    from resonanz.core import jsonsafe

    try:
        jsonsafe.loads(body)
    except jsonsafe.UnsafeJSON:
        return
    raise AssertionError("a 1 MB nest was accepted")


def bench_outbound(runs: int, count: int) -> None:
    import requests
    from django.conf import settings

    from resonanz.core import outbound

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    settings.RESONANZ_OUTBOUND_ALLOW = [f"127.0.0.1:{server.server_address[1]}"]

    def plain():
        for _ in range(count):
            requests.get(url, timeout=5).raise_for_status()

    def guarded():
        for _ in range(count):
            outbound.get(url, timeout=5).raise_for_status()

    base, safe = timed(plain, runs), timed(guarded, runs)
    print(f"{count} GETs to a local server: requests.get {base * 1000 / count:.2f} ms/request, "
          f"outbound.get {safe * 1000 / count:.2f} ms/request, ratio {safe / base:.2f}")
    server.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    import django

    django.setup()
    print("command:", " ".join([os.path.basename(sys.executable), *sys.argv]))
    bench_json(args.runs)
    bench_outbound(args.runs, args.requests)


if __name__ == "__main__":
    main()
