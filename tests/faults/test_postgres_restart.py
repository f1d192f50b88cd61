"""PostgreSQL restarted while messages arrive (issue 15): the real processes of scale mode (uvicorn, a Celery
worker with its scheduler, Redis as broker) on a PostgreSQL server of the test's own, stopped for a few seconds
in the middle of a stream of API messages. The client does what a well-behaved API client does (retries a 503 or
a broken connection with the same external id); afterwards every message is stored once and analysed once."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import psycopg
import pytest
import redis
import requests
from django.conf import settings

from tests.support import pgcluster

from .conftest import WebServer

pytestmark = [pytest.mark.slow, pytest.mark.skipif(bool(pgcluster.available()), reason=pgcluster.available()),
              # scale mode's fault: it runs once, in the suite's PostgreSQL run, not again in the SQLite run
              pytest.mark.skipif("sqlite" in settings.DATABASES["default"]["ENGINE"],
                                 reason="runs in the PostgreSQL run of the suite")]

MESSAGES = 120
BROKER = "redis://127.0.0.1:6379/13"


def _free_port() -> int:
    from tests.connectors.email.conftest import free_port

    return free_port()


def _run(env: dict, code: str) -> str:
    result = subprocess.run([sys.executable, "-m", "resonanz.cli", "shell", "-c", code], env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip()


@pytest.fixture
def scale_mode(tmp_path, seed_model_dir):
    """A private PostgreSQL server, migrated, with an API channel and a token; Redis database 13 as broker."""
    try:
        redis.Redis.from_url(BROKER).flushdb()
    except redis.ConnectionError:
        pytest.fail("Redis must listen on 127.0.0.1:6379 (it does on these machines and in CI)")
    cluster = pgcluster.Cluster(_free_port())
    cluster.start()
    url = cluster.create_database("resonanz")
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "resonanz.settings",
           "RESONANZ_VAR_DIR": str(tmp_path / "var"), "RESONANZ_EMBEDDER": "none",
           "RESONANZ_MODEL_DIR": str(seed_model_dir), "RESONANZ_TASKS_EAGER": "0", "CELERY_BROKER_URL": BROKER,
           "SECRET_KEY": "restart-test", "ALLOWED_HOSTS": "127.0.0.1,localhost",
           "PYTHONPATH": os.pathsep.join(sys.path)}
    env.pop("RESONANZ_TEST_DATABASE_URL", None)
    try:
        migrate = subprocess.run([sys.executable, "-m", "resonanz.cli", "migrate", "--no-input", "-v", "0"],
                                 env=env, capture_output=True, text=True, timeout=600)
        assert migrate.returncode == 0, migrate.stderr[-3000:]
        token, channel = _run(env, (
            "from rest_framework.authtoken.models import Token\n"
            "from resonanz.connectors.actions import create_channel\n"
            "from resonanz.inbox.actions import invite_agent\n"
            "u = invite_agent('api@example.com', display_name='API', role='admin', password='pw-api-12345')\n"
            "print(Token.objects.create(user=u).key, create_channel(kind='api', name='Shop API').pk)")).split()[-2:]
        yield cluster, env, token, channel
    finally:
        cluster.destroy()


def _query(url: str, sql: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


def test_postgres_restarted_while_messages_arrive_loses_and_duplicates_nothing(scale_mode, tmp_path):
    cluster, env, token, channel = scale_mode
    web = WebServer(env, _free_port())
    web.start()
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "resonanz.celery", "worker", "-B", "--pool", "solo",
         "-s", str(Path(env["RESONANZ_VAR_DIR"]) / "celerybeat-schedule"), "--loglevel", "WARNING"],
        env=env, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "worker.log", "w"))
    url = f"http://127.0.0.1:{web.port}/api/channels/{channel}/inbound/"
    headers = {"Authorization": f"Token {token}"}
    sent = [f"pg-{n}" for n in range(MESSAGES)]
    answers: Counter = Counter()
    restarted = threading.Event()
    down: dict = {}
    spans: list = []  # (start, end) of every request

    def restart() -> None:
        cluster.stop("fast")  # connections of web server and worker break now
        down["from"] = time.monotonic()
        time.sleep(4)
        cluster.start()
        down["until"] = time.monotonic()
        restarted.set()

    restarter = threading.Thread(target=restart)
    began = time.monotonic()
    try:
        for n, external_id in enumerate(sent):
            if n == MESSAGES // 3:
                restarter.start()
            payload = {"external_id": external_id, "sender": {"handle": f"k{n % 7}@example.com"},
                       "text": f"Nachricht {n}: wo bleibt meine Lieferung?"}
            for _attempt in range(120):
                start = time.monotonic()
                try:
                    response = requests.post(url, json=payload, headers=headers, timeout=30)
                    spans.append((start, time.monotonic()))
                except requests.ConnectionError:
                    spans.append((start, time.monotonic()))
                    answers["connection error"] += 1
                    time.sleep(0.5)
                    continue
                answers[response.status_code] += 1
                if response.status_code == 503:
                    time.sleep(0.5)  # the answer says Retry-After; a client retries with the same external id
                    continue
                assert response.status_code in (200, 201), response.text
                break
            else:
                pytest.fail(f"{external_id} was never accepted: {answers}")
            time.sleep(0.03)
        restarter.join(60)
        assert restarted.is_set(), "the database did not come back"
        accepted_after = time.monotonic() - began
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:  # the worker and its sweep finish what was stored
            states = dict(_query(cluster.url("resonanz"), "SELECT pipeline_state, count(*) FROM inbox_message "
                                                         "WHERE direction = 'inbound' GROUP BY 1"))
            if states.get("done") == MESSAGES:
                break
            time.sleep(1)
    finally:
        web.kill()
        worker.kill()
        worker.wait(10)
    print(f"postgres restart: answers {dict(answers)}, all accepted after {accepted_after:.0f} s, "
          f"all analysed after {time.monotonic() - began:.0f} s")
    # The fault must have met the stream: requests were under way while the server was down. A client sees it as
    # a 503 to send again, or (with the connection pool's health checks) as an answer that waited for the restart.
    assert any(a <= down["until"] and b >= down["from"] for a, b in spans), f"no request met the restart: {answers}"
    db = cluster.url("resonanz")
    stored = Counter(dict(_query(db, "SELECT external_id, count(*) FROM inbox_message "
                                     "WHERE direction = 'inbound' GROUP BY 1")))
    lost = set(sent) - set(stored)
    duplicated = {k: n for k, n in stored.items() if n > 1}
    assert (lost, duplicated) == (set(), {})
    worker_log = (tmp_path / "worker.log").read_text()[-3000:]
    assert states == {"done": MESSAGES}, (states, worker_log)
    analysed = _query(db, "SELECT data->>'message_id', count(*) FROM inbox_conversationevent "
                          "WHERE kind = 'analysed' GROUP BY 1")
    assert len(analysed) == MESSAGES and {n for _, n in analysed} == {1}, "a message was analysed twice or not at all"
