"""Delivery of outbound messages, seen from the inbox: queue, hand to the channel, record the outcome.

Sending itself belongs to the channels (``connectors.delivery.attempt`` asks the driver and decides
whether a failure is worth another try). Every outcome (sent, stored, failed, a retry, a bounce, a
platform's delivered or read receipt) is written by ``record_delivery`` or ``apply_delivery_updates``.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from resonanz.connectors import delivery as channel_delivery
from resonanz.connectors.drivers import SendResult
from resonanz.connectors.intake import DeliveryUpdate
from resonanz.connectors.models import Channel
from resonanz.core.events import publish
from resonanz.inbox.eventlog import record
from resonanz.inbox.models import EarlyReceipt, Message

log = logging.getLogger("resonanz.inbox")
MAX_ATTEMPTS = channel_delivery.MAX_ATTEMPTS
#: how long a notice about an id none of our messages has yet waits for that message
EARLY_RECEIPT_DAYS = 2


@shared_task(name="resonanz.inbox.tasks.deliver_message", autoretry_for=(), acks_late=True)
def deliver_message(message_id: int) -> str:
    message = Message.objects.select_related("channel", "conversation").filter(pk=message_id).first()
    if not message:
        return "missing"
    return deliver(message).delivery_status


@shared_task(name="resonanz.inbox.tasks.deliver_queued")
def deliver_queued() -> int:
    """Replies whose delivery task was lost (broker down, worker crash) or that wait for a retry go out here."""
    cutoff = timezone.now() - timedelta(minutes=1)
    queued = Message.objects.select_related("channel", "conversation").filter(
        direction=Message.Direction.OUTBOUND, delivery_status=Message.Delivery.QUEUED, sent_at__lt=cutoff)[:200]
    for message in queued:
        deliver(message)
    return len(queued)


def deliver_later(message_id: int) -> None:
    try:
        deliver_message.delay(message_id)
    except Exception:  # broker down: the periodic sweep delivers queued messages later
        log.exception("could not enqueue delivery of message %s", message_id)


def deliver(message: Message) -> Message:
    """Hand a queued outbound message to its channel and record the outcome."""
    if message.delivery_status != Message.Delivery.QUEUED:
        return message
    attempts = int((message.meta or {}).get("delivery_attempts", 0))
    return record_delivery(message, channel_delivery.attempt(message, attempts))


def record_delivery(message: Message, result: SendResult) -> Message:
    """The one place a delivery outcome is written: a send, a retry, a bounce, a platform's receipt."""
    if result.status == "retry":
        attempts = int((message.meta or {}).get("delivery_attempts", 0)) + 1
        message.meta = {**(message.meta or {}), "delivery_attempts": attempts}
        with transaction.atomic():
            Message.objects.filter(pk=message.pk).update(
                meta=message.meta, delivery_detail=f"attempt {attempts} of {MAX_ATTEMPTS} failed, "
                                                   f"will retry: {result.detail}")
            record(message.conversation, "delivery_retry", message_id=message.pk, reason=result.detail)
        return message
    with transaction.atomic():
        message.delivery_status = result.status
        message.delivery_detail = result.detail[:2000]
        fields = ["delivery_status", "delivery_detail", "meta"]
        if result.external_id:
            message.external_id = result.external_id
            fields.append("external_id")
        message.save(update_fields=fields)
        record(message.conversation, "delivery_" + result.status, message_id=message.pk, reason=result.detail)
    publish("message.delivery", message_id=message.pk, conversation_id=message.conversation_id)
    if result.external_id and result.status == "sent":
        _apply_early_receipts(message)
    return message


def _apply_early_receipts(message: Message) -> None:
    """Notices about this message that arrived before its send recorded the id: applied now, in their order."""
    early = list(EarlyReceipt.objects.filter(channel_id=message.channel_id, external_id=message.external_id)
                 .order_by("id"))
    if not early:
        return
    apply_delivery_updates(message.channel, [
        DeliveryUpdate(message_ids=[e.external_id], status=e.status, detail=e.detail, source_id=e.source_id, at=e.at)
        for e in early])
    EarlyReceipt.objects.filter(pk__in=[e.pk for e in early]).delete()


def _keep_early(channel: Channel, update: DeliveryUpdate, ids: list[str]) -> None:
    """A delivered, read or failed notice for ids none of our messages has yet: kept for ``record_delivery``."""
    for external_id in ids[:20]:
        EarlyReceipt.objects.get_or_create(channel=channel, external_id=external_id[:300], status=update.status,
                                           defaults={"detail": update.detail, "source_id": update.source_id[:300],
                                                     "at": update.at})
    EarlyReceipt.objects.filter(received_at__lt=timezone.now() - timedelta(days=EARLY_RECEIPT_DAYS)).delete()


def apply_delivery_updates(channel: Channel, updates: list[DeliveryUpdate]) -> list[int]:
    """What a platform says about our messages (bounces, receipts, auto-replies): the intake's handler.

    Returns how many messages each update changed; reading the same update again changes nothing.
    """
    changed = []
    for update in updates:
        ids = [i for i in update.message_ids if i][:200]
        messages = list(Message.objects.select_related("conversation").filter(
            channel=channel, direction=Message.Direction.OUTBOUND, external_id__in=ids)) if ids else []
        n = 0
        for message in messages:
            if update.status == "auto_reply":
                n += _note_auto_reply(message, update)
            elif update.status == "failed":
                if message.delivery_status != Message.Delivery.FAILED:
                    record_delivery(message, SendResult("failed", detail=update.detail))
                    n += 1
            else:
                n += _receipt(message, update)
        if not messages:
            log.info("%s: %s notice %s matches none of our messages (yet)", channel, update.status,
                     update.source_id)
            if update.status in ("delivered", "read", "failed"):
                _keep_early(channel, update, ids)
        changed.append(n)
    return changed


def _note_auto_reply(message: Message, update: DeliveryUpdate) -> int:
    """An out-of-office answer to one of our replies is shown as an event, never as a message."""
    if message.conversation.events.filter(kind="auto_reply_received", data__mail=update.source_id).exists():
        return 0
    record(message.conversation, "auto_reply_received", message_id=message.pk, mail=update.source_id,
           reason=update.detail)
    return 1


def _receipt(message: Message, update: DeliveryUpdate) -> int:
    """Delivered and read receipts go onto the message's meta, once each."""
    receipts = dict((message.meta or {}).get("receipts") or {})
    if update.status in receipts:
        return 0
    receipts[update.status] = (update.at or timezone.now()).isoformat()
    with transaction.atomic():
        Message.objects.filter(pk=message.pk).update(meta={**(message.meta or {}), "receipts": receipts})
        record(message.conversation, "delivery_" + update.status, message_id=message.pk, reason=update.detail)
    publish("message.delivery", message_id=message.pk, conversation_id=message.conversation_id)
    return 1


