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


_last_kick = 0.0
_kick_lock = threading.Lock()
KICK_INTERVAL = 1.0


def kick() -> None:
    """Ask the worker to process pending messages; throttled so a burst of ingests sends one task.

    If the broker is unreachable nothing is lost: the periodic sweep finds the pending messages.
    """
    global _last_kick
    from resonanz.inbox.tasks import process_pending

    with _kick_lock:
        now = time.monotonic()
        if settings.CELERY_TASK_ALWAYS_EAGER:
            pass
        elif now - _last_kick < KICK_INTERVAL:
            return
        _last_kick = now
    try:
        process_pending.delay()
    except Exception:
        log.warning("broker unreachable; pending messages will be picked up by the next sweep", exc_info=True)
