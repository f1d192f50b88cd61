"""`resonanz backup` while messages keep arriving, `resonanz restore` into a fresh instance: the restored
instance has every message committed before the backup began, each attachment's bytes, the models and keys."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tarfile
import threading
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections

from resonanz.connectors.actions import create_channel
from resonanz.inbox.actions import ingest
from resonanz.inbox.models import Attachment, Message
from tests.conftest import inbound

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def instance(settings, tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("the embedded mode's backup; PostgreSQL uses pg_dump")
    var = tmp_path / "var"
    (var / "models" / "v1").mkdir(parents=True)
    (var / "models" / "ACTIVE").write_text("v1")
    (var / "models" / "v1" / "model.bin").write_bytes(b"weights" * 100)
    (var / "encryption_key").write_text("the-instance-key")
    settings.VAR_DIR = var
    settings.MEDIA_ROOT = str(var / "media")
    settings.RESONANZ_MODEL_DIR = var / "models"
    return var


def _restore(archive: Path, target: Path, *extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "RESONANZ_VAR_DIR": str(target), "DATABASE_URL": f"sqlite:///{target / 'resonanz.sqlite3'}",
           "DJANGO_SETTINGS_MODULE": "resonanz.settings", "PYTHONPATH": os.pathsep.join(sys.path)}
    env.pop("RESONANZ_ENCRYPTION_KEY", None)
    return subprocess.run([sys.executable, "-m", "resonanz.cli", "restore", str(archive), *extra], env=env,
                          capture_output=True, text=True, timeout=120)


def test_backup_while_messages_arrive_and_restore_into_a_fresh_instance(instance, tmp_path):
    channel = create_channel(kind="api", name="Shop")
    for n in range(20):
        ingest(channel, inbound(f"before-{n}", f"k{n}@example.com", f"Frage {n}", attachments=[
            {"filename": f"beleg-{n}.pdf", "content_type": "application/pdf", "content": f"PDF {n}".encode() * 50}]))
    stop = threading.Event()
    arrived: list[str] = []

    def keep_writing():  # the service goes on receiving mail while the backup runs
        n = 0
        while not stop.is_set():
            ingest(channel, inbound(f"during-{n}", "laufend@example.com", f"Während {n}"))
            arrived.append(f"during-{n}")
            n += 1
        connections.close_all()

    writer = threading.Thread(target=keep_writing)
    writer.start()
    archive = tmp_path / "out" / "backup.tar.gz"
    try:
        call_command("backup", str(archive))
    finally:
        stop.set()
        writer.join(30)
    assert arrived, "nothing was written during the backup"
    assert archive.stat().st_mode & 0o777 == 0o600  # it holds the database and the keys
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert {"MANIFEST.json", "database.sqlite3", "keys/encryption_key", "models/ACTIVE"} <= names

    target = tmp_path / "restored"
    target.mkdir()
    done = _restore(archive, target)
    assert done.returncode == 0, done.stderr[-2000:]
    db = sqlite3.connect(target / "resonanz.sqlite3")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    restored = {row[0] for row in db.execute("SELECT external_id FROM inbox_message")}
    assert {f"before-{n}" for n in range(20)} <= restored  # nothing committed before the backup is lost
    assert restored <= set(Message.objects.values_list("external_id", flat=True))
    files = db.execute("SELECT a.file, a.size FROM inbox_attachment a").fetchall()
    db.close()
    assert len(files) == 20
    for name, size in files:
        stored = target / "media" / name
        assert stored.read_bytes() == Attachment.objects.get(file=name).file.read() and len(stored.read_bytes()) == size
    assert (target / "encryption_key").read_text() == "the-instance-key"
    assert (target / "models" / "v1" / "model.bin").read_bytes() == b"weights" * 100

    again = _restore(archive, target)  # a database with conversations is not overwritten by accident
    assert again.returncode != 0 and "--force" in again.stderr
    assert _restore(archive, target, "--force").returncode == 0


def test_restore_refuses_what_is_not_a_backup(instance, tmp_path):
    bogus = tmp_path / "bogus.tar.gz"
    bogus.write_bytes(b"not a tar at all")
    with pytest.raises(CommandError, match="is not a Resonanz backup"):
        call_command("restore", str(bogus))
    with pytest.raises(CommandError, match="does not exist"):
        call_command("restore", str(tmp_path / "missing.tar.gz"))
