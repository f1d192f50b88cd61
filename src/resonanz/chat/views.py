"""The widget's public endpoints under /chat/<slug>/ (see access.py for the checks every request passes).

Visitor lines enter like every channel's messages, through ``connectors.intake`` as ``InboundMessage``s, so the
pipeline runs the knowledge bot on them and hands over to people exactly as on email or the API. The widget
polls ``messages/?after=<id>`` for new lines, as the agent UI polls the event log.
"""

from __future__ import annotations

import re
import uuid

from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import override

from resonanz.chat.access import Refused, Visitor, client_ip, json_body, rate_limit
from resonanz.chat.access import endpoint as chat_endpoint
from resonanz.chat.transcript import conversations, line, lines, sender, state
from resonanz.connectors import intake
from resonanz.connectors.drivers.base import EMAIL
from resonanz.connectors.intake import DeliveryUpdate, InboundMessage
from resonanz.core.errors import ActionError
from resonanz.inbox import actions as inbox
from resonanz.inbox.models import Message
from resonanz.knowledge.actions import record_feedback
from resonanz.knowledge.models import Article

CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_TEXT = 2000
MAX_FIELD = 200


def text_field(data: dict, name: str, limit: int = MAX_FIELD, required: bool = False) -> str:
    value = data.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise Refused(400, f"{name}: must be text")
    value = value.strip()
    if len(value) > limit:
        raise Refused(413, f"{name}: at most {limit} characters")
    if required and not value:
        raise Refused(400, f"{name}: required")
    return value


def client_id(data: dict) -> str:
    value = data.get("client_id")
    if not isinstance(value, str) or not CLIENT_ID.fullmatch(value):
        raise Refused(400, "client_id: 1 to 64 letters, digits, '-' or '_'")
    return value


def language(data_or_query) -> str:
    value = str(data_or_query.get("lang", "") or "")[:2].lower()
    return value if value in ("de", "en") else "en"


@chat_endpoint("GET", token=False)
def config(request, channel):
    driver = channel.driver
    options = driver.options
    lang = language(request.GET)
    return JsonResponse({
        "name": channel.name, "greeting": driver.greeting(lang), "colour": options["colour"],
        "position": options["position"], "open": driver.is_open(), "prechat": options["prechat"],
        "identified_users": bool(channel.credentials.get("secret")),
    })


@chat_endpoint("POST", token=False, write=True)
def session(request, channel):
    """Start or resume a visitor's session. A token from an earlier visit keeps the history; a user id signed
    by the host site (HMAC-SHA256 with the channel's secret) identifies a customer; an unsigned one is ignored."""
    data = json_body(request)
    visitor = None
    if data.get("token"):
        visitor = Visitor.from_token(str(data["token"]), channel)
    user_id = text_field(data, "user_id")
    user_hash = text_field(data, "user_hash")
    if user_id and user_hash:
        if not channel.driver.verify_user(user_id, user_hash):
            raise Refused(403, "user_hash does not match user_id")
    elif not user_id or not user_hash:
        user_id = ""  # unsigned: anonymous
    if visitor is None or (user_id and visitor.user_id != user_id):
        visitor = Visitor(channel.pk, uuid.uuid4().hex, user_id)
    email = text_field(data, "email")
    if email and not EMAIL.fullmatch(email):
        raise Refused(400, "email: not an email address")
    visitor.name = text_field(data, "name") or visitor.name
    visitor.email = email or visitor.email
    visitor.topic = text_field(data, "topic") or visitor.topic
    return JsonResponse({"token": visitor.token(), "visitor_id": visitor.visitor_id,
                         "identified": bool(visitor.user_id)})


@chat_endpoint("GET", "POST", write=False)
def messages(request, channel, visitor: Visitor):
    if request.method == "POST":
        return _send(request, channel, visitor)
    try:
        after = int(request.GET.get("after") or 0)
    except ValueError:
        raise Refused(400, "after: a message id") from None
    return JsonResponse({"messages": lines(channel, visitor, max(0, after)), "state": state(channel, visitor),
                         "open": channel.driver.is_open()})


def _send(request, channel, visitor: Visitor):
    rate_limit("ip", f"{channel.pk}:{client_ip(request)}")
    rate_limit("visitor", f"{channel.pk}:{visitor.visitor_id}")
    data = json_body(request)
    cid = client_id(data)
    text = text_field(data, "text", MAX_TEXT, required=True)
    message = submit_line(channel, visitor, cid, text, page=data.get("page"), pages=data.get("pages"))
    return JsonResponse({"ack": cid, "message": line(message)}, status=201)


def submit_line(channel, visitor: Visitor, cid: str, text: str, page=None, pages=None) -> Message:
    """One visitor line through the intake; the same client id twice is stored once (reconnects resend)."""
    kind, handle = sender(visitor)
    meta = {"visitor": visitor.visitor_id, "client_id": cid, "page": _url(page),
            "pages": [u for u in (_url(p) for p in (pages if isinstance(pages, list) else [])[-20:]) if u]}
    if visitor.email:
        meta["email"] = visitor.email
    if visitor.topic:
        meta["topic"] = visitor.topic
    result = intake.submit(channel, [InboundMessage(
        external_id=f"chat:{visitor.visitor_id}:{cid}", sender_handle=handle, identity_kind=kind, text=text,
        sender_name=visitor.name or (f"Website visitor {visitor.visitor_id[:6]}" if not visitor.user_id else ""),
        subject=visitor.topic, meta={"chat": meta},
        sender_profile={"email": visitor.email} if visitor.email else {})])[0]
    if isinstance(result, ActionError):
        raise Refused(400, result.message)
    return result.message


def _url(value) -> str:
    return value[:500] if isinstance(value, str) and value.startswith(("http://", "https://")) else ""


@chat_endpoint("POST", write="reads")
def read(request, channel, visitor: Visitor):
    """The visitor saw the replies up to ``up_to``: read receipts on them, through the intake like any platform's."""
    data = json_body(request)
    up_to = data.get("up_to")
    if not isinstance(up_to, int) or isinstance(up_to, bool):
        raise Refused(400, "up_to: a message id")
    # the receipts live in each message's meta; the unread ones are few, so filter them here, not in JSON SQL
    ids = [external_id for external_id, meta in Message.objects.filter(
        conversation__in=conversations(channel, visitor), direction="outbound", pk__lte=up_to,
        external_id__startswith="chat-out-").order_by("-id").values_list("external_id", "meta")[:200]
        if "read" not in ((meta or {}).get("receipts") or {})]
    if ids:
        intake.submit(channel, [DeliveryUpdate(message_ids=ids, status="read",
                                               source_id=f"chat-read:{visitor.visitor_id}:{up_to}")])
    return JsonResponse({"read": len(ids)})


@chat_endpoint("POST", write=True)
def feedback(request, channel, visitor: Visitor):
    """"Did that help?" under the bot's answer: yes resolves the conversation, no asks for a person."""
    data = json_body(request)
    helpful = data.get("helpful")
    if not isinstance(helpful, bool) or not isinstance(data.get("message_id"), int):
        raise Refused(400, "message_id (a number) and helpful (true or false) are required")
    message = Message.objects.filter(pk=data["message_id"], conversation__in=conversations(channel, visitor),
                                     direction="outbound", author_user__agent__is_bot=True).first()
    if message is None:
        raise Refused(404, "no such answer in this chat")
    if not helpful:
        with override(language(data)):
            text = _("That did not help. I would like to talk to a person.")
        submit_line(channel, visitor, f"nohelp-{message.pk}", text)
        return JsonResponse({"handed_over": True})
    conversation = message.conversation
    if conversation.status not in ("resolved", "closed"):
        article = Article.objects.filter(pk=(message.meta or {}).get("auto_answer", {}).get("article_id")).first()
        question = (Message.objects.filter(conversation=conversation, direction="inbound", pk__lt=message.pk)
                    .order_by("-id").values_list("text", flat=True).first())
        if article is not None:
            record_feedback(article, True, query=question or "", source="chat")
        inbox.update_conversation(conversation, None, status="resolved",
                                  reason="the visitor said the automatic answer helped")
    return JsonResponse({"resolved": True})


@chat_endpoint("POST", token=False, write=True)
def leave_message(request, channel):
    """Outside business hours: a message with an email address, answered by email."""
    data = json_body(request)
    cid = client_id(data)
    name = text_field(data, "name")
    email = text_field(data, "email", required=True)
    if not EMAIL.fullmatch(email):
        raise Refused(400, "email: not an email address")
    text = text_field(data, "text", MAX_TEXT, required=True)
    result = intake.submit(channel, [InboundMessage(
        external_id=f"chat-left:{cid}", sender_handle=email, identity_kind="email", sender_name=name, text=text,
        subject=text_field(data, "topic") or f"{channel.name}: message left in the chat",
        meta={"chat": {"left_message": True, "client_id": cid, "page": _url(data.get("page"))}})])[0]
    if isinstance(result, ActionError):
        raise Refused(400, result.message)
    return JsonResponse({"ack": cid}, status=201)
