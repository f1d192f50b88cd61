"""The background work every stored item goes through, in batches, in the worker.

Apps register *sources* (a model with the PipelineItem state: the inbox's messages, listening's
posts) and *steps* (functions taking a list of items of the kinds they name): text understanding reads
messages and posts, rules act on both, the knowledge base suggests and answers messages. A batch is
claimed per source, every step runs over it, and the items are marked done. One broken step never holds
back the batch; a worker that dies leaves its claim, which the sweep hands out again after
CLAIM_TIMEOUT. Steps must therefore be idempotent (a retried batch neither analyses nor answers twice).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.module_loading import import_string

from resonanz.core.models import PipelineState

log = logging.getLogger("resonanz.pipeline")
CLAIM_TIMEOUT = timedelta(minutes=5)  # the default of settings.RESONANZ_PIPELINE_CLAIM_SECONDS


def claim_timeout() -> timedelta:
    """How long a claim of a vanished worker blocks its batch; short on hosts that restart fast."""
    return timedelta(seconds=getattr(settings, "RESONANZ_PIPELINE_CLAIM_SECONDS", CLAIM_TIMEOUT.total_seconds()))


@dataclass
class Source:
    kind: str
    model: type[Model]
    select_related: tuple[str, ...] = ()


_sources: dict[str, Source] = {}
_steps: dict[str, tuple[str, ...]] = {}  # dotted path -> the kinds it handles, in registration order
#: seconds and items per stage in this process ("claim", "renew", each step by name, parts of steps, "finish"):
#: where a worker's time goes (bench/pipeline.py); a few additions per batch, always on
timings: dict[str, list[float]] = {}


def _timed(stage: str, started: float, items: int) -> None:
    entry = timings.setdefault(stage, [0.0, 0])
    entry[0] += time.perf_counter() - started
    entry[1] += items


@contextmanager
def timed(stage: str, items: int = 0):
    """Count the time of a part of a step under its own name (``knowledge.steps`` splits suggestions and answers)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        _timed(stage, started, items)


def reset_timings() -> dict[str, list[float]]:
    """The timings so far; counting starts afresh."""
    global timings
    done, timings = timings, {}
    return done


def register_source(kind: str, model: type[Model], *, select_related: tuple[str, ...] = ()) -> None:
    _sources[kind] = Source(kind, model, select_related)


def register_step(path: str, kinds: tuple[str, ...] = ("message",)) -> None:
    """Apps add their step at start-up (INSTALLED_APPS order); RESONANZ_PIPELINE_STEPS can reorder or replace."""
    _steps.setdefault(path, tuple(kinds))


def steps(kind: str) -> list[Callable[[list], None]]:
    paths = settings.RESONANZ_PIPELINE_STEPS or list(_steps)
    return [import_string(p) for p in paths if kind in _steps.get(p, ("message",))]


def sources() -> list[Source]:
    return list(_sources.values())


def claim(source: Source, batch_size: int) -> list:
    """Take up to ``batch_size`` pending items of one source (and stale claims) for this worker."""
    model = source.model
    started = time.perf_counter()
    now = timezone.now()
    with transaction.atomic():
        model.objects.filter(pipeline_state=PipelineState.RUNNING,
                             pipeline_claimed_at__lt=now - claim_timeout()).update(pipeline_state=PipelineState.PENDING)
        query = model.objects.filter(pipeline_state=PipelineState.PENDING).order_by("id")
        if transaction.get_connection().features.has_select_for_update_skip_locked:
            query = query.select_for_update(skip_locked=True)
        ids = list(query.values_list("id", flat=True)[:batch_size])
        if ids:
            model.objects.filter(id__in=ids).update(pipeline_state=PipelineState.RUNNING, pipeline_claimed_at=now)
    items = list(model.objects.filter(id__in=ids).select_related(*source.select_related).order_by("id"))
    _timed("claim", started, len(items))
    return items


def renew_claim(model, ids: list, claimed_at) -> tuple[set, object]:
    """Renew this worker's claim on ``ids`` before the next step; returns the ids still ours and the new claim.

    The claim time is the token: a batch that outlived CLAIM_TIMEOUT may have been handed to another worker,
    which stamped its own time; those items are no longer ours and this worker leaves them to it, so nothing
    is processed twice and nothing done is stamped failed by the slower worker.
    """
    now = timezone.now()
    if now == claimed_at:
        now += timedelta(microseconds=1)
    model.objects.filter(id__in=ids, pipeline_state=PipelineState.RUNNING,
                         pipeline_claimed_at=claimed_at).update(pipeline_claimed_at=now)
    return set(model.objects.filter(id__in=ids, pipeline_claimed_at=now).values_list("id", flat=True)), now


def run_items(kind: str, items: list) -> None:
    """Run every step for ``kind`` over ``items`` and mark them done (a failed step is recorded on them).

    Items claimed by ``claim`` carry their claim time; before every step the claim is renewed and items
    another worker took over meanwhile are dropped from this batch (see ``renew_claim``)."""
    model = type(items[0])
    claimed_at = items[0].pipeline_claimed_at
    owned = claimed_at is not None and all(i.pipeline_claimed_at == claimed_at for i in items)
    for step in steps(kind):
        if owned:
            started = time.perf_counter()
            mine, claimed_at = renew_claim(model, [i.pk for i in items], claimed_at)
            _timed("renew", started, len(items))
            lost = [i.pk for i in items if i.pk not in mine]
            if lost:
                log.warning("pipeline: %s %s… were handed to another worker after %s; this one leaves them",
                            kind, lost[:5], claim_timeout())
                items = [i for i in items if i.pk in mine]
            if not items:
                return
        ids = [i.pk for i in items]
        started = time.perf_counter()
        try:
            with step_transaction():
                step(items)
        except Exception as exc:
            log.exception("pipeline step %s failed on %s %s…", getattr(step, "__name__", step), kind, ids[:5])
            _mine(model, ids, claimed_at if owned else None).update(
                pipeline_error=f"{getattr(step, '__name__', step)}: {exc}"[:2000])
        _timed(getattr(step, "__name__", str(step)), started, len(items))
    started = time.perf_counter()
    _mine(model, [i.pk for i in items], claimed_at if owned else None).update(
        pipeline_state=PipelineState.DONE, pipeline_claimed_at=None)
    _timed("finish", started, len(items))


def step_transaction():
    """One transaction per step and batch where a commit is dear (PostgreSQL: each waits for its WAL flush;
    a batch's steps committed item by item spent more time committing than working). Not on SQLite: there a
    write transaction locks the whole database, and a batch-long one would make every other worker and the
    web server's ingestion wait; each item commits on its own, which WAL with synchronous=NORMAL makes cheap.
    A step that raises is rolled back for the whole batch (and recorded on every item); steps catch what one
    item may raise inside a savepoint of its own. RESONANZ_PIPELINE_STEP_TRANSACTION: auto, on or off."""
    mode = getattr(settings, "RESONANZ_PIPELINE_STEP_TRANSACTION", "auto")
    if mode == "on" or (mode == "auto" and transaction.get_connection().vendor != "sqlite"):
        return transaction.atomic()
    return nullcontext()


def _mine(model, ids: list, claimed_at):
    qs = model.objects.filter(id__in=ids)
    return qs.filter(pipeline_claimed_at=claimed_at) if claimed_at is not None else qs


def run_batch(batch_size: int | None = None) -> int:
    """One batch of every source; returns how many items it finished."""
    done = 0
    for source in sources():
        items = claim(source, batch_size or settings.RESONANZ_PIPELINE_BATCH)
        if items:
            run_items(source.kind, items)
            done += len(items)
    return done


def run_until_empty(limit: int = 100_000) -> int:
    done = 0
    while done < limit:
        n = run_batch()
        if not n:
            break
        done += n
    return done


def run_now(kind: str, ids: list, *, wait: float = 60.0) -> None:
    """Run the pipeline over these items in this process, now, when the caller needs the results before it goes on
    (the demo loader answers a conversation the way an agent would after reading its analysis and routing).

    The items are claimed like a batch, so a worker woken by the same ingest never runs them twice; items a worker
    claimed first are waited for (up to ``wait`` seconds) instead."""
    source = _sources[kind]
    model = source.model
    now = timezone.now()
    with transaction.atomic():
        query = model.objects.filter(id__in=ids, pipeline_state=PipelineState.PENDING)
        if transaction.get_connection().features.has_select_for_update_skip_locked:
            query = query.select_for_update(skip_locked=True)
        mine = list(query.values_list("id", flat=True))
        if mine:
            model.objects.filter(id__in=mine).update(pipeline_state=PipelineState.RUNNING, pipeline_claimed_at=now)
    if mine:
        run_items(kind, list(model.objects.filter(id__in=mine).select_related(*source.select_related).order_by("id")))
    deadline = time.monotonic() + wait
    busy = (PipelineState.PENDING, PipelineState.RUNNING)
    while model.objects.filter(id__in=ids, pipeline_state__in=busy).exists() and time.monotonic() < deadline:
        time.sleep(0.2)


@shared_task(name="resonanz.core.tasks.process_pending")
def process_pending() -> int:
    """Finish every pending item in batches; also run by beat as a sweep after crashes."""
    return run_until_empty()


class _Kicker:
    """Sends ``process_pending`` from a background thread, at most once per interval.

    Enqueuing costs a broker round trip (tens of milliseconds on the SQLite broker); a web request or
    an import must not wait for it. If the broker is unreachable nothing is lost: the periodic
    sweep finds the pending items.
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
    try:
        process_pending.delay()
    except Exception as exc:
        if time.monotonic() - _last_warning > 60:  # one line a minute, not a traceback a second
            _last_warning = time.monotonic()
            log.warning("broker unreachable (%s); pending items will be picked up by the next sweep", exc)


_kicker = _Kicker()


def kick() -> None:
    """Ask the worker to process pending items soon; never blocks the caller."""
    _kicker.request()
