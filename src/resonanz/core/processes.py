"""Process safety: no child outlives the process that started it, and one schedule has one scheduler.

``resonanz run`` starts the web server and the worker; the worker starts its beat scheduler as a child. When a
parent is killed with SIGKILL it cannot clean up, so each child asks the kernel for a parent-death signal
(Linux ``PR_SET_PDEATHSIG``) and ``resonanz run`` also puts the worker in a process group of its own and stops
the whole group. Two schedulers on one schedule file would run every periodic task twice (two pipeline
sweeps, two retention runs): the scheduler holds an exclusive lock next to its schedule file, and a second
one stops at start with a message naming the file.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import fcntl
import logging
import os
import signal
import sys

log = logging.getLogger("resonanz.core.processes")

PR_SET_PDEATHSIG = 1
_held_locks: dict[str, int] = {}


def die_with_parent(sig: int = signal.SIGTERM) -> bool:
    """Ask the kernel to send ``sig`` to this process when its parent dies; False where it cannot (not Linux).

    Safe to call between fork and exec (``Popen(preexec_fn=...)``): no allocation beyond the ctypes call.
    """
    if not sys.platform.startswith("linux"):
        return False
    parent = os.getppid()
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0) != 0:
        return False
    if os.getppid() != parent:  # the parent died before the request took effect
        os.kill(os.getpid(), sig)
    return True


class ScheduleLocked(RuntimeError):
    pass


def hold_schedule_lock(schedule_file: str) -> str:
    """Take the schedule's lock for the life of this process, or raise ScheduleLocked naming the holder."""
    path = f"{schedule_file}.lock"
    if path in _held_locks:
        return path
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
        os.close(fd)
        raise ScheduleLocked(f"another scheduler (pid {holder}) runs on {schedule_file}; this one stops so "
                             "periodic tasks do not run twice") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    _held_locks[path] = fd  # kept open: the kernel releases the lock when this process ends, however it ends
    return path


def on_beat_init(sender=None, **_kwargs) -> None:
    """Celery's ``beat_init``: the scheduler dies with its worker and refuses to be the second one."""
    die_with_parent(signal.SIGTERM)
    try:
        hold_schedule_lock(str(sender.schedule_filename))
    except ScheduleLocked as exc:
        log.error("%s", exc)
        logging.shutdown()
        os._exit(3)  # Celery swallows exceptions of signal handlers; a second scheduler must not tick at all
