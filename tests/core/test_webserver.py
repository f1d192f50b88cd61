"""Every web process answers a kept-alive connection without waiting for the client's delayed ACK.

uvicorn's ``--workers N`` path hands its processes a listening socket whose protocol number is 0, and asyncio then
leaves Nagle's algorithm on for the accepted connections (about 40 ms on every request after the first). The
servers here are started the way that path starts them, on such a socket.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time

import pytest
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from resonanz.core.webserver import HTTP_PROTOCOL, NoDelayH11Protocol, uvicorn_command


async def hello(scope, receive, send):
    assert scope["type"] == "http"
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


def nodelay_seen_by(protocol: type[H11Protocol]) -> list[int]:
    """Serve three requests on one kept-alive connection; the TCP_NODELAY of each accepted connection."""
    seen: list[int] = []

    class Recording(protocol):
        def connection_made(self, transport):
            super().connection_made(transport)
            seen.append(transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    listener = socket.socket(socket.AF_INET)  # as uvicorn's Config.bind_socket makes it for --workers
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    assert listener.proto == 0
    server = uvicorn.Server(uvicorn.Config(hello, http=Recording, lifespan="off", log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        connection = http.client.HTTPConnection("127.0.0.1", listener.getsockname()[1], timeout=10)
        for _ in range(3):
            connection.request("GET", "/")
            response = connection.getresponse()
            assert (response.status, response.read()) == (200, b"ok")
        connection.close()
    finally:
        server.should_exit = True
        thread.join(20)
        listener.close()
    return seen


def test_uvicorn_alone_leaves_nagle_on_for_a_socket_bound_the_workers_way():
    """The defect this module works around; when uvicorn fixes it this fails, and the workaround can go."""
    assert nodelay_seen_by(H11Protocol) == [0]


def test_our_protocol_switches_nagle_off_on_every_connection():
    assert nodelay_seen_by(NoDelayH11Protocol) == [1]


@pytest.mark.parametrize("workers", [1, 4])
def test_every_web_server_command_uses_it(workers):
    command = uvicorn_command("127.0.0.1", 8000, workers=workers)
    assert command[command.index("--http") + 1] == HTTP_PROTOCOL
    assert ("--workers" in command) == (workers > 1)
    assert uvicorn.importer.import_from_string(HTTP_PROTOCOL) is NoDelayH11Protocol
