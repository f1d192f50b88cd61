"""Long-lived threads for the synchronous part of ASGI requests, so database connections outlive a request.

Django's ASGI handler runs each request's synchronous code (middleware, views) in a thread of its own that it
creates for the request and ends afterwards. Django keeps database connections per thread, so with a new thread
per request ``CONN_MAX_AGE`` kept nothing: on PostgreSQL every API request opened a new connection (a server
process forked, authentication, session set-up: more CPU than storing the message). Here each request borrows a
single-thread executor from a small pool and gives it back when it is done: a request still has one thread to
itself (thread-sensitive code stays in one thread, as Django needs), and the next request in that thread finds
the connection open. Django checks it at the start and end of every request as for any persistent connection.

``RESONANZ_REUSE_REQUEST_THREADS=0`` restores Django's handler.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext
from django.core.handlers.asgi import ASGIHandler
from django.db import connections

#: idle threads kept per process; more concurrent requests get more threads, the extra ones end afterwards
MAX_IDLE = 32


class _Pool:
    def __init__(self) -> None:
        self._idle: list[ThreadPoolExecutor] = []
        self._lock = threading.Lock()

    def take(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="resonanz-request")

    def give(self, executor: ThreadPoolExecutor) -> None:
        with self._lock:
            if len(self._idle) < MAX_IDLE:
                self._idle.append(executor)
                return
        executor.shutdown(wait=False)


    def idle(self) -> list[ThreadPoolExecutor]:
        with self._lock:
            return list(self._idle)


_pool = _Pool()


def close_idle_connections() -> None:
    """Close the database connections of idle request threads (tests; a clean shutdown)."""
    for executor in _pool.idle():
        executor.submit(connections.close_all).result(timeout=30)


class ReusedThreadsASGIHandler(ASGIHandler):
    """Django's ASGI handler, with the request's synchronous code in a pooled thread (see the module docstring)."""

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        executor = _pool.take()
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
        finally:
            # a request cancelled while its view still runs gives the executor back busy: the next request
            # there waits for it to finish, never runs beside it
            _pool.give(executor)
