"""What a visitor sees: the messages of their conversations on this chat channel, and who is answering."""

from __future__ import annotations

from datetime import timedelta
from statistics import median

from django.core import signing
from django.db.models import Exists, Min, OuterRef, Q
from django.utils import timezone

from resonanz.chat.access import Visitor
from resonanz.connectors.drivers.base import EMAIL
from resonanz.crm.models import Identity, normalize_handle
from resonanz.inbox import typing
from resonanz.inbox.models import Conversation, Message
from resonanz.insights.models import Survey
from resonanz.knowledge.bot import HANDOVER_TAG
from resonanz.knowledge.models import Suggestion

SHOWN = ("received", "sent", "stored")
PAGE = 200
FILE_SALT = "resonanz.chat.file"
#: when no chat on the channel was answered by a person in the last 30 days, the wait a person is expected
#: to need for one conversation
DEFAULT_MINUTES_PER_CHAT = 3


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
            .select_related("author_user__agent").prefetch_related("attachments").order_by("id")[:PAGE])
    return [line(m) for m in rows]


def cursor(channel, visitor: Visitor, after: int, shown: list[dict]) -> int:
    """Where the next ``after`` starts. Usually the newest line shown; but a reply written a moment ago and not
    yet delivered (queued) becomes visible only later, possibly after a newer line was shown, so the cursor
    stays just before it until it is delivered (the widget and the stream skip the lines they already have)."""
    newest = max([after] + [m["id"] for m in shown])
    waiting = (Message.objects.filter(conversation__in=conversations(channel, visitor), pk__gt=after, pk__lt=newest,
                                      direction="outbound", delivery_status="queued",
                                      created_at__gte=timezone.now() - timedelta(minutes=5))
               .order_by("id").values_list("pk", flat=True).first())
    return waiting - 1 if waiting else newest


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
        "files": [file_entry(a, meta) for a in message.attachments.all() if a.file],
    }


def file_entry(attachment, meta: dict) -> dict:
    """A file in the chat: its name, size, whether the widget may show it as an image, and a signed address
    (an ``<img>`` cannot send the visitor's token, so the address itself is the permission)."""
    return {"name": attachment.filename, "size": attachment.size, "type": attachment.content_type,
            "image": attachment.content_type in ("image/png", "image/jpeg", "image/gif", "image/webp"),
            "alt": (meta.get("alt") or {}).get(str(attachment.pk), ""),
            "key": signing.dumps(attachment.pk, salt=FILE_SALT)}


def file_id(key: str) -> int | None:
    try:
        value = signing.loads(key, salt=FILE_SALT)
    except signing.BadSignature:
        return None
    return value if isinstance(value, int) else None


def state(channel, visitor: Visitor) -> dict:
    """Whether a person has the conversation: the latest conversation's handover, assignee and status."""
    latest = conversations(channel, visitor).select_related("assignee__agent").order_by("-id").first()
    if latest is None:
        return {"handed_over": False, "agent": "", "status": "", "waiting": False, "queue": None,
                "typing": "", "rating": None, "conversation": None}
    agent = getattr(latest.assignee, "agent", None) if latest.assignee_id else None
    if agent is None:
        last_human = (Message.objects.filter(conversation=latest, direction="outbound", author_user__isnull=False)
                      .exclude(author_user__agent__is_bot=True).select_related("author_user__agent")
                      .order_by("-id").first())
        agent = getattr(last_human.author_user, "agent", None) if last_human else None
    handed_over = latest.tags.filter(name=HANDOVER_TAG).exists() or agent is not None
    answered = Message.objects.filter(conversation=latest, direction="outbound", author_user__isnull=False) \
        .exclude(author_user__agent__is_bot=True).exists()
    person_typing = typing.typing(latest.pk, "agent")
    return {"handed_over": handed_over, "agent": agent.display_name if agent else "", "status": latest.status,
            "waiting": waiting_for_person(latest),
            "queue": queue(latest) if handed_over and not answered and latest.is_open else None,
            "typing": (person_typing["name"] or "…") if person_typing else "",
            "rating": rating_state(channel, latest), "conversation": latest.pk}


def queue(conversation: Conversation) -> dict:
    """Where a visitor waiting for a person stands: how many handed-over chats on this channel that no person
    has answered yet came before theirs (theirs included), and the expected wait: that many times the channel's
    median time from the start of a handed-over chat to a person's first answer over the last 30 days."""
    human = Message.objects.filter(conversation=OuterRef("pk"), direction="outbound", author_user__isnull=False,
                                   author_user__agent__is_bot=False)
    handed = Conversation.objects.filter(channel_id=conversation.channel_id, tags__name=HANDOVER_TAG)
    position = (handed.filter(status__in=("new", "open"), pk__lte=conversation.pk)
                .exclude(Exists(human)).values("pk").distinct().count())
    since = timezone.now() - timedelta(days=30)
    answered = (handed.filter(created_at__gte=since)
                .annotate(first_person=Min("messages__created_at", filter=Q(
                    messages__direction="outbound", messages__author_user__agent__is_bot=False)))
                .filter(first_person__isnull=False).order_by("-id").values_list("created_at", "first_person")[:200])
    times = [max(0.0, (first - created).total_seconds() / 60) for created, first in answered]
    per_chat = median(times) if times else DEFAULT_MINUTES_PER_CHAT
    position = max(1, position)
    return {"position": position, "minutes": max(1, round(per_chat * position))}


def rating_state(channel, conversation: Conversation) -> dict | None:
    """The satisfaction question once the chat ended (resolved or closed), where the channel asks it."""
    if not channel.driver.options.get("satisfaction", True) or conversation.status not in ("resolved", "closed"):
        return None
    if not Message.objects.filter(conversation=conversation, direction="outbound").exists():
        return None  # nobody answered: nothing to rate
    survey = Survey.objects.filter(conversation=conversation).values("rating", "comment").first()
    return {"conversation": conversation.pk, "rating": (survey or {}).get("rating"),
            "comment": bool((survey or {}).get("comment"))}


def waiting_for_person(conversation: Conversation) -> bool:
    """The bot read the visitor's last line and left it to people, and nobody has answered yet."""
    last = (Message.objects.filter(conversation=conversation, direction="inbound").order_by("-id")
            .values_list("pk", flat=True).first())
    if last is None or Message.objects.filter(conversation=conversation, direction="outbound", pk__gt=last).exists():
        return False
    decision = Suggestion.objects.filter(message_id=last).values_list("bot_decision", flat=True).first()
    return decision is not None and decision != "answered"
