"""What Resonanz writes to disk is readable only by the service's user (issue 16: database files, var/).

The console command runs as a real process with its own var/ folder, as an operator would start it.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage

from resonanz.core.files import secure_var_dir, write_private

SRC = str(Path(__file__).resolve().parents[2] / "src")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_fresh_instance_creates_database_keys_and_folders_private(tmp_path):
    var = tmp_path / "var"
    env = {**os.environ, "RESONANZ_VAR_DIR": str(var), "PYTHONPATH": SRC, "DJANGO_SETTINGS_MODULE": "resonanz.settings"}
    env.pop("DATABASE_URL", None)
    subprocess.run([sys.executable, "-m", "resonanz.cli", "migrate", "--noinput", "-v", "0"], env=env, check=True,
                   cwd=tmp_path, timeout=300)
    assert mode(var) == 0o700
    assert mode(var / "resonanz.sqlite3") == 0o600
    assert mode(var / "secret_key") == 0o600 and mode(var / "encryption_key") == 0o600
    for path in var.rglob("*"):
        assert mode(path) & 0o077 == 0, f"{path} is readable by others: {oct(mode(path))}"


def test_an_older_instance_left_open_is_tightened_at_start(tmp_path):
    var = tmp_path / "var"
    (var / "media").mkdir(parents=True)
    database = var / "resonanz.sqlite3"
    database.write_bytes(b"")
    Path(f"{database}-wal").write_bytes(b"")
    os.chmod(var, 0o755)
    os.chmod(var / "media", 0o755)
    os.chmod(database, 0o644)
    os.chmod(f"{database}-wal", 0o644)
    secure_var_dir(var, database)
    assert (mode(var), mode(var / "media"), mode(database), mode(Path(f"{database}-wal"))) == \
        (0o700, 0o700, 0o600, 0o600)


def test_attachments_are_stored_0600_in_0700_folders(settings, tmp_path):
    storage = FileSystemStorage(location=tmp_path / "media")
    old = os.umask(0o022)  # even where the process umask would allow more
    try:
        name = storage.save("attachments/2026/11/rechnung.pdf", ContentFile(b"%PDF-1.4"))
    finally:
        os.umask(old)
    assert mode(Path(storage.path(name))) == 0o600
    assert mode(Path(storage.path(name)).parent) == 0o700


def test_exports_are_written_private_whatever_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        target = tmp_path / "export.zip"
        target.write_bytes(b"old")
        os.chmod(target, 0o644)
        write_private(target, b"new")
    finally:
        os.umask(old)
    assert target.read_bytes() == b"new" and mode(target) == 0o600
