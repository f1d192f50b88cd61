"""Celery tasks of the inbox: the pipeline and delivery of replies."""

from __future__ import annotations

from celery import shared_task

from resonanz.inbox import pipeline


@shared_task(name="resonanz.inbox.tasks.process_pending")
def process_pending() -> int:
    """Finish every pending message in batches; also run by beat as a sweep after crashes."""
    done = pipeline.run_until_empty()
    _deliver_queued()
    return done


@shared_task(name="resonanz.inbox.tasks.deliver_message", autoretry_for=(), acks_late=True)
def deliver_message(message_id: int) -> str:
    from resonanz.inbox.actions import deliver
    from resonanz.inbox.models import Message

    message = Message.objects.select_related("channel", "conversation").filter(pk=message_id).first()
    if not message:
        return "missing"
    return deliver(message).delivery_status


def _deliver_queued() -> None:
    """Replies whose delivery task was lost (broker down, worker crash) go out on the next sweep."""
    from datetime import timedelta

    from django.utils import timezone

    from resonanz.inbox.actions import deliver
    from resonanz.inbox.models import Message

    cutoff = timezone.now() - timedelta(minutes=1)
    for message in Message.objects.select_related("channel", "conversation").filter(
        direction=Message.Direction.OUTBOUND, delivery_status=Message.Delivery.QUEUED, sent_at__lt=cutoff
    )[:200]:
        deliver(message)
