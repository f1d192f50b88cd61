"""Faults while messages arrive, with real processes: the pipeline worker killed with SIGKILL in the middle of
a batch, and the web server killed after it stored a message but before the client heard the answer (the
client sends the same external id again). Each test counts lost and duplicated messages and fails on any.

Both share the test database (a file on SQLite, the test database on PostgreSQL) with the processes they start.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta

import pytest
import requests
from django.db.models import Count
from django.utils import timezone
from rest_framework.authtoken.models import Token

from resonanz.connectors.actions import create_channel
from resonanz.core.models import PipelineState
from resonanz.core.pipeline import CLAIM_TIMEOUT
from resonanz.inbox.actions import ingest_many, invite_agent
from resonanz.inbox.models import ConversationEvent, Message
from resonanz.understanding.models import Analysis
from tests.conftest import inbound
from tests.support.faultproxy import FaultProxy

from .conftest import WORKER, WebServer

pytestmark = [pytest.mark.django_db(transaction=True)]


def _counts() -> Counter:
    return Counter(dict(Message.objects.filter(direction="inbound").values_list("pipeline_state")
                        .annotate(n=Count("id")).values_list("pipeline_state", "n")))


def test_worker_killed_mid_batch_loses_and_duplicates_nothing(process_env):
    channel = create_channel(kind="api", name="Shop")
    sent = [f"k-{n}" for n in range(120)]
    ingest_many(channel, [inbound(e, f"kunde{int(e[2:]) % 40}@example.com", f"Frage {e}: wo ist mein Paket?")
                          for e in sent[:60]])
    worker = subprocess.Popen([sys.executable, "-m", "resonanz.cli", "shell", "-c", WORKER], env=process_env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        arriving = iter(range(60, 120, 10))
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # messages keep arriving while the worker reads
            start = next(arriving, None)
            if start is not None:
                ingest_many(channel, [inbound(e, f"kunde{int(e[2:]) % 40}@example.com", f"Noch eine Frage {e}")
                                      for e in sent[start:start + 10]])
            counts = _counts()
            if counts[PipelineState.DONE] >= 15 and counts[PipelineState.RUNNING] and start is None:
                break
            time.sleep(0.05)
        worker.send_signal(signal.SIGKILL)  # in the middle of a claimed batch
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    counts = _counts()
    assert counts[PipelineState.RUNNING] > 0, f"the worker was not killed mid-batch: {counts}"
    assert counts[PipelineState.DONE] < len(sent), f"the worker finished before it was killed: {counts}"
    # the claim of the dead worker expires (five minutes later, here moved back instead of waited for)
    Message.objects.filter(pipeline_state=PipelineState.RUNNING).update(
        pipeline_claimed_at=timezone.now() - CLAIM_TIMEOUT - timedelta(seconds=1))
    second = subprocess.run([sys.executable, "-m", "resonanz.cli", "shell", "-c", WORKER], env=process_env,
                            capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr[-2000:]

    stored = Counter(Message.objects.filter(direction="inbound").values_list("external_id", flat=True))
    lost = set(sent) - set(stored)
    duplicated = {k: n for k, n in stored.items() if n > 1}
    assert (lost, duplicated) == (set(), {})
    assert _counts() == Counter({PipelineState.DONE: len(sent)})  # every message analysed, routed, done
    assert Analysis.objects.filter(message__isnull=False).count() == len(sent)
    analysed = Counter(e["message_id"] for e in ConversationEvent.objects.filter(kind="analysed")
                       .values_list("data", flat=True))
    assert set(analysed.values()) == {1} and len(analysed) == len(sent), "a message was analysed twice"
    received = Counter(e["message_id"] for e in ConversationEvent.objects.filter(kind="message_received")
                       .values_list("data", flat=True))
    assert set(received.values()) == {1} and len(received) == len(sent)
    bot_replies = Counter(Message.objects.filter(direction="outbound").values_list("conversation_id", flat=True))
    assert all(n == 1 for n in bot_replies.values()), "the bot answered a conversation twice"


def test_web_server_killed_before_answering_the_client_retry_stores_once(process_env):
    from tests.connectors.email.conftest import free_port

    user = invite_agent("api@example.com", display_name="API", role="admin", password="pw-api-12345")
    token = Token.objects.create(user=user).key
    channel = create_channel(kind="api", name="Shop API")
    server = WebServer(process_env, free_port())
    server.start()
    proxy = FaultProxy(f"http://127.0.0.1:{server.port}")
    url = f"{proxy.url}/api/channels/{channel.pk}/inbound/"
    headers = {"Authorization": f"Token {token}"}
    sent = [f"w-{n}" for n in range(24)]
    answers: dict[str, list[int]] = {}
    kills = 0
    try:
        for n, external_id in enumerate(sent):
            if n % 8 == 3:  # the server stores it, the answer never reaches the client, the server dies
                proxy.add("/inbound/", "drop-after-forward")
            payload = {"external_id": external_id, "sender": {"handle": f"k{n % 5}@example.com"},
                       "text": f"Nachricht {n}"}
            for _attempt in range(5):
                try:
                    response = requests.post(url, json=payload, headers=headers, timeout=20)
                except requests.ConnectionError:
                    server.kill()
                    kills += 1
                    server.start()
                    continue
                assert response.status_code in (200, 201), response.text
                answers.setdefault(external_id, []).append(response.status_code)
                break
    finally:
        server.kill()
        proxy.stop()
    assert kills == 3
    stored = Counter(Message.objects.filter(direction="inbound").values_list("external_id", flat=True))
    lost = set(sent) - set(stored)
    duplicated = {k: n for k, n in stored.items() if n > 1}
    assert (lost, duplicated) == (set(), {})
    # the retries after a kill found the stored message (200), every other message was new (201)
    assert sorted(k for k, codes in answers.items() if codes == [200]) == ["w-11", "w-19", "w-3"]
