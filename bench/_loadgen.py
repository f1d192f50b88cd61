"""A lean HTTP/1.1 load generator: C keep-alive connections on one asyncio loop, requests built before timing.

Threads with http.client cost the generator about as much CPU per request as a lean server route needs, and on a
2-core machine the generator shares the cores with the server; so this one sends prebuilt request bytes and
parses only the status line, Content-Length and body. ``run`` returns the wall time, each answer's time, status and
body, and the generator's own CPU seconds (this process's, measured around the run: nothing else runs in it then),
so a benchmark can show the generator is not the bottleneck.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field


def request(method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@dataclass
class Result:
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    times_ms: list[float] = field(default_factory=list)
    answers: list[tuple[int, bytes]] = field(default_factory=list)  # (status, body) in the order of the requests

    @property
    def rate(self) -> float:
        return len(self.times_ms) / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms_per_request(self) -> float:
        return 1000 * self.cpu_seconds / max(len(self.times_ms), 1)


async def _answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if not chunked:
        return status, await reader.readexactly(length)
    body = b""
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        chunk = await reader.readexactly(size + 2)
        if size == 0:
            return status, body
        body += chunk[:-2]


async def _run(port: int, requests: list[bytes], clients: int, result: Result) -> None:
    next_index = 0
    result.answers = [(0, b"")] * len(requests)

    async def client() -> None:
        nonlocal next_index
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while next_index < len(requests):
                i = next_index
                next_index += 1
                started = time.perf_counter()
                writer.write(requests[i])
                result.answers[i] = await _answer(reader)
                result.times_ms.append((time.perf_counter() - started) * 1000)
        finally:
            writer.close()

    await asyncio.gather(*(client() for _ in range(clients)))


def run(port: int, requests: list[bytes], clients: int) -> Result:
    """Send every request once over ``clients`` keep-alive connections, each sending its next when answered."""
    result = Result()
    cpu, started = time.process_time(), time.perf_counter()
    asyncio.run(_run(port, requests, clients, result))
    result.seconds, result.cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    return result
