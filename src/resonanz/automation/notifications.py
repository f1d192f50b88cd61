"""What rules send out of the building: emails to supervisors and teams, and the signed outgoing webhook.

Rules only queue a notification (after their transaction committed, so nothing is sent for a change
that was rolled back); a worker delivers it, through the outbound guard (core.outbound), so a webhook
never reaches an internal host. The receiver of a webhook checks ``X-Resonanz-Signature``:
``sha256=`` + HMAC-SHA256 of the raw body with the secret stored on the rule.
"""

from __future__ import annotations

import hashlib
import hmac
import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from resonanz.automation.effects import Event
from resonanz.automation.models import Rule
from resonanz.automation.ruleset import unpin
from resonanz.core import outbound
from resonanz.core.errors import ActionError
from resonanz.core.events import publish
from resonanz.inbox.eventlog import record
from resonanz.inbox.models import AgentProfile, Conversation

log = logging.getLogger("resonanz.automation")


def supervisor_emails() -> list[str]:
    return sorted(set(AgentProfile.objects.filter(role__in=("supervisor", "admin"), user__is_active=True,
                                                  is_bot=False).exclude(user__email="")
                      .values_list("user__email", flat=True)))


def report_to_supervisors(subject: str, body: str) -> None:
    to = supervisor_emails()
    if not to:
        return
    try:
        send_mail(subject, body, None, to, fail_silently=False)
    except Exception:
        log.exception("could not email supervisors about: %s", subject)


def event_payload(rule: Rule, event, why: str) -> dict:
    """The JSON a webhook receives (and the facts an email shows): the rule, the event and its analysis."""
    snap = event.snapshot
    conversation = event.conversation
    return {
        "event": "rule.matched", "rule": {"id": rule.pk, "name": rule.name}, "trigger": event.trigger,
        "event_key": event.key, "reason": why,
        "conversation": {"id": conversation.pk, "reference": conversation.reference,
                         "subject": conversation.subject, "team": conversation.team_id,
                         "status": conversation.status, "priority": conversation.priority,
                         "url": f"{settings.RESONANZ_BASE_URL.rstrip('/')}/inbox/conversations/{conversation.pk}/"}
        if conversation else None,
        "post": {"id": event.post.pk, "link": getattr(event.post, "link", "")} if event.post is not None else None,
        "message": {"id": snap.get("message.id"), "text": snap.get("message.text", "")[:2000]},
        "analysis": {"language": snap.get("analysis.language"), "sentiment": snap.get("analysis.sentiment"),
                     "intents": list(snap.get("analysis.intents") or ()),
                     "intent_confidence": snap.get("analysis.intent_confidence") or {},
                     "urgency": snap.get("analysis.urgency")},
    }


def send_later(kind: str, rule_id: int, data: dict, conversation_id: int | None) -> None:
    """Hand the notification to a worker; with the broker down, send it in this process rather than lose it."""
    try:
        send_notification.delay(kind, rule_id, data, conversation_id)
    except Exception:
        log.warning("broker unreachable; sending %s of rule %s here", kind, rule_id, exc_info=True)
        send_notification(kind, rule_id, data, conversation_id)


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver(kind: str, rule: Rule | None, data: dict) -> None:
    """Send one queued email or webhook; raises when it could not be delivered."""
    if kind == "email":
        send_mail(data["subject"], data["body"], None, [data["to"]], fail_silently=False)
        return
    action = next((a for a in (rule.actions if rule else []) if a["type"] == "webhook"
                   and a["url"] == data["url"]), None)
    if action is None:
        return  # the rule changed meanwhile; its new version decides next time
    body = data["body"].encode()
    response = outbound.post(data["url"], data=body, timeout=10, headers={
        "Content-Type": "application/json", "User-Agent": "Resonanz-Webhook/1",
        "X-Resonanz-Signature": sign(action["secret"], body), "X-Resonanz-Rule": str(rule.pk)})
    if response.status_code >= 300:
        raise ActionError(f"the webhook answered HTTP {response.status_code}")


def switch_off(rule: Rule, exc: Exception, event: Event) -> None:
    """Switch the failing rule off and tell the supervisors; the pipeline goes on."""
    detail = f"{type(exc).__name__}: {exc}"[:1000]
    Rule.objects.filter(pk=rule.pk).update(enabled=False, last_error=detail, disabled_at=timezone.now(),
                                           updated_at=timezone.now())
    rule.enabled = False
    unpin()  # the rest of a pipeline batch must see the rule switched off
    reason = f"rule “{rule.name}” failed and was switched off: {detail}"
    if event.conversation is not None:
        try:
            record(event.conversation, "rule_failed", rule=rule.pk, reason=reason)
        except Exception:
            log.exception("could not record the failure of rule %s", rule.pk)
    report_to_supervisors(f"Resonanz: rule “{rule.name}” was switched off",
                                        f"{reason}\n\nEvent: {event.key}\n{settings.RESONANZ_BASE_URL.rstrip('/')}"
                                        f"/automation/rules/{rule.pk}/")
    publish("rule.failed", rule_id=rule.pk)


@shared_task(name="resonanz.automation.tasks.send_notification")
def send_notification(kind: str, rule_id: int, data: dict, conversation_id: int | None) -> None:
    deliver_notification(kind, rule_id, data, conversation_id)


def deliver_notification(kind: str, rule_id: int, data: dict, conversation_id: int | None) -> None:
    """Send an email or webhook a rule queued; a failure switches the rule off and is reported."""
    rule = Rule.objects.filter(pk=rule_id).first()
    try:
        deliver(kind, rule, data)
    except Exception as exc:
        log.exception("%s of rule %s failed", kind, rule_id)
        if rule is not None:
            conversation = Conversation.objects.filter(pk=conversation_id).first() if conversation_id else None
            switch_off(rule, exc, Event(f"{kind}:{rule_id}", kind, {}, conversation))
