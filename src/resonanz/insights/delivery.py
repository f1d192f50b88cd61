"""Where an early warning goes: the channels each team chose (``AlertChannel``): an in-app notification
for the team's people, an email to its supervisors, a signed outgoing webhook. With no channel set up at
all, alerts go by email and in-app notification to every supervisor, so a fresh installation still warns.

A webhook receiver checks ``X-Resonanz-Signature`` (``sha256=`` + HMAC-SHA256 of the raw body with the
channel's secret) and ``X-Resonanz-Delivery`` (the alert id, the same on a retry). A failing channel is
noted on it (``last_error``) and never stops the others; requests go through the outbound guard.
"""

from __future__ import annotations

import json
import logging
import secrets

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail

from resonanz.automation.notifications import sign
from resonanz.core import outbound
from resonanz.core.errors import ActionError
from resonanz.core.events import publish
from resonanz.inbox.models import AgentProfile
from resonanz.insights.models import Alert, AlertChannel, Notification

log = logging.getLogger("resonanz.insights")


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def alert_url(alert: Alert) -> str:
    return f"{settings.RESONANZ_BASE_URL.rstrip('/')}/insights/alerts/{alert.pk}/"


def payload(alert: Alert, text: str) -> dict:
    return {"event": "insights.alert", "alert": {
        "id": alert.pk, "kind": alert.kind, "key": alert.key, "label": alert.label,
        "hour": alert.hour.isoformat(), "observed": alert.observed, "expected": alert.expected,
        "score": alert.score, "ratio": round(alert.observed / alert.expected, 2) if alert.expected > 0 else None,
        "intent": alert.intent or None, "entity": alert.entity or None,
        "entity_kind": alert.entity_kind or None, "query": {"id": alert.query_id, "name": alert.query.name} if alert.query else None,
        "driving_terms": [t.get("term") for t in alert.terms], "first_items": alert.fact_ids,
        "text": text, "url": alert_url(alert)}}


def _people(team, *, supervisors_only: bool):
    profiles = AgentProfile.objects.filter(user__is_active=True, is_bot=False)
    if team is not None:
        profiles = profiles.filter(teams=team)
    if supervisors_only or team is None:
        profiles = profiles.filter(role__in=("supervisor", "admin"))
    return get_user_model().objects.filter(pk__in=profiles.values("user_id"))


def notify_in_app(alert: Alert, text: str, team=None) -> int:
    users = list(_people(team, supervisors_only=False))
    made = Notification.objects.bulk_create([
        Notification(user=u, title=f"Early warning: {alert.label}"[:200], body=text,
                     url=f"/insights/alerts/{alert.pk}/", alert=alert)
        for u in users if not Notification.objects.filter(user=u, alert=alert).exists()])
    for n in made:
        publish("insights.notification", user_id=n.user_id, alert_id=alert.pk)
    return len(made)


def notify_email(alert: Alert, text: str, team=None) -> int:
    to = sorted(set(_people(team, supervisors_only=True).exclude(email="").values_list("email", flat=True)))
    if to:
        send_mail(f"Resonanz early warning: {alert.label}", f"{text}\n\n{alert_url(alert)}", None, to,
                  fail_silently=False)
    return len(to)


def post_webhook(channel: AlertChannel, alert: Alert, text: str) -> None:
    body = json.dumps(payload(alert, text), ensure_ascii=False, sort_keys=True).encode()
    response = outbound.post(channel.url, data=body, timeout=10, headers={
        "Content-Type": "application/json", "User-Agent": "Resonanz-Webhook/1",
        "X-Resonanz-Event": "insights.alert", "X-Resonanz-Delivery": f"alert-{alert.pk}",
        "X-Resonanz-Signature": sign(channel.secret, body)})
    if response.status_code >= 300:
        raise ActionError(f"the webhook answered HTTP {response.status_code}")


def channels_for(alert: Alert) -> list[AlertChannel]:
    return [c for c in AlertChannel.objects.filter(enabled=True).select_related("team")
            if c.only_query_id is None or c.only_query_id == alert.query_id]


def deliver(alert: Alert, text: str) -> dict[str, int]:
    """Send the alert on every channel that wants it; returns how many went out per kind."""
    sent = {"in_app": 0, "email": 0, "webhook": 0}
    if not AlertChannel.objects.exists():  # nothing chosen yet: tell the supervisors
        sent["in_app"] = notify_in_app(alert, text)
        try:
            sent["email"] = notify_email(alert, text)
        except Exception:
            log.exception("could not email the supervisors about alert %s", alert.pk)
        return sent
    for channel in channels_for(alert):
        try:
            if channel.kind == AlertChannel.Kind.IN_APP:
                sent["in_app"] += notify_in_app(alert, text, channel.team)
            elif channel.kind == AlertChannel.Kind.EMAIL:
                sent["email"] += notify_email(alert, text, channel.team)
            else:
                post_webhook(channel, alert, text)
                sent["webhook"] += 1
            error = ""
        except Exception as exc:
            log.exception("alert %s on channel %s failed", alert.pk, channel.pk)
            error = f"{type(exc).__name__}: {exc}"[:500]
        if error != channel.last_error:
            AlertChannel.objects.filter(pk=channel.pk).update(last_error=error)
    return sent


def deliver_later(alert_id: int, text: str) -> None:
    """In the worker; with the broker down, here rather than never."""
    try:
        deliver_task.delay(alert_id, text)
    except Exception:
        log.warning("broker unreachable; delivering alert %s here", alert_id, exc_info=True)
        deliver_task(alert_id, text)


@shared_task(name="resonanz.insights.tasks.deliver_alert")
def deliver_task(alert_id: int, text: str) -> dict[str, int]:
    alert = Alert.objects.select_related("query").filter(pk=alert_id).first()
    return deliver(alert, text) if alert is not None else {}
