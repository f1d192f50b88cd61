"""What the fault tests share: the environment of a second Resonanz process on the test database, the
pipeline worker's one-liner and a web server that can be killed and started again at the same address."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import requests
from django.db import connection

from resonanz.core.webserver import uvicorn_command


def database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    return f"postgres://{s['USER'] or ''}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def process_env(settings, tmp_path):
    """The environment of a second Resonanz process on the same database (no broker: nothing is kicked)."""
    if connection.vendor == "sqlite" and ":memory:" in str(connection.settings_dict["NAME"]):
        pytest.fail("fault tests need a file database so other processes can use it")
    settings.CELERY_TASK_ALWAYS_EAGER = False  # the test's own ingestion leaves the pipeline to the worker
    return {**os.environ, "DATABASE_URL": database_url(), "DJANGO_SETTINGS_MODULE": "resonanz.settings",
            "RESONANZ_VAR_DIR": str(tmp_path / "var"), "RESONANZ_EMBEDDER": "none",
            "RESONANZ_MODEL_DIR": str(settings.RESONANZ_MODEL_DIR), "RESONANZ_TASKS_EAGER": "0",
            "CELERY_BROKER_URL": "memory://", "RESONANZ_PIPELINE_BATCH": "5", "SECRET_KEY": "fault-tests",
            "ALLOWED_HOSTS": "127.0.0.1,localhost", "PYTHONPATH": os.pathsep.join(sys.path),
            # test clients write at once, as in test_settings (the time checks have tests of their own)
            "RESONANZ_CHAT_MIN_SECONDS": "0", "RESONANZ_FORM_MIN_SECONDS": "0"}


WORKER = "from resonanz.core.pipeline import run_until_empty; print(run_until_empty())"


class WebServer:
    """uvicorn serving Resonanz on a fixed port, so it can be killed and started again at the same address."""

    def __init__(self, env: dict, port: int) -> None:
        self.env, self.port = env, port
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            uvicorn_command("127.0.0.1", self.port),
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                requests.get(f"http://127.0.0.1:{self.port}/healthz", timeout=20)  # the first one loads Django
                return
            except requests.ConnectionError:
                time.sleep(0.2)
        raise RuntimeError("the web server did not start")

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
