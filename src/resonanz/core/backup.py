"""Backup and restore of the embedded mode: the SQLite database, attachments, models and keys in one archive.

Safe while Resonanz runs: the database is copied with SQLite's online backup API, which reads a consistent
snapshot while the web server and the worker keep writing (WAL mode), and the files are copied *after* the
snapshot, so every attachment the snapshot knows is in the archive (files written meanwhile are harmless
extras). Under a constant stream of writes the step-wise copy would restart again and again; after a few
restarts it copies the rest in one step, which holds only a read lock.

PostgreSQL installations use pg_dump/pg_restore for the database (docs/operations.md) and this archive's
files part is then the same directory copy.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tqdm import tqdm

FORMAT = 1
DATABASE = "database.sqlite3"
KEY_FILES = ("secret_key", "encryption_key")
PAGES_PER_STEP = 1024
MAX_RESTARTS = 3


class BackupError(Exception):
    """Something the administrator must fix; the message says what."""


@dataclass
class Layout:
    """Where an instance keeps what a backup holds."""

    database: Path
    var_dir: Path
    media: Path
    models: Path

    def folders(self) -> dict[str, Path]:
        return {"media": self.media, "models": self.models}


class _Restarted(Exception):
    pass


def copy_database(source: Path, target: Path, bar: Callable[[int, int], None] | None = None) -> None:
    """A consistent copy of a live SQLite database (online backup API), with progress ``bar(done, total)``."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(target)
    try:
        seen = {"remaining": None, "restarts": 0}

        def progress(_status, remaining, total):
            if seen["remaining"] is not None and remaining > seen["remaining"]:
                seen["restarts"] += 1  # another connection wrote: SQLite starts over
                if seen["restarts"] > MAX_RESTARTS:
                    raise _Restarted
            seen["remaining"] = remaining
            if bar:
                bar(total - remaining, total)

        try:
            src.backup(dst, pages=PAGES_PER_STEP, progress=progress)
        except _Restarted:
            src.backup(dst, pages=-1)  # one step: a read lock for the whole copy, writers go on (WAL)
            if bar:
                total = dst.execute("PRAGMA page_count").fetchone()[0]
                bar(total, total)
        check = dst.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"the copy of the database failed its integrity check: {check}")
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file in the archive
    finally:
        src.close()
        dst.close()


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def backup(layout: Layout, archive: Path, *, show_progress: bool = True) -> dict:
    """Write ``archive`` (.tar.gz); returns its manifest."""
    if not layout.database.exists():
        raise BackupError(f"no database at {layout.database}")
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=archive.parent) as work:
        copy = Path(work) / DATABASE
        with tqdm(desc="database", unit="pages", disable=not show_progress) as bar:
            def on_pages(done: int, total: int) -> None:
                bar.total = total
                bar.n = done
                bar.refresh()

            copy_database(layout.database, copy, on_pages)
        files = {name: _files(folder) for name, folder in layout.folders().items()}
        keys = [layout.var_dir / k for k in KEY_FILES if (layout.var_dir / k).exists()]
        manifest = {
            "format": FORMAT, "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "database": {"file": DATABASE, "sha256": _sha256(copy), "bytes": copy.stat().st_size},
            "files": {name: len(found) for name, found in files.items()},
            "keys": [k.name for k in keys],
        }
        partial = archive.with_name(archive.name + ".partial")
        total = sum(p.stat().st_size for found in files.values() for p in found)
        with tarfile.open(partial, "w:gz") as tar, tqdm(total=total, desc="files", unit="B", unit_scale=True,
                                                          disable=not show_progress) as bar:
            data = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo("MANIFEST.json")
            info.size = len(data)
            tar.addfile(info, _BytesReader(data))
            tar.add(copy, DATABASE)
            for key in keys:
                tar.add(key, f"keys/{key.name}")
            for name, found in files.items():
                root = layout.folders()[name]
                for path in found:
                    try:
                        tar.add(path, f"{name}/{path.relative_to(root)}")
                    except FileNotFoundError:  # deleted while we copied (erasure): the snapshot decides
                        continue
                    bar.update(path.stat().st_size if path.exists() else 0)
        partial.chmod(0o600)  # the archive holds the database and the keys: the service's user only
        os.replace(partial, archive)  # a finished archive or none: never half of one under the real name
    return manifest


class _BytesReader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def read(self, size: int = -1) -> bytes:
        end = len(self.data) if size < 0 else self.pos + size
        chunk, self.pos = self.data[self.pos:end], min(end, len(self.data))
        return chunk


def read_manifest(archive: Path) -> dict:
    try:
        with tarfile.open(archive, "r:gz") as tar:
            member = tar.extractfile("MANIFEST.json")
            if member is None:
                raise KeyError
            manifest = json.loads(member.read())
    except (OSError, tarfile.TarError, KeyError, ValueError) as exc:
        raise BackupError(f"{archive} is not a Resonanz backup ({exc})") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{archive} has backup format {manifest.get('format')}, this version reads {FORMAT}")
    return manifest


def restore(layout: Layout, archive: Path, *, force: bool = False, show_progress: bool = True) -> dict:
    """Put the archive's database, files and keys in place. Refuses to overwrite data unless ``force``."""
    manifest = read_manifest(archive)
    if not force and _has_data(layout.database):
        raise BackupError(f"{layout.database} already holds conversations; stop Resonanz and pass --force "
                          "to replace them with the backup")
    with tempfile.TemporaryDirectory(dir=layout.var_dir) as work:
        with tarfile.open(archive, "r:gz") as tar:
            members = [m for m in tar.getmembers() if m.isfile()]
            with tqdm(total=sum(m.size for m in members), desc="restore", unit="B", unit_scale=True,
                      disable=not show_progress) as bar:
                for member in members:
                    tar.extract(member, work, filter="data")  # no absolute paths, links or ../ escapes
                    bar.update(member.size)
        root = Path(work)
        copy = root / DATABASE
        if _sha256(copy) != manifest["database"]["sha256"]:
            raise BackupError("the database in the archive is damaged (checksum mismatch); nothing was changed")
        layout.database.parent.mkdir(parents=True, exist_ok=True)
        src, dst = sqlite3.connect(copy), sqlite3.connect(layout.database, timeout=30)
        try:
            src.backup(dst)  # through SQLite's locks, so a forgotten running process sees a whole database
            dst.execute("PRAGMA journal_mode=WAL")
        finally:
            src.close()
            dst.close()
        for name, folder in layout.folders().items():
            if (root / name).exists():
                shutil.copytree(root / name, folder, dirs_exist_ok=True)
        for key in manifest.get("keys", []):
            if key in KEY_FILES and (root / "keys" / key).exists():
                target = layout.var_dir / key
                shutil.copyfile(root / "keys" / key, target)
                target.chmod(0o600)
    return manifest


def _has_data(database: Path) -> bool:
    if not database.exists():
        return False
    con = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        return bool(con.execute("SELECT 1 FROM inbox_conversation LIMIT 1").fetchone())
    except sqlite3.Error:
        return False
    finally:
        con.close()


def layout() -> Layout:
    """This instance's layout, from the settings."""
    from django.conf import settings
    from django.db import connection

    return Layout(database=Path(connection.settings_dict["NAME"]), var_dir=Path(settings.VAR_DIR),
                  media=Path(settings.MEDIA_ROOT), models=Path(settings.RESONANZ_MODEL_DIR))
