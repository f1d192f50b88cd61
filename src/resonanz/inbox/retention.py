"""Retention: closed conversations older than a chosen age are deleted or anonymised.

Rules are set per channel, or once for every channel without a rule of its own (``RetentionRule``, the
settings page "Retention"). The worker's beat runs ``apply`` every hour; ``resonanz retention`` runs it with
a progress bar, and ``--dry-run`` (like the settings page) only counts what would go. Work is done in batches
of conversations, each in its own transaction, so a long first run neither holds a lock for minutes nor loses
what it finished when stopped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from resonanz.core import audit, hooks
from resonanz.core.errors import ActionError
from resonanz.crm.models import Contact, Identity
from resonanz.inbox.models import Attachment, Conversation, ConversationEvent, Message, RetentionRule
from resonanz.inbox.privacy import delete_files_after_commit

CLOSED = (Conversation.Status.RESOLVED, Conversation.Status.CLOSED)
BATCH = 200
ANONYMOUS_HANDLE = "anonymised@resonanz.invalid"


@dataclass
class Due:
    rule: RetentionRule
    count: int


def due_conversations(rule: RetentionRule, now=None) -> QuerySet:
    """Closed conversations the rule covers whose last activity is older than its days."""
    cutoff = (now or timezone.now()) - timedelta(days=rule.days)
    qs = Conversation.objects.filter(status__in=CLOSED, last_activity_at__lt=cutoff)
    if rule.channel_id:
        qs = qs.filter(channel_id=rule.channel_id)
    else:  # the global rule covers channels without a rule of their own
        qs = qs.exclude(channel__retention_rule__isnull=False)
    if rule.action == RetentionRule.Action.ANONYMISE:
        qs = qs.exclude(contact__identities__handle=ANONYMOUS_HANDLE)  # done already
    return qs


def plan(now=None) -> list[Due]:
    """What a run would do now, per enabled rule: the dry run."""
    return [Due(rule, due_conversations(rule, now).count())
            for rule in RetentionRule.objects.filter(enabled=True).select_related("channel")]


def apply(*, now=None, progress: Callable[[int], None] | None = None, actor=None, actor_label: str = "") -> int:
    """Delete or anonymise every due conversation; returns how many. One audit entry per rule that acted."""
    now = now or timezone.now()
    total = 0
    for rule in RetentionRule.objects.filter(enabled=True).select_related("channel"):
        done = 0
        while True:
            ids = list(due_conversations(rule, now).order_by("pk").values_list("pk", flat=True)[:BATCH])
            if not ids:
                break
            with transaction.atomic():
                if rule.action == RetentionRule.Action.DELETE:
                    _delete(ids)
                else:
                    _anonymise(ids)
            done += len(ids)
            if progress:
                progress(len(ids))
        RetentionRule.objects.filter(pk=rule.pk).update(last_run_at=now, last_count=done)
        if done:
            audit.record(f"retention.{rule.action}", actor=actor, actor_label=actor_label or "retention",
                         target_type="inbox.retentionrule", target_id=rule.pk, target_label=str(rule),
                         conversations=done, days=rule.days)
        total += done
    return total


def _files(message_ids) -> list[str]:
    return [n for n in Attachment.objects.filter(message_id__in=message_ids).values_list("file", flat=True) if n]


def _delete(conversation_ids: list[int]) -> None:
    message_ids = list(Message.objects.filter(conversation_id__in=conversation_ids).values_list("pk", flat=True))
    names = _files(message_ids)
    Conversation.objects.filter(pk__in=conversation_ids).delete()
    delete_files_after_commit(names)


def anonymous_contact() -> Contact:
    """The one contact anonymised conversations belong to: they keep their numbers, not who it was."""
    identity = Identity.objects.filter(kind="other", handle=ANONYMOUS_HANDLE).select_related("contact").first()
    if identity:
        return identity.contact
    contact = Contact.objects.create(name="")
    Identity.objects.create(contact=contact, kind="other", handle=ANONYMOUS_HANDLE)
    return contact


def _anonymise(conversation_ids: list[int]) -> None:
    messages = Message.objects.filter(conversation_id__in=conversation_ids)
    message_ids = list(messages.values_list("pk", flat=True))
    names = _files(message_ids)
    Attachment.objects.filter(message_id__in=message_ids).delete()
    messages.update(text="", html="", subject="", meta={}, delivery_detail="", author_contact=None,
                    in_reply_to="")
    ConversationEvent.objects.filter(conversation_id__in=conversation_ids).update(reason="", data={})
    Conversation.objects.filter(pk__in=conversation_ids).update(subject="", contact=anonymous_contact(),
                                                               filtered_reason="")
    hooks.run("conversations_anonymised", conversation_ids=conversation_ids, message_ids=message_ids)
    delete_files_after_commit(names)


@transaction.atomic
def save_rule(*, channel=None, days: int, action: str, enabled: bool = True, actor=None) -> RetentionRule:
    """Create or change the rule of a channel (or the global one); audit-logged."""
    if not isinstance(days, int) or days < 1:
        raise ActionError("Keep conversations for at least 1 day.", "days")
    if action not in RetentionRule.Action.values:
        raise ActionError(f"Choose one of {', '.join(RetentionRule.Action.values)}.", "action")
    rule = RetentionRule.objects.filter(channel=channel).first() or RetentionRule(channel=channel)
    rule.days, rule.action, rule.enabled = days, action, enabled
    rule.save()
    audit.record("retention.rule", actor=actor, target=rule, days=days, then=action, enabled=enabled)
    return rule


@transaction.atomic
def delete_rule(rule: RetentionRule, *, actor=None) -> None:
    audit.record("retention.rule_delete", actor=actor, target=rule)
    rule.delete()
