from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from resonanz.inbox.actions import ingest
from tests.conftest import inbound


@pytest.fixture
def defaults(teams):
    from resonanz.automation.defaults import ensure_defaults

    ensure_defaults()
    return teams


@pytest.fixture
def run_pipeline(django_capture_on_commit_callbacks):
    """Ingest and run the whole pipeline (analysis, rules, bot) inline."""

    def run(channel, external_id, text, handle="kunde@example.com", **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return ingest(channel, inbound(external_id, handle, text=text, **kwargs))

    return run


@pytest.fixture
def supervisor(teams):
    from resonanz.inbox.actions import invite_agent

    return invite_agent("sina@example.com", display_name="Sina Supervisor", role="supervisor",
                        teams=[teams["Support"]], password="pw-super-123")


@pytest.fixture
def hook_server():
    """A webhook receiver on 127.0.0.1: records (headers, body); answers 500 to bodies with "fail-me"."""
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((dict(self.headers), body))
            self.send_response(500 if b"fail-me" in body else 204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()
