"""A PostgreSQL server of the test's own (Debian's binaries, initdb into a temporary folder), so a test can stop,
restart or cut off the database without disturbing the shared server other tests and CI use."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg


def binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


def available() -> str:
    """Why a private cluster cannot run here, or "" when it can."""
    if binaries() is None:
        return "PostgreSQL's server binaries are not installed"
    if os.geteuid() != 0:
        return "a private cluster is started as the postgres user, which needs root"
    return ""


class Cluster:
    """One PostgreSQL server on ``host:port``, owned by the postgres system user, trust authentication."""

    def __init__(self, port: int, host: str = "127.0.0.1", netns: str | None = None) -> None:
        self.port, self.host, self.netns = port, host, netns
        self.bin = binaries()
        self.root = Path(tempfile.mkdtemp(prefix="rz-pg-", dir="/tmp"))
        self.data = self.root / "data"
        shutil.chown(self.root, "postgres", "postgres")
        self._as_postgres(["initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync",
                           "-E", "UTF8", "--locale", "C"])
        with open(self.data / "pg_hba.conf", "a") as hba:  # other test hosts reach it over the test network
            hba.write("host all all 0.0.0.0/0 trust\n")

    def _as_postgres(self, argv: list[str], timeout: float = 120) -> subprocess.CompletedProcess:
        command = ["runuser", "-u", "postgres", "--", str(self.bin / argv[0]), *argv[1:]]
        if self.netns:
            command = ["ip", "netns", "exec", self.netns, *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed: {result.stderr[-2000:]}")
        return result

    def start(self) -> None:
        options = (f"-p {self.port} -c listen_addresses={self.host} -k {self.root} -c fsync=off "
                   "-c full_page_writes=off -c max_connections=200")
        self._as_postgres(["pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-o", options,
                           "-w", "-t", "60", "start"])

    def stop(self, mode: str = "fast") -> None:
        self._as_postgres(["pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop"])

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def url(self, name: str) -> str:
        return f"postgres://postgres@{self.host}:{self.port}/{name}"

    def wait(self, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                psycopg.connect(self.url("postgres"), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def destroy(self) -> None:
        try:
            self.stop("immediate")
        except (RuntimeError, subprocess.TimeoutExpired):
            pass
        shutil.rmtree(self.root, ignore_errors=True)
