"""A reverse proxy on 127.0.0.1 that breaks chosen requests on their way to a real server.

Tests put it between a client and the real PDS to see what the client does when the network fails at the
worst moment: the request reached the server (so the post exists) but the answer never came back.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}


@dataclass
class Fault:
    path: str  # a request whose path contains this
    action: str  # "drop-after-forward", "status", "slow", "truncate"
    times: int = 1
    status: int = 503
    seconds: float = 0.0


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.faults: list[Fault] = []
        self.seen: list[tuple[str, str]] = []  # (method, path) of every request that reached the upstream
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _fault(self) -> Fault | None:
                for fault in proxy.faults:
                    if fault.path in self.path and fault.times > 0:
                        fault.times -= 1
                        return fault
                return None

            def _forward(self, body: bytes | None) -> requests.Response:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                proxy.seen.append((self.command, self.path))
                return requests.request(self.command, proxy.upstream + self.path, data=body, headers=headers,
                                        timeout=30, allow_redirects=False)

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None  # always, so keep-alive stays in step
                fault = self._fault()
                if fault and fault.action == "status":
                    self.send_response(fault.status)
                    self.send_header("Content-Type", "application/json")
                    error = b'{"error":"InternalServerError","message":"injected"}'
                    self.send_header("Content-Length", str(len(error)))
                    self.end_headers()
                    self.wfile.write(error)
                    return
                if fault and fault.action == "slow":
                    time.sleep(fault.seconds)
                upstream = self._forward(body)
                if fault and fault.action == "drop-after-forward":
                    self.close_connection = True  # the server did the work; the client never hears of it
                    return
                answer = upstream.content
                self.send_response(upstream.status_code)
                for key, value in upstream.headers.items():
                    if key.lower() not in HOP_BY_HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer[: len(answer) // 2] if fault and fault.action == "truncate" else answer)
                if fault and fault.action == "truncate":
                    self.close_connection = True

            do_GET = do_POST = do_DELETE = do_PUT = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def add(self, path: str, action: str, **kwargs) -> Fault:
        fault = Fault(path, action, **kwargs)
        self.faults.append(fault)
        return fault

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
