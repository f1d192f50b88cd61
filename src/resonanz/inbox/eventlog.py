"""The conversation's event log: who changed what, when and why (also the live-update cursor)."""

from __future__ import annotations

from resonanz.inbox.models import Conversation, ConversationEvent


def record(conversation: Conversation, kind: str, *, actor=None, reason: str = "", **data) -> ConversationEvent:
    """One entry; called by the actions inside their transaction, so the log never shows a rolled-back change."""
    return ConversationEvent.objects.create(
        conversation=conversation, actor=actor, kind=kind, data=data, reason=reason[:500]
    )
