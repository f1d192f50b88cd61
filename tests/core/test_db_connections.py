"""PostgreSQL connections come from a bounded pool per process.

Under ASGI Django runs each request's synchronous code in a thread of its own, so a connection kept for reuse
(CONN_MAX_AGE > 0) is never reused: the load test on PostgreSQL left 74 connections open from two web processes
until the server refused new clients and sign-ins failed. The pool bounds what a process holds and hands each
request a checked connection."""

from __future__ import annotations

import importlib

import pytest

from resonanz import settings as project_settings

PG = "postgres://resonanz:secret@db.example:5432/resonanz"


def _config(monkeypatch, url: str = PG, **env) -> dict:
    for name in ("RESONANZ_DB_POOL", "RESONANZ_DB_POOL_SIZE", "RESONANZ_DB_POOL_TIMEOUT", "RESONANZ_DB_CONN_MAX_AGE",
                 "RESONANZ_SQLITE_CONN_MAX_AGE", "RESONANZ_REUSE_REQUEST_THREADS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    module = importlib.reload(project_settings)
    try:
        return module.database_config(url)
    finally:
        monkeypatch.undo()
        importlib.reload(project_settings)


def test_postgresql_uses_a_bounded_pool_and_never_keeps_a_connection_per_thread(monkeypatch):
    config = _config(monkeypatch)
    assert config["CONN_MAX_AGE"] == 0 and config["CONN_HEALTH_CHECKS"] is True
    assert config["OPTIONS"]["pool"] == {"min_size": 1, "max_size": 16, "timeout": 10.0}
    sized = _config(monkeypatch, RESONANZ_DB_POOL_SIZE="20", RESONANZ_DB_POOL_TIMEOUT="3")
    assert sized["OPTIONS"]["pool"]["max_size"] == 20 and sized["OPTIONS"]["pool"]["timeout"] == 3.0


def test_without_the_pool_connections_are_closed_after_each_request_unless_asked(monkeypatch):
    behind_pgbouncer = _config(monkeypatch, RESONANZ_DB_POOL="0")
    assert "pool" not in behind_pgbouncer.get("OPTIONS", {}) and behind_pgbouncer["CONN_MAX_AGE"] == 0
    assert _config(monkeypatch, RESONANZ_DB_POOL="0", RESONANZ_DB_CONN_MAX_AGE="60")["CONN_MAX_AGE"] == 60


def test_sqlite_connections_are_kept_by_the_pooled_request_threads_only(monkeypatch):
    """Opening a SQLite connection (three PRAGMAs) and closing the last one (a WAL checkpoint) cost more than
    storing a message; the pooled request threads keep theirs, Django's thread per request could not."""
    url = "sqlite:////tmp/resonanz.sqlite3"
    assert _config(monkeypatch, url)["CONN_MAX_AGE"] == 60
    assert _config(monkeypatch, url, RESONANZ_REUSE_REQUEST_THREADS="0")["CONN_MAX_AGE"] == 0
    assert _config(monkeypatch, url, RESONANZ_SQLITE_CONN_MAX_AGE="5")["CONN_MAX_AGE"] == 5


@pytest.mark.django_db
def test_the_running_suite_on_postgresql_takes_its_connections_from_the_pool(client):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the pool is PostgreSQL's")
    assert client.get("/healthz").status_code in (200, 503)
    assert connection.pool is not None and connection.pool.max_size == 16
