"""A batch that outlives the claim timeout is not processed twice, and the slower worker stamps nothing.

Two workers are played in one process by calling ``claim`` and ``run_items`` as each worker would; the
claim time on the rows is the token that tells them apart.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from resonanz.core import pipeline
from resonanz.core.models import PipelineState
from resonanz.inbox.actions import ingest
from resonanz.inbox.models import Message
from tests.conftest import inbound


@pytest.fixture
def pending(settings, api_channel):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # leave the messages pending, as the web request does
    for n in range(3):
        ingest(api_channel, inbound(f"c{n}", f"k{n}@example.com", f"Nachricht {n}"))
    assert Message.objects.filter(pipeline_state="pending").count() == 3
    return pipeline.sources()[[s.kind for s in pipeline.sources()].index("message")]


def expire(ids) -> None:
    Message.objects.filter(id__in=ids).update(pipeline_claimed_at=timezone.now() - pipeline.CLAIM_TIMEOUT
                                              - timedelta(seconds=1))


def test_a_batch_taken_over_mid_way_is_left_to_the_new_worker(pending, monkeypatch):
    runs: list[tuple[str, tuple]] = []

    def first(items):
        runs.append(("first", tuple(i.pk for i in items)))
        if len(runs) == 1:  # worker A is slow: its claim expires and worker B takes the batch and finishes it
            expire([i.pk for i in items])
            taken = pipeline.claim(pending, 10)
            pipeline.run_items("message", taken)

    def second(items):
        runs.append(("second", tuple(i.pk for i in items)))
        raise RuntimeError("UNIQUE constraint failed")  # what a repeated step would hit

    monkeypatch.setattr(pipeline, "steps", lambda kind: [first, second])
    batch = pipeline.claim(pending, 10)
    ids = tuple(m.pk for m in batch)
    pipeline.run_items("message", batch)
    # A ran step one, B ran both steps; A did not run step two on B's items
    assert runs == [("first", ids), ("first", ids), ("second", ids)]
    assert set(Message.objects.filter(id__in=ids).values_list("pipeline_state", flat=True)) == {"done"}
    errors = set(Message.objects.filter(id__in=ids).values_list("pipeline_error", flat=True))
    assert errors == {"second: UNIQUE constraint failed"}  # B's own error, recorded once; A stamped nothing


def test_the_slow_worker_does_not_undo_or_redo_the_new_workers_work(pending, monkeypatch):
    ran = []
    monkeypatch.setattr(pipeline, "steps", lambda kind: [lambda items: ran.append(len(items))])
    slow = pipeline.claim(pending, 10)
    expire([m.pk for m in slow])
    fast = pipeline.claim(pending, 10)
    assert {m.pk for m in fast} == {m.pk for m in slow}
    Message.objects.filter(id=fast[0].pk).update(pipeline_state=PipelineState.RUNNING)
    pipeline.run_items("message", slow)  # the slow worker wakes up: nothing of it is its own any more
    assert ran == []
    assert set(Message.objects.values_list("pipeline_state", flat=True)) == {"running"}
    pipeline.run_items("message", fast)
    assert ran == [3] and set(Message.objects.values_list("pipeline_state", flat=True)) == {"done"}


def test_items_without_a_claim_run_as_before(pending, monkeypatch):
    ran = []
    monkeypatch.setattr(pipeline, "steps", lambda kind: [lambda items: ran.append(len(items))])
    pipeline.run_items("message", list(Message.objects.all()))
    assert ran == [3] and set(Message.objects.values_list("pipeline_state", flat=True)) == {"done"}


def test_each_stage_of_a_batch_is_timed_with_its_items(pending, monkeypatch):
    """bench/pipeline.py reports where a worker's time goes from these counters; a failing step counts too."""
    import time

    def reading(items):
        time.sleep(0.01)

    def broken(items):
        raise RuntimeError("broken")

    monkeypatch.setattr(pipeline, "steps", lambda kind: [reading, broken])
    pipeline.reset_timings()
    assert pipeline.run_until_empty() == 3
    timings = pipeline.reset_timings()
    assert timings["reading"][1] == 3 and timings["reading"][0] >= 0.01
    assert timings["broken"][1] == 3
    assert timings["claim"][1] == 3 and timings["finish"][1] == 3
    assert pipeline.timings == {}
