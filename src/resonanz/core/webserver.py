"""The uvicorn command every Resonanz web process runs, with Nagle's algorithm off on every connection.

With ``--workers N`` uvicorn binds the listening socket itself and leaves its protocol number at 0; the accepted
connections inherit it, and asyncio only switches Nagle's algorithm off (``TCP_NODELAY``) on sockets that say
they are TCP. uvicorn writes a response's head and body separately, so on a kept-alive connection the body then
waits for the client's delayed ACK: about 40 ms on every request after the first (measured here: 48 ms for
``/healthz`` with ``--workers 2``, 0.3–2.5 ms with one process; uvicorn issue #3149, open in 0.54). This protocol
sets the option on each connection itself, whatever made the socket.
"""

from __future__ import annotations

import contextlib
import socket
import sys

from uvicorn.protocols.http.h11_impl import H11Protocol

# How long uvicorn keeps an idle HTTP connection open. Longer than an agent's pause between clicks (and nginx's
# default 75 s): with uvicorn's default of 5 s a client that reuses the connection just as the server closes it
# gets a reset (seen as "Connection reset by peer" in bench/load.py on a loaded machine). Idle connections cost
# the event loop next to nothing.
KEEP_ALIVE_SECONDS = 75

HTTP_PROTOCOL = "resonanz.core.webserver:NoDelayH11Protocol"


class NoDelayH11Protocol(H11Protocol):
    def connection_made(self, transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):  # the peer is already gone; the protocol notices on its own
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)


def uvicorn_command(host: str, port: int, *, workers: int = 1, app: str = "resonanz.asgi:application",
                    extra: tuple[str, ...] = ()) -> list[str]:
    """The web server's command line, the same for ``resonanz run``, the benchmarks and the tests."""
    return [sys.executable, "-m", "uvicorn", app, "--host", host, "--port", str(port), "--lifespan", "off",
            "--no-access-log", "--http", HTTP_PROTOCOL, "--timeout-keep-alive", str(KEEP_ALIVE_SECONDS),
            *(["--workers", str(workers)] if workers > 1 else []), *extra]
