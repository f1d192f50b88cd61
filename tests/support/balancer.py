"""A small TCP load balancer for the several-hosts test: round robin over web servers, a backend that refuses or
times out a connection is skipped for a while (what haproxy or nginx do with passive health checks).

Run: python -m tests.support.balancer --listen 0.0.0.0:8000 --backend 10.0.0.21:8000 --backend 10.0.0.22:8000
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time

DOWN_FOR = 3.0  # seconds a failed backend is left out


class Balancer:
    def __init__(self, backends: list[tuple[str, int]]) -> None:
        self.backends = backends
        self.turn = itertools.cycle(range(len(backends)))
        self.down_until = [0.0] * len(backends)

    async def open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        for _ in range(len(self.backends)):
            index = next(self.turn)
            if self.down_until[index] > time.monotonic():
                continue
            host, port = self.backends[index]
            try:
                return await asyncio.wait_for(asyncio.open_connection(host, port), timeout=2)
            except (TimeoutError, OSError):
                self.down_until[index] = time.monotonic() + DOWN_FOR
        raise ConnectionError("no backend answers")

    async def serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            backend_reader, backend_writer = await self.open()
        except ConnectionError:
            client_writer.close()
            return
        await asyncio.gather(pipe(client_reader, backend_writer), pipe(backend_reader, client_writer))


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


def address(text: str) -> tuple[str, int]:
    host, port = text.rsplit(":", 1)
    return host, int(port)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--listen", type=address, required=True)
    parser.add_argument("--backend", type=address, action="append", required=True)
    args = parser.parse_args()
    balancer = Balancer(args.backend)
    server = await asyncio.start_server(balancer.serve, *args.listen)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
