"""Telling someone outside the inbox: an email to a team or address, a signed webhook to another system.

Both are sent by a worker after the rule's transaction committed (notifications.send_later); a failed
delivery switches the rule off like any failing rule (notifications.deliver_notification).
"""

from __future__ import annotations

import json
import re

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from resonanz.automation import notifications
from resonanz.automation.effects import Act, Effect, Param, as_int, register
from resonanz.core import outbound
from resonanz.core.errors import ActionError
from resonanz.inbox.models import Team

MIN_SECRET = 16


def _conversation_id(act: Act) -> int | None:
    """Read at commit: a later action of the same rule may have turned the post into a conversation."""
    return act.conversation.pk if act.conversation else None


@register
class NotifyEmail(Effect):
    kind, label, order = "notify_email", _("notify by email"), 110
    needs_conversation = False
    params = (Param("team", _("team"), optional=True), Param("to", _("email address (empty: the team address)")))

    def clean(self, action: dict, trigger: str) -> dict:
        to = str(action.get("to") or "").strip()
        team = Team.objects.filter(pk=as_int(action.get("team"))).first() if action.get("team") else None
        if action.get("team") and team is None:
            raise ActionError(f"The team {action.get('team')!r} does not exist (any more).", "actions")
        if to and "@" not in to:
            raise ActionError(f"{to!r} is not an email address.", "actions")
        if team and not team.email and not to:
            raise ActionError(f"The team {team} has no email address.", "actions")
        return {"to": to, "team": team.pk if team else None}

    def perform(self, action: dict, act: Act) -> list[str]:
        """To the address given, else the rule's team, else the conversation's team."""
        to = action.get("to")
        if not to:
            team_id = action.get("team") or (act.conversation.team_id if act.conversation else None)
            team = Team.objects.filter(pk=team_id).first() if team_id else None
            if team is None or not team.email:
                raise ActionError("No address to notify: the team has no email address.")
            to = team.email
        payload = notifications.event_payload(act.rule, act.event, act.why)
        subject = f"[Resonanz] {act.rule.name}" + (f" · {act.conversation.reference}" if act.conversation else "")
        link = payload["conversation"]["url"] if payload["conversation"] else (payload["post"] or {}).get("link", "")
        body = f"{act.why}\n\n{payload['message']['text'][:1000]}\n\n{link}"
        transaction.on_commit(lambda: notifications.send_later(
            "email", act.rule.pk, {"to": to, "subject": subject, "body": body}, _conversation_id(act)))
        return [f"notified {to}"]


@register
class Webhook(Effect):
    kind, label, order = "webhook", _("call a signed webhook"), 120
    needs_conversation = False
    params = (Param("url", "URL"), Param("secret", _("secret (at least 16 characters)")))

    def clean(self, action: dict, trigger: str) -> dict:
        url = str(action.get("url") or "").strip()
        if not re.match(r"^https?://[^\s/]+", url):
            raise ActionError(f"{url!r} is not an http(s) address.", "actions")
        try:
            outbound.check_url(url)  # internal addresses are refused when the rule is saved
        except outbound.RefusedURL as exc:
            raise ActionError(exc.message, "actions") from None
        secret = str(action.get("secret") or "")
        if len(secret) < MIN_SECRET:
            raise ActionError(f"The webhook secret needs at least {MIN_SECRET} characters.", "actions")
        return {"url": url, "secret": secret}

    def perform(self, action: dict, act: Act) -> list[str]:
        body = json.dumps(notifications.event_payload(act.rule, act.event, act.why), ensure_ascii=False,
                          sort_keys=True, default=str)
        transaction.on_commit(lambda: notifications.send_later(
            "webhook", act.rule.pk, {"url": action["url"], "body": body}, _conversation_id(act)))
        return [f"webhook {action['url'].split('/')[2]}"]
