"""Files Resonanz creates are readable only by the service's user.

The database (and its -wal/-shm files), the broker database, attachments, backups, exports, logs and the
kept secrets all live under var/. Every entry point (``resonanz …``, the WSGI/ASGI servers, the Celery
worker) sets the umask to 077 before it creates anything, so new files are 0600 and new folders 0700 no
matter which library writes them; ``secure_var_dir`` tightens what an older version left more open.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger("resonanz.core")

PRIVATE_UMASK = 0o077
FILE_MODE, DIR_MODE = 0o600, 0o700


def use_private_umask() -> None:
    """From now on this process creates files 0600 and folders 0700."""
    os.umask(PRIVATE_UMASK)


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to a new or existing file that only the owner can read, whatever the umask."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb", closefd=False) as handle:
            handle.write(data)
    finally:
        os.close(fd)


def _tighten(path: Path, mode: int) -> None:
    try:
        if path.stat().st_mode & 0o777 & ~mode:
            path.chmod(mode)
    except OSError as exc:  # not ours (a shared mount): say so, do not fail the start
        log.warning("could not restrict %s to mode %o: %s", path, mode, exc)


def secure_var_dir(var_dir: Path, *extra_files: Path) -> None:
    """var/ and its folders 0700, the files directly in it (databases, secrets, schedule) 0600.

    Cheap: it looks at var/ itself and one level below, not at every attachment (new ones are created
    private by the umask and FILE_UPLOAD_PERMISSIONS)."""
    if not var_dir.exists():
        return
    _tighten(var_dir, DIR_MODE)
    for entry in var_dir.iterdir():
        if entry.is_symlink():
            continue
        _tighten(entry, DIR_MODE if entry.is_dir() else FILE_MODE)
    for path in extra_files:
        for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
            if candidate.exists():
                _tighten(candidate, FILE_MODE)
