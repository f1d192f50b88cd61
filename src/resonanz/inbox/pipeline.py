"""The background work every stored inbound message goes through, in batches, in the worker.

The extension point: RESONANZ_PIPELINE_STEPS lists dotted paths of functions that take a
list of messages (analysis, rules, automatic answers register here). A message stays
"pending" until every step ran; a worker that crashes mid-batch leaves it "running" with a
claim time, and the periodic sweep hands it out again. Nothing is lost.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from resonanz.inbox.models import Message

log = logging.getLogger("resonanz.pipeline")
CLAIM_TIMEOUT = timedelta(minutes=5)
_extra_steps: list[str] = []


def register_step(path: str) -> None:
    """Apps add their step at start-up; settings can still reorder or replace the list."""
    if path not in _extra_steps:
        _extra_steps.append(path)


def steps() -> list[Callable[[list[Message]], None]]:
    paths = settings.RESONANZ_PIPELINE_STEPS or _extra_steps
    return [import_string(p) for p in paths]


def claim(batch_size: int) -> list[Message]:
    """Take up to ``batch_size`` pending messages (and stale claims) for this worker."""
    now = timezone.now()
    with transaction.atomic():
        stale = Message.objects.filter(
            pipeline_state=Message.Pipeline.RUNNING, pipeline_claimed_at__lt=now - CLAIM_TIMEOUT
        )
        stale.update(pipeline_state=Message.Pipeline.PENDING)
        query = Message.objects.filter(pipeline_state=Message.Pipeline.PENDING).order_by("id")
        if transaction.get_connection().features.has_select_for_update_skip_locked:
            query = query.select_for_update(skip_locked=True)
        ids = list(query.values_list("id", flat=True)[:batch_size])
        if ids:
            Message.objects.filter(id__in=ids).update(
                pipeline_state=Message.Pipeline.RUNNING, pipeline_claimed_at=now
            )
    return list(
        Message.objects.filter(id__in=ids).select_related("conversation", "channel", "author_contact").order_by("id")
    )


def run_batch(batch_size: int | None = None) -> int:
    """Process one batch; returns how many messages it finished."""
    messages = claim(batch_size or settings.RESONANZ_PIPELINE_BATCH)
    if not messages:
        return 0
    for step in steps():
        try:
            step(messages)
        except Exception as exc:
            # One broken step must not hold back the batch forever: record it and go on.
            log.exception("pipeline step %s failed", getattr(step, "__name__", step))
            Message.objects.filter(id__in=[m.id for m in messages]).update(
                pipeline_error=f"{getattr(step, '__name__', step)}: {exc}"[:2000]
            )
    Message.objects.filter(id__in=[m.id for m in messages]).update(
        pipeline_state=Message.Pipeline.DONE, pipeline_claimed_at=None
    )
    return len(messages)


def run_until_empty(limit: int = 100_000) -> int:
    done = 0
    while done < limit:
        n = run_batch()
        if not n:
            break
        done += n
    return done


class _Kicker:
    """Sends ``process_pending`` from a background thread, at most once per interval.

    Enqueuing costs a broker round trip (tens of milliseconds on the SQLite broker); a web request or
    an import must not wait for it. If the broker is unreachable nothing is lost: the periodic
    sweep finds the pending messages.
    """

    interval = 1.0

    def __init__(self) -> None:
        self.wanted = threading.Event()
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()

    def request(self) -> None:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            _send()  # tests and eager mode: run the pipeline now, in this thread
            return
        self.wanted.set()
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="resonanz-pipeline-kick", daemon=True)
                self.thread.start()

    def _run(self) -> None:
        while self.wanted.wait(timeout=60):
            self.wanted.clear()
            _send()
            time.sleep(self.interval)


_last_warning = 0.0


def _send() -> None:
    global _last_warning
    from resonanz.inbox.tasks import process_pending

    try:
        process_pending.delay()
    except Exception as exc:
        if time.monotonic() - _last_warning > 60:  # one line a minute, not a traceback a second
            _last_warning = time.monotonic()
            log.warning("broker unreachable (%s); pending messages will be picked up by the next sweep", exc)


_kicker = _Kicker()


def kick() -> None:
    """Ask the worker to process pending messages soon; never blocks the caller."""
    _kicker.request()
