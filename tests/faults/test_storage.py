"""Faults of the storage under the service: the disk full for attachments (a real, tiny tmpfs), SQLite busy
beyond its timeout (another process holds the write lock), the broker unreachable (Redis stopped, the SQLite
broker's file locked). Each test counts lost and duplicated messages and fails on any."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections import Counter

import pytest
import requests
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from resonanz.connectors.actions import create_channel
from resonanz.core.models import PipelineState
from resonanz.inbox.actions import ingest, invite_agent
from resonanz.inbox.models import Attachment, Message
from tests.conftest import inbound
from tests.connectors.email.conftest import free_port

from .conftest import WORKER, WebServer


def _lost_and_duplicated(sent: list[str]) -> tuple[set[str], dict[str, int]]:
    stored = Counter(Message.objects.filter(direction="inbound").values_list("external_id", flat=True))
    return set(sent) - set(stored), {k: n for k, n in stored.items() if n > 1}


@pytest.fixture
def full_disk(tmp_path, settings):
    """MEDIA_ROOT on a 64 KiB tmpfs: the third 24 KiB attachment no longer fits."""
    mount = tmp_path / "media"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.decode().strip()}")
    settings.MEDIA_ROOT = str(mount)
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.django_db
def test_disk_full_keeps_the_message_and_marks_the_attachment_missing(full_disk):
    channel = create_channel(kind="api", name="Uploads")
    sent = [f"d-{n}" for n in range(6)]
    for n, external_id in enumerate(sent):
        ingest(channel, inbound(external_id, "kunde@example.com", f"Foto {n} anbei", attachments=[
            {"filename": f"foto-{n}.jpg", "content_type": "image/jpeg", "content": bytes([n]) * 24_000},
            {"filename": f"notiz-{n}.txt", "content_type": "text/plain", "content": b"klein"}]))
    assert _lost_and_duplicated(sent) == (set(), {})
    attachments = list(Attachment.objects.order_by("id"))
    assert len(attachments) == 12  # every attachment is recorded, stored or not
    stored = [a for a in attachments if a.file]
    missing = [a for a in attachments if not a.file]
    assert stored and missing, "the tmpfs should have filled up part of the way"
    for a in stored:
        assert a.missing == "" and a.file.size == a.size
        with a.file.open("rb") as f:
            assert f.read() == (bytes([int(a.filename[5])]) * 24_000 if a.filename.startswith("foto") else b"klein")
    for a in missing:
        assert "No space left on device" in a.missing and a.size in (24_000, 5)
    # once space is freed, new attachments are stored again
    for path in full_disk.rglob("foto-*"):
        path.unlink()
    ingest(channel, inbound("d-after", "kunde@example.com", "Noch ein Foto", attachments=[
        {"filename": "spaeter.jpg", "content_type": "image/jpeg", "content": b"z" * 10_000}]))
    assert Attachment.objects.get(filename="spaeter.jpg").file.size == 10_000


@pytest.fixture
def short_sqlite_timeout():
    """The SQLite connection gives up after half a second instead of 20 (the production busy timeout)."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's busy timeout")
    options = connection.settings_dict["OPTIONS"]
    saved = dict(options)
    options["timeout"] = 0.5
    options["init_command"] = options.get("init_command", "").replace("busy_timeout=20000", "busy_timeout=500")
    connection.close()
    yield connection.settings_dict["NAME"]
    options.clear()
    options.update(saved)
    connection.close()


@pytest.mark.django_db(transaction=True)
def test_sqlite_busy_beyond_the_timeout_answers_503_and_the_retry_stores_once(short_sqlite_timeout):
    user = invite_agent("busy@example.com", display_name="Busy", role="admin", password="pw-busy-12345")
    channel = create_channel(kind="api", name="Busy API")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    url = f"/api/channels/{channel.pk}/inbound/"
    holder = sqlite3.connect(short_sqlite_timeout, isolation_level=None)  # another process's long write
    holder.execute("BEGIN IMMEDIATE")
    sent = ["b-1", "b-2"]
    try:
        for external_id in sent:
            response = client.post(url, {"external_id": external_id, "sender": {"handle": "k@example.com"},
                                         "text": "Hallo?"}, format="json")
            assert response.status_code == 503, response.content
            assert response["Retry-After"] == "5" and "nothing was stored" in response.json()["error"]
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert Message.objects.count() == 0
    for external_id in sent:  # the client sends again, twice for good measure
        codes = [client.post(url, {"external_id": external_id, "sender": {"handle": "k@example.com"},
                                   "text": "Hallo?"}, format="json").status_code for _ in range(2)]
        assert codes == [201, 200]
    assert _lost_and_duplicated(sent) == (set(), {})


def _post_all(server: WebServer, channel, token: str, sent: list[str]) -> None:
    for n, external_id in enumerate(sent):
        response = requests.post(f"http://127.0.0.1:{server.port}/api/channels/{channel.pk}/inbound/",
                                 json={"external_id": external_id, "sender": {"handle": f"k{n}@example.com"},
                                       "text": f"Frage {n}"},
                                 headers={"Authorization": f"Token {token}"}, timeout=30)
        assert response.status_code == 201, response.text


def _sweep(env: dict) -> None:
    """What the worker's periodic sweep does once the broker is back."""
    done = subprocess.run([sys.executable, "-m", "resonanz.cli", "shell", "-c", WORKER], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.django_db(transaction=True)
def test_redis_stopped_messages_are_stored_and_finished_when_it_is_back(process_env, tmp_path):
    redis = shutil.which("redis-server")
    if redis is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    env = {**process_env, "CELERY_BROKER_URL": f"redis://127.0.0.1:{port}/0"}
    user = invite_agent("broker@example.com", display_name="Broker", role="admin", password="pw-broker-1234")
    token = Token.objects.create(user=user).key
    channel = create_channel(kind="api", name="Broker API")
    server = WebServer(env, free_port())
    server.start()  # Redis is not running: the broker is unreachable from the start
    sent = [f"r-{n}" for n in range(10)]
    try:
        _post_all(server, channel, token, sent)
        health = requests.get(f"http://127.0.0.1:{server.port}/healthz", timeout=30)
        assert health.status_code == 503 and "broker" in health.text.lower()
    finally:
        server.kill()
    assert _lost_and_duplicated(sent) == (set(), {})
    assert set(Message.objects.values_list("pipeline_state", flat=True)) == {PipelineState.PENDING}
    redis_process = subprocess.Popen([redis, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", str(tmp_path)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _sweep(env)
    finally:
        redis_process.terminate()
        redis_process.wait(10)
    assert set(Message.objects.values_list("pipeline_state", flat=True)) == {PipelineState.DONE}
    assert _lost_and_duplicated(sent) == (set(), {})


@pytest.mark.django_db(transaction=True)
def test_sqlite_broker_file_locked_messages_are_stored_and_finished_later(process_env, tmp_path):
    broker_file = tmp_path / "broker.sqlite3"
    env = {**process_env, "CELERY_BROKER_URL": f"sqla+sqlite:///{broker_file}"}
    sqlite3.connect(broker_file).close()
    user = invite_agent("locked@example.com", display_name="Locked", role="admin", password="pw-locked-1234")
    token = Token.objects.create(user=user).key
    channel = create_channel(kind="api", name="Locked broker")
    server = WebServer(env, free_port())
    server.start()
    holder = sqlite3.connect(broker_file, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # nobody else can read or write the broker's file
    sent = [f"l-{n}" for n in range(10)]
    try:
        _post_all(server, channel, token, sent)  # answered although every kick of the worker fails
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        server.kill()
    assert _lost_and_duplicated(sent) == (set(), {})
    _sweep(env)
    assert set(Message.objects.values_list("pipeline_state", flat=True)) == {PipelineState.DONE}
    assert _lost_and_duplicated(sent) == (set(), {})
    assert os.path.exists(broker_file)
