"""What a visitor sees: the messages of their conversations on this chat channel, and who is answering."""

from __future__ import annotations

from resonanz.chat.access import Visitor
from resonanz.connectors.drivers.base import EMAIL
from resonanz.crm.models import Identity, normalize_handle
from resonanz.inbox.models import Conversation, Message
from resonanz.knowledge.bot import HANDOVER_TAG
from resonanz.knowledge.models import Suggestion

SHOWN = ("received", "sent", "stored")
PAGE = 200


def sender(visitor: Visitor) -> tuple[str, str]:
    """(identity kind, handle) the visitor's lines are sent under: an email address the host site signed meets
    the customer's contact; another signed id is a chat identity per site; anonymous visitors are their own."""
    if visitor.user_id:
        if EMAIL.fullmatch(visitor.user_id):
            return "email", visitor.user_id
        return "chat", f"user:{visitor.channel_id}:{visitor.user_id}"
    return "chat", f"visitor:{visitor.visitor_id}"


def conversations(channel, visitor: Visitor):
    kind, handle = sender(visitor)
    identity = Identity.objects.filter(kind=kind, handle=normalize_handle(kind, handle)).first()
    if identity is None:
        return Conversation.objects.none()
    return Conversation.objects.filter(channel=channel, contact_id=identity.contact_id)


def lines(channel, visitor: Visitor, after: int = 0) -> list[dict]:
    # by the messages' own channel: a chat merged into a conversation of another channel keeps its lines
    contacts = conversations(channel, visitor).values("contact_id")
    rows = (Message.objects.filter(channel=channel, conversation__contact_id__in=contacts, pk__gt=after,
                                   direction__in=("inbound", "outbound"), delivery_status__in=SHOWN)
            .select_related("author_user__agent").order_by("id")[:PAGE])
    return [line(m) for m in rows]


def line(message: Message) -> dict:
    agent = getattr(message.author_user, "agent", None) if message.author_user_id else None
    meta = message.meta or {}
    if message.direction == "inbound":
        who = "visitor"
    else:
        who = "bot" if agent is not None and agent.is_bot else "agent"
    return {
        "id": message.pk,
        "client_id": meta.get("chat", {}).get("client_id", ""),
        "from": who,
        "text": message.text,
        "name": agent.display_name if agent else "",
        "avatar": agent.avatar_url if agent else "",
        "at": (message.sent_at or message.created_at).isoformat(),
        "article": meta.get("auto_answer", {}).get("article_id") if who == "bot" else None,
        "read": "read" in (meta.get("receipts") or {}),
    }


def state(channel, visitor: Visitor) -> dict:
    """Whether a person has the conversation: the latest conversation's handover, assignee and status."""
    latest = conversations(channel, visitor).select_related("assignee__agent").order_by("-id").first()
    if latest is None:
        return {"handed_over": False, "agent": "", "status": "", "waiting": False}
    agent = getattr(latest.assignee, "agent", None) if latest.assignee_id else None
    if agent is None:
        last_human = (Message.objects.filter(conversation=latest, direction="outbound", author_user__isnull=False)
                      .exclude(author_user__agent__is_bot=True).select_related("author_user__agent")
                      .order_by("-id").first())
        agent = getattr(last_human.author_user, "agent", None) if last_human else None
    return {"handed_over": latest.tags.filter(name=HANDOVER_TAG).exists() or agent is not None,
            "agent": agent.display_name if agent else "", "status": latest.status,
            "waiting": waiting_for_person(latest)}


def waiting_for_person(conversation: Conversation) -> bool:
    """The bot read the visitor's last line and left it to people, and nobody has answered yet."""
    last = (Message.objects.filter(conversation=conversation, direction="inbound").order_by("-id")
            .values_list("pk", flat=True).first())
    if last is None or Message.objects.filter(conversation=conversation, direction="outbound", pk__gt=last).exists():
        return False
    decision = Suggestion.objects.filter(message_id=last).values_list("bot_decision", flat=True).first()
    return decision is not None and decision != "answered"
