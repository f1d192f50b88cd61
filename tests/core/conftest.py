"""Local HTTP servers for the outbound-guard tests: they count what reaches them."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

import pytest


class _IPv6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


class LocalServer:
    """Answers /ok with "ok" and /redirect?to=<url> with a 302 to that URL; records every path asked for."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.paths: list[str] = []
        paths = self.paths

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                paths.append(self.path)
                if self.path.startswith("/redirect?to="):
                    self.send_response(302)
                    self.send_header("Location", unquote(self.path.split("=", 1)[1]))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = b"ok" if self.path == "/ok" else b"x" * 5000
                self.send_response(200 if self.path in ("/ok", "/big") else 404)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        server_class = _IPv6Server if ":" in host else ThreadingHTTPServer
        self.server = server_class((host, 0), Handler)
        self.server.daemon_threads = True
        self.host = host
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str = "/ok", host: str | None = None) -> str:
        host = host or self.host
        return f"http://{'[' + host + ']' if ':' in host else host}:{self.port}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def server():
    s = LocalServer()
    yield s
    s.close()


@pytest.fixture
def other_server():
    s = LocalServer()
    yield s
    s.close()


@pytest.fixture
def server6():
    s = LocalServer("::1")
    yield s
    s.close()
