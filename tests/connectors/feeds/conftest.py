"""A local HTTP server that serves feeds the tests set up: bodies, status codes, redirects, slowness, ETags."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


def feed_file(name: str) -> bytes:
    return (DATA / name).read_bytes()


class Routes:
    def __init__(self) -> None:
        self.routes: dict[str, dict] = {}
        self.requests: list[tuple[str, dict]] = []

    def set(self, path: str, body: bytes = b"", status: int = 200, *, etag: str = "", last_modified: str = "",
            location: str = "", delay: float = 0.0, content_type: str = "application/rss+xml") -> None:
        self.routes[path] = dict(body=body, status=status, etag=etag, last_modified=last_modified,
                                 location=location, delay=delay, content_type=content_type)

    def hits(self, path: str) -> list[dict]:
        return [headers for p, headers in self.requests if p == path]


class FeedServer:
    def __init__(self) -> None:
        self.routes = Routes()
        routes = self.routes

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_GET(self):
                routes.requests.append((self.path, dict(self.headers)))
                route = routes.routes.get(self.path)
                if route is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                if route["delay"]:
                    time.sleep(route["delay"])
                if route["etag"] and self.headers.get("If-None-Match") == route["etag"]:
                    self.send_response(304)
                    self.end_headers()
                    return
                if route["last_modified"] and self.headers.get("If-Modified-Since") == route["last_modified"]:
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(route["status"])
                if route["location"]:
                    self.send_header("Location", route["location"])
                if route["etag"]:
                    self.send_header("ETag", route["etag"])
                if route["last_modified"]:
                    self.send_header("Last-Modified", route["last_modified"])
                self.send_header("Content-Type", route["content_type"])
                self.send_header("Content-Length", str(len(route["body"])))
                self.end_headers()
                try:
                    self.wfile.write(route["body"])
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def feed_server():
    server = FeedServer()
    yield server
    server.close()
