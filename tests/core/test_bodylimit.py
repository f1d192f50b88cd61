"""The request-size limit holds for chunked bodies: against a real uvicorn serving resonanz.asgi, and
through the WSGI application with a body stream like a WSGI server hands over."""

from __future__ import annotations

import http.client
import io
import json
import os
import select
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import quote
from wsgiref.util import setup_testing_defaults

import pytest
from django.conf import settings
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connections

from resonanz.connectors.actions import create_channel
from resonanz.connectors.drivers.webhook import sign
from resonanz.core.webserver import uvicorn_command
from resonanz.inbox.models import Message

SECRET = "chunky-s3cr3t"
LIMIT = 1024 * 1024  # RESONANZ_MAX_REQUEST_BYTES in both servers
SRC = Path(__file__).resolve().parents[2] / "src"


def database_url() -> str:
    config = connections["default"].settings_dict
    if config["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{config['NAME']}"
    return (f"postgres://{quote(config['USER'] or '')}:{quote(config['PASSWORD'] or '')}@"
            f"{config['HOST'] or '127.0.0.1'}:{config['PORT'] or 5432}/{config['NAME']}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def uvicorn_server(django_db_setup, django_db_blocker):
    """`resonanz run`'s web server command on the test database, in its own process."""
    port = free_port()
    logs = tempfile.mkdtemp(prefix="resonanz-uvicorn-logs-")
    output = open(os.path.join(logs, "uvicorn.out"), "wb")  # a file, not a pipe: a full pipe would stall it
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
           "DJANGO_SETTINGS_MODULE": "resonanz.settings", "DATABASE_URL": database_url(),
           "RESONANZ_VAR_DIR": str(settings.VAR_DIR), "RESONANZ_LOG_DIR": logs,
           "CELERY_BROKER_URL": "memory://", "RESONANZ_MAX_REQUEST_BYTES": str(LIMIT), "RESONANZ_PROCESS": "web"}
    process = subprocess.Popen(
        uvicorn_command("127.0.0.1", port), env=env, stdout=output, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            break
        except OSError as exc:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                said = Path(output.name).read_text(errors="replace")
                raise RuntimeError(f"uvicorn did not start:\n{said}") from exc
            time.sleep(0.3)
    yield port, Path(logs)
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
    output.close()


@pytest.fixture
def hook(transactional_db):
    return create_channel(kind="webhook", name="Chunked hooks", credentials={"secret": SECRET})


def signed_headers(body: bytes) -> dict:
    timestamp = str(int(time.time()))
    return {"X-Resonanz-Timestamp": timestamp, "X-Resonanz-Signature": sign(SECRET, timestamp, body),
            "Content-Type": "application/json"}


def start_chunked(port: int, path: str, headers: dict) -> http.client.HTTPConnection:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.putrequest("POST", path)
    for name, value in headers.items():
        conn.putheader(name, value)
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    return conn


def send_chunk(conn: http.client.HTTPConnection, data: bytes) -> None:
    conn.send(f"{len(data):x}\r\n".encode() + data + b"\r\n")


def test_chunked_body_over_the_limit_is_refused_without_being_read(uvicorn_server, hook):
    port, _logs = uvicorn_server
    conn = start_chunked(port, f"/hooks/{hook.slug}/", signed_headers(b"x"))
    chunk = b"[" + b" " * (64 * 1024 - 1)
    sent, planned = 0, 300 * 1024 * 1024
    try:
        while sent < planned:
            if select.select([conn.sock], [], [], 0)[0]:
                break  # the server answered before the body ended
            send_chunk(conn, chunk)
            sent += len(chunk)
    except (BrokenPipeError, ConnectionResetError, TimeoutError):
        pass  # the server stopped reading and hung up
    response = conn.getresponse()
    body = json.loads(response.read())
    assert response.status == 413
    assert f"the limit is {LIMIT} bytes" in body["detail"] and body["request_id"] == response.getheader("X-Request-ID")
    assert sent < 32 * 1024 * 1024, f"the server read {sent} bytes before refusing"
    assert Message.objects.count() == 0


def test_declared_length_over_the_limit_is_refused_before_the_body(uvicorn_server, hook):
    port, _logs = uvicorn_server
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.putrequest("POST", f"/hooks/{hook.slug}/")
    conn.putheader("Content-Length", str(300 * 1024 * 1024))
    conn.endheaders()
    response = conn.getresponse()
    assert response.status == 413 and "is 314572800 bytes" in json.loads(response.read())["detail"]


def test_chunked_body_within_the_limit_is_delivered_whole(uvicorn_server, hook):
    payload = {"id": "chunked-1", "sender": "kim@example.com", "text": "Paket fehlt. " + "x" * 150_000}
    body = json.dumps(payload).encode()
    port, _logs = uvicorn_server
    conn = start_chunked(port, f"/hooks/{hook.slug}/", signed_headers(body))
    for start in range(0, len(body), 50_000):
        send_chunk(conn, body[start:start + 50_000])
    conn.send(b"0\r\n\r\n")
    response = conn.getresponse()
    assert response.status == 201, response.read()
    assert response.getheader("X-Request-ID")
    assert Message.objects.get(external_id="chunked-1").text == payload["text"]


def test_log_lines_under_asgi_carry_the_request_id(uvicorn_server, hook):
    """The id set by the middleware reaches log records written in the view's thread."""
    port, logs = uvicorn_server
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", f"/hooks/{hook.slug}/", body=b"{}", headers={
        "X-Request-ID": "probe-4711-asgi", "X-Resonanz-Timestamp": str(int(time.time())),
        "X-Resonanz-Signature": "sha256=" + "0" * 64, "Content-Type": "application/json"})
    response = conn.getresponse()
    response.read()
    assert response.status == 401 and response.getheader("X-Request-ID") == "probe-4711-asgi"
    lines = (logs / "web.log").read_text().splitlines()
    assert any("[probe-4711-asgi]" in line and "rejected" in line for line in lines), lines[-5:]


# -- WSGI ----------------------------------------------------------------------------------------

class EndlessBody(io.RawIOBase):
    """What a WSGI server hands over for a chunked body that never ends; counts what was read."""

    def __init__(self) -> None:
        self.read_bytes = 0

    def read(self, size: int = -1) -> bytes:
        size = 65536 if size is None or size < 0 else size
        self.read_bytes += size
        return b" " * size


def call_wsgi(environ: dict) -> tuple[str, dict, bytes]:
    from resonanz.wsgi import application

    setup_testing_defaults(environ)
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer["status"], answer["headers"] = status, dict(headers)

    # Like Django's test client: the test's transaction must survive the end of the request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        result = application(environ, start_response)
        body = b"".join(result)
        getattr(result, "close", lambda: None)()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return answer["status"], answer["headers"], body


def chunked_environ(channel, stream, body_for_signature: bytes, terminated: bool = True) -> dict:
    headers = signed_headers(body_for_signature)
    return {"REQUEST_METHOD": "POST", "PATH_INFO": f"/hooks/{channel.slug}/", "CONTENT_TYPE": "application/json",
            "HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input": stream, "wsgi.input_terminated": terminated,
            "HTTP_X_RESONANZ_TIMESTAMP": headers["X-Resonanz-Timestamp"],
            "HTTP_X_RESONANZ_SIGNATURE": headers["X-Resonanz-Signature"]}


@pytest.mark.django_db
def test_wsgi_stops_reading_a_chunked_body_at_the_limit():
    channel = create_channel(kind="webhook", name="WSGI hooks", credentials={"secret": SECRET})
    stream = EndlessBody()
    status, headers, body = call_wsgi(chunked_environ(channel, stream, b"x"))
    assert status.startswith("413") and headers["X-Request-ID"]
    assert f"the limit is {LIMIT} bytes" in json.loads(body)["detail"]
    assert stream.read_bytes <= LIMIT + 1


@pytest.mark.django_db
def test_wsgi_delivers_a_chunked_body_within_the_limit():
    channel = create_channel(kind="webhook", name="WSGI hooks", credentials={"secret": SECRET})
    payload = json.dumps({"id": "wsgi-chunked", "sender": "kim@example.com", "text": "Hallo"}).encode()
    status, _headers, body = call_wsgi(chunked_environ(channel, io.BytesIO(payload), payload))
    assert status.startswith("201"), body
    assert Message.objects.get(external_id="wsgi-chunked").text == "Hallo"


@pytest.mark.django_db
def test_wsgi_asks_for_a_length_when_the_server_cannot_end_a_chunked_body():
    channel = create_channel(kind="webhook", name="WSGI hooks", credentials={"secret": SECRET})
    stream = EndlessBody()
    status, _headers, body = call_wsgi(chunked_environ(channel, stream, b"x", terminated=False))
    assert status.startswith("411") and "Content-Length" in json.loads(body)["detail"]
    assert stream.read_bytes == 0
