"""What a visitor sees: the messages of their conversations on this chat channel, and who is answering.

This runs for every line on every open stream (chat/live.py) and every poll of ``messages/``, so the hot part
is plain SQL written once (``core/fastsql.py``'s converters, no query compiler): the ORM version cost about
18 ms of CPU and 13 statements per update, four times what storing the line costs, and one uvicorn process
with 500 chatting visitors spent most of its time building these queries. The visitor's identity is looked up
once per update, not once per part. Rarer parts (the queue position, the satisfaction question) stay ORM.
"""

from __future__ import annotations

from datetime import timedelta
from statistics import median

from django.core import signing
from django.db import connection
from django.db.models import Exists, Min, OuterRef, Q
from django.utils import timezone

from resonanz.chat.access import Visitor
from resonanz.connectors.drivers.base import EMAIL
from resonanz.core import fastsql
from resonanz.crm.models import Identity, Tag, normalize_handle
from resonanz.inbox import typing
from resonanz.inbox.models import AgentProfile, Attachment, Conversation, Message
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
    contact_id = contact_of(visitor)
    if contact_id is None:
        return Conversation.objects.none()
    return Conversation.objects.filter(channel=channel, contact_id=contact_id)


def contact_of(visitor: Visitor) -> int | None:
    """The contact the visitor's lines are stored under (None before the first line)."""
    kind, handle = sender(visitor)
    return _value(f"SELECT contact_id FROM {_t(Identity)} WHERE kind = %s AND handle = %s",
                  [kind, normalize_handle(kind, handle)])


def lines(channel, visitor: Visitor, after: int = 0) -> list[dict]:
    return update(channel, visitor, after, with_state=False)[0]


def cursor(channel, visitor: Visitor, after: int, shown: list[dict]) -> int:
    return _cursor(channel, contact_of(visitor), after, shown)


def state(channel, visitor: Visitor) -> dict:
    """Whether a person has the conversation: the latest conversation's handover, assignee and status."""
    return _state(channel, contact_of(visitor))


def update(channel, visitor: Visitor, after: int = 0, *, with_state: bool = True) -> tuple[list[dict], dict, int]:
    """(lines after ``after``, the state, the next cursor) for one visitor: what ``messages/`` answers and what
    a stream pushes, with the visitor's contact looked up once."""
    contact_id = contact_of(visitor)
    shown = _lines(channel, contact_id, after)
    if not with_state:
        return shown, {}, after
    return shown, _state(channel, contact_id), _cursor(channel, contact_id, after, shown)


def _t(model) -> str:
    return model._meta.db_table


def _value(sql: str, params: list):
    with connection.cursor() as cur:
        cur.execute(sql, params)
        row = cur.fetchone()
    return row[0] if row else None


def _lines(channel, contact_id: int | None, after: int) -> list[dict]:
    # by the messages' own channel: a chat merged into a conversation of another channel keeps its lines
    if contact_id is None:
        return []
    rows = fastsql.select(
        Message,
        f"channel_id = %s AND conversation_id IN (SELECT id FROM {_t(Conversation)} WHERE contact_id = %s) "
        f"AND EXISTS (SELECT 1 FROM {_t(Conversation)} WHERE channel_id = %s AND contact_id = %s) "
        "AND id > %s AND direction IN (%s, %s) AND delivery_status IN (%s, %s, %s) ORDER BY id LIMIT %s",
        [channel.pk, contact_id, channel.pk, contact_id, after, "inbound", "outbound", *SHOWN, PAGE])
    if not rows:
        return []
    ids = ", ".join(str(int(m.pk)) for m in rows)
    files: dict[int, list] = {}
    for attachment in fastsql.select(Attachment, f"message_id IN ({ids}) ORDER BY id", []):
        files.setdefault(attachment.message_id, []).append(attachment)
    authors = {m.author_user_id for m in rows if m.author_user_id}
    agents = _agents(authors)
    return [line(m, agent=agents.get(m.author_user_id), attachments=files.get(m.pk, [])) for m in rows]


def _agents(user_ids: set[int]) -> dict[int, AgentProfile]:
    if not user_ids:
        return {}
    ids = ", ".join(str(int(i)) for i in user_ids)
    return {a.user_id: a for a in fastsql.select(AgentProfile, f"user_id IN ({ids})", [])}


def _cursor(channel, contact_id: int | None, after: int, shown: list[dict]) -> int:
    """Where the next ``after`` starts. Usually the newest line shown; but a reply written a moment ago and not
    yet delivered (queued) becomes visible only later, possibly after a newer line was shown, so the cursor
    stays just before it until it is delivered (the widget and the stream skip the lines they already have)."""
    newest = max([after] + [m["id"] for m in shown])
    if contact_id is None or newest <= after + 1:  # no id between: nothing can wait there
        return newest
    since = connection.ops.adapt_datetimefield_value(timezone.now() - timedelta(minutes=5))
    waiting = _value(
        f"SELECT id FROM {_t(Message)} WHERE conversation_id IN "
        f"(SELECT id FROM {_t(Conversation)} WHERE channel_id = %s AND contact_id = %s) AND id > %s AND id < %s "
        "AND direction = %s AND delivery_status = %s AND created_at >= %s ORDER BY id LIMIT 1",
        [channel.pk, contact_id, after, newest, "outbound", "queued", since])
    return waiting - 1 if waiting else newest


_UNSET = object()


def line(message: Message, *, agent=_UNSET, attachments=None) -> dict:
    """One line as the widget shows it; ``agent`` and ``attachments`` when the caller fetched them already."""
    if agent is _UNSET:
        agent = getattr(message.author_user, "agent", None) if message.author_user_id else None
    if attachments is None:
        attachments = message.attachments.all()
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
        "files": [file_entry(a, meta) for a in attachments if a.file],
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


def _state(channel, contact_id: int | None) -> dict:
    found = fastsql.select(Conversation, "channel_id = %s AND contact_id = %s ORDER BY id DESC LIMIT 1",
                           [channel.pk, contact_id]) if contact_id is not None else []
    if not found:
        return {"handed_over": False, "agent": "", "status": "", "waiting": False, "queue": None,
                "typing": "", "rating": None, "conversation": None}
    latest = found[0]
    # the newest line by a person (not the bot): who answers, when nobody is assigned, and whether anyone has
    last_human = _value(
        f"SELECT m.author_user_id FROM {_t(Message)} m LEFT JOIN {_t(AgentProfile)} a ON a.user_id = m.author_user_id "
        "WHERE m.conversation_id = %s AND m.direction = %s AND m.author_user_id IS NOT NULL "
        "AND (a.is_bot IS NULL OR a.is_bot = %s) ORDER BY m.id DESC LIMIT 1", [latest.pk, "outbound", False])
    answered = last_human is not None
    agents = _agents({latest.assignee_id, last_human} - {None})
    agent = agents.get(latest.assignee_id) or agents.get(last_human)  # an assignee who is no agent: the last one
    handed_over = agent is not None or _value(
        f"SELECT 1 FROM {_t(Conversation.tags.through)} ct JOIN {_t(Tag)} t ON t.id = ct.tag_id "
        "WHERE ct.conversation_id = %s AND t.name = %s LIMIT 1", [latest.pk, HANDOVER_TAG]) is not None
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
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT m.id, (SELECT s.bot_decision FROM {_t(Suggestion)} s WHERE s.message_id = m.id), "
            f"EXISTS (SELECT 1 FROM {_t(Message)} o WHERE o.conversation_id = m.conversation_id "
            "AND o.direction = %s AND o.id > m.id) "
            f"FROM {_t(Message)} m WHERE m.conversation_id = %s AND m.direction = %s ORDER BY m.id DESC LIMIT 1",
            ["outbound", conversation.pk, "inbound"])
        row = cur.fetchone()
    if row is None or row[2]:
        return False
    return row[1] is not None and row[1] != "answered"
