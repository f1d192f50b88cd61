"""Approval of replies (social media guidelines) and the guideline check before sending.

``inbox.actions.send_reply`` asks ``review_reply`` first. If the author or the channel needs
approval, the reply is stored here as a PendingReply (event ``reply_held``) and
``ReplyHeld`` (an ActionError) tells the caller it was not sent yet. A supervisor then sends
it as its author through the normal ``send_reply`` (``approve``), optionally edited, or
returns it with a note (``return_reply``). Replies that are sent despite guideline warnings
leave a ``guideline_warnings`` event in the log.
"""

from __future__ import annotations

import re
import threading

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from resonanz.analysis.language import detect_language
from resonanz.automation.models import ApprovalRequirement, Guidelines, PendingReply
from resonanz.connectors.drivers import get_driver
from resonanz.core.errors import ActionError
from resonanz.core.events import publish
from resonanz.inbox.actions import record, send_reply
from resonanz.understanding.models import Analysis

_bypass = threading.local()
DEFAULT_ADVERTISING = ["sonderangebot", "rabatt", "gutschein", "jetzt kaufen", "nur heute", "angebot des tages",
                       "special offer", "discount", "coupon", "buy now", "limited offer", "upgrade now"]
SALES_TEAMS = {"sales", "marketing", "vertrieb"}


class ReplyHeld(ActionError):
    """The reply waits for a supervisor's approval; ``pending`` is the queued reply."""

    def __init__(self, pending: PendingReply):
        super().__init__("Your reply waits for a supervisor's approval before it is sent.", "text")
        self.pending = pending


def needs_approval(conversation, author) -> str:
    """Why replies by this author in this conversation need approval, or '' when they don't."""
    agent = getattr(author, "agent", None)
    if author is None or agent is None or agent.is_bot or agent.is_supervisor:
        return ""
    requirement = (ApprovalRequirement.objects.filter(agent=author).first()
                   or ApprovalRequirement.objects.filter(channel_id=conversation.channel_id).first())
    if requirement is None:
        return ""
    if requirement.agent_id:
        return requirement.note or f"replies by {agent.display_name} need approval"
    return requirement.note or f"replies on {conversation.channel.name} need approval"


def review_reply(conversation, author, text: str, *, status=None, is_public=None, attachments: int = 0) -> None:
    """The hook in send_reply: hold the reply for approval, or note guideline warnings and let it go."""
    if getattr(_bypass, "active", False):
        return
    warnings = check_reply(conversation, author, text, is_public=is_public)
    reason = needs_approval(conversation, author)
    if reason and attachments:
        # the approval queue keeps text only: refuse rather than send the reply later without its files
        raise ActionError(gettext("This reply needs a supervisor's approval, and replies waiting for approval "
                                  "cannot keep files. Send the text first; attach the files once it is approved."),
                          "files")
    if reason:
        with transaction.atomic():
            pending = PendingReply.objects.create(
                conversation=conversation, author=author, text=text, status_after=status or "",
                is_public=is_public, warnings=warnings, reason=reason[:300])
            record(conversation, "reply_held", actor=author, pending_reply=pending.pk, warnings=warnings,
                   reason=reason)
        publish("reply.held", conversation_id=conversation.pk, pending_reply_id=pending.pk)
        raise ReplyHeld(pending)
    if warnings:
        record(conversation, "guideline_warnings", actor=author, warnings=warnings,
               reason="sent despite: " + "; ".join(w["message"] for w in warnings))


def approve(pending: PendingReply, supervisor, *, text: str | None = None):
    """Send the reply as its author through the normal delivery; the supervisor may have edited it."""
    _require_supervisor(supervisor)
    with transaction.atomic():
        pending = PendingReply.objects.select_for_update().get(pk=pending.pk)
        if pending.state != PendingReply.State.PENDING:
            raise ActionError("This reply was handled already.")
        edited = text is not None and text.strip() and text.strip() != pending.text
        if edited:
            pending.text = text.strip()
        _bypass.active = True
        try:
            message = send_reply(pending.conversation, pending.author, pending.text,
                                 status=pending.status_after or None, is_public=pending.is_public)
        finally:
            _bypass.active = False
        pending.state, pending.reviewer, pending.reviewed_at = PendingReply.State.SENT, supervisor, timezone.now()
        pending.message = message
        pending.save()
        record(pending.conversation, "reply_approved", actor=supervisor, pending_reply=pending.pk,
               message_id=message.pk, edited=bool(edited),
               reason="edited and sent" if edited else "sent as written")
    return message


def return_reply(pending: PendingReply, supervisor, note: str = "") -> PendingReply:
    _require_supervisor(supervisor)
    with transaction.atomic():
        pending = PendingReply.objects.select_for_update().get(pk=pending.pk)
        if pending.state != PendingReply.State.PENDING:
            raise ActionError("This reply was handled already.")
        pending.state, pending.reviewer, pending.reviewed_at = PendingReply.State.RETURNED, supervisor, timezone.now()
        pending.review_note = (note or "").strip()
        pending.save()
        record(pending.conversation, "reply_returned", actor=supervisor, pending_reply=pending.pk,
               reason=pending.review_note or "returned to the author")
    publish("reply.returned", conversation_id=pending.conversation_id, pending_reply_id=pending.pk)
    return pending


def _require_supervisor(user) -> None:
    agent = getattr(user, "agent", None)
    if not (getattr(user, "is_superuser", False) or (agent and agent.is_supervisor)):
        raise ActionError("Only supervisors approve replies.")


# --- guideline checks ------------------------------------------------------------------------------------------


def guidelines_for(team) -> Guidelines:
    found = Guidelines.objects.filter(team=team).first() if team else None
    return found or Guidelines.objects.filter(team__isnull=True).first() or Guidelines(
        advertising_words="\n".join(DEFAULT_ADVERTISING))


def _find(words: list[str], text: str) -> list[str]:
    hits = []
    for word in words:
        if re.search(r"(?<!\w)" + re.escape(word) + r"(?!\w)", text, re.IGNORECASE):
            hits.append(word)
    return hits


def customer_language(conversation) -> str:
    latest = (Analysis.objects.filter(message__conversation=conversation).order_by("-message_id")
              .values_list("language", flat=True).first())
    return latest or conversation.contact.preferred_language or ""


def check_reply(conversation, author, text: str, *, is_public: bool | None = None) -> list[dict]:
    """Warnings for a reply before it is sent: [{"code", "message"}]. Never blocks by itself. ``is_public``:
    whether the reply is public (None: as the channel answers by default; a private reply needs no signature)."""
    agent = getattr(author, "agent", None)
    if agent is not None and agent.is_bot:
        return []
    rules = guidelines_for(conversation.team)
    warnings = []
    team_name = (conversation.team.name if conversation.team_id else "").lower()
    if team_name not in SALES_TEAMS:
        ads = _find(Guidelines.words(rules.advertising_words), text)
        if ads:
            warnings.append({"code": "advertising",
                             "message": f"advertising in a service reply: {', '.join(ads)}"})
    banned = _find(Guidelines.words(rules.forbidden_words), text)
    if banned:
        warnings.append({"code": "words", "message": f"words to avoid: {', '.join(banned)}"})
    try:
        public = get_driver(conversation.channel).public if is_public is None else bool(is_public)
    except Exception:
        public = False
    if rules.require_signature and public and not conversation.channel.sign_replies:
        initials = agent.initials if agent else ""
        if not initials or not re.search(r"\^" + re.escape(initials) + r"\s*$", text.strip()):
            warnings.append({"code": "signature", "message": "a public reply without signature "
                             f"(end it with ^{initials or 'initials'})"})
    if rules.check_language:
        expected = customer_language(conversation)
        found = detect_language(text)
        if expected in ("de", "en") and found.code in ("de", "en", "other") and found.confidence >= 0.5 \
                and found.code != expected:
            names = {"de": "German", "en": "English", "other": found.detected or "another language"}
            warnings.append({"code": "language", "message": f"the reply is in {names[found.code]}, "
                             f"the customer writes {names[expected]}"})
    return warnings
