"""The widget's public endpoints under /chat/<slug>/ (see access.py for the checks every request passes).

Visitor lines enter like every channel's messages, through ``connectors.intake`` as ``InboundMessage``s, so the
pipeline runs the knowledge bot on them and hands over to people exactly as on email or the API. The widget
polls ``messages/?after=<id>`` for new lines, as the agent UI polls the event log.
"""

from __future__ import annotations

import re
import uuid

from django.conf import settings
from django.http import FileResponse, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import override

from resonanz.chat.access import (
    Refused,
    Visitor,
    admit,
    check_form_token,
    client_ip,
    form_token,
    json_body,
    rate_limit,
)
from resonanz.chat.access import endpoint as chat_endpoint
from resonanz.chat.live import can_stream
from resonanz.chat.transcript import conversations, file_id, line, sender, update
from resonanz.connectors import intake
from resonanz.connectors.drivers.base import EMAIL
from resonanz.connectors.drivers.chat import UPLOAD_TYPES
from resonanz.connectors.intake import DeliveryUpdate, InboundMessage
from resonanz.core.errors import ActionError
from resonanz.inbox import actions as inbox
from resonanz.inbox import typing
from resonanz.inbox.models import Attachment, Message
from resonanz.insights.actions import answer_survey, open_survey
from resonanz.knowledge.actions import record_feedback, voter_of
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
        "invitations": driver.invitations(lang), "invitation_period_hours": options["invitation_period_hours"],
        "upload": {"max_bytes": max_upload_bytes(channel), "types": sorted(UPLOAD_TYPES)},
        "live": can_stream(request), "form_token": form_token(channel),
    })


def max_upload_bytes(channel) -> int:
    """The channel's limit, within the server's limit for any request (RESONANZ_MAX_REQUEST_BYTES)."""
    return min(channel.driver.max_upload_bytes, int(settings.RESONANZ_MAX_REQUEST_BYTES) - 16 * 1024)


@chat_endpoint("POST", token=False, write=True)
def session(request, channel):
    """Start or resume a visitor's session. A token from an earlier visit keeps the history; a user id signed
    by the host site (HMAC-SHA256 with the channel's secret) identifies a customer; an unsigned one is ignored.
    A resumed session keeps when it began; its token is issued anew."""
    admit()
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
    after = max(0, after)
    shown, now, next_after = update(channel, visitor, after)
    answer = {"messages": shown, "state": now, "open": channel.driver.is_open(), "cursor": next_after}
    if visitor.needs_renewal():  # a visitor who keeps chatting never meets RESONANZ_CHAT_TOKEN_DAYS
        answer["token"] = visitor.token()
    return JsonResponse(answer)


def _send(request, channel, visitor: Visitor):
    admit()
    visitor.check_pace()
    rate_limit("ip", f"{channel.pk}:{client_ip(request)}")
    rate_limit("visitor", f"{channel.pk}:{visitor.visitor_id}")
    data = json_body(request)
    cid = client_id(data)
    text = text_field(data, "text", MAX_TEXT, required=True)
    message = submit_line(channel, visitor, cid, text, page=data.get("page"), pages=data.get("pages"))
    return JsonResponse({"ack": cid, "message": line(message)}, status=201)


def submit_line(channel, visitor: Visitor, cid: str, text: str, page=None, pages=None,
                attachments: list[dict] | None = None) -> Message:
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
        sender_profile={"email": visitor.email} if visitor.email else {}, attachments=attachments or [])])[0]
    if isinstance(result, ActionError):
        raise Refused(400, result.message)
    typing.stop_typing(result.message.conversation_id, "customer")
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
        admit()
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
            record_feedback(article, True, query=question or "", source="chat", voter=voter_of(client_ip(request)))
        inbox.update_conversation(conversation, None, status="resolved",
                                  reason="the visitor said the automatic answer helped")
    return JsonResponse({"resolved": True})


@chat_endpoint("POST", token=False, write=True)
def leave_message(request, channel):
    """Outside business hours: a message with an email address, answered by email. Needs ``config/``'s
    ``form_token`` (signed, at least RESONANZ_CHAT_MIN_SECONDS old) like the contact form."""
    admit()
    data = json_body(request)
    check_form_token(data.get("form_token"), channel)
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


@chat_endpoint("POST", write="typing")
def typing_signal(request, channel, visitor: Visitor):
    """The visitor is typing: agents see it (and the text so far where the channel allows a preview)."""
    data = json_body(request)
    latest = conversations(channel, visitor).order_by("-id").values_list("pk", flat=True).first()
    if latest is None:
        return JsonResponse({"typing": False})
    if data.get("typing") is False:
        typing.stop_typing(latest, "customer")
    else:
        preview = text_field(data, "text", MAX_TEXT) if channel.driver.options.get("typing_preview") else ""
        typing.note_typing(latest, "customer", name=visitor.name, preview=preview)
    return JsonResponse({"typing": data.get("typing") is not False})


def _sniffed(head: bytes, content_type: str) -> bool:
    if content_type == "text/plain":
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            return exc.start > len(head) - 4  # cut inside a character at the end of the sample
        return b"\x00" not in head
    if content_type == "image/webp":
        return head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    return head.startswith(UPLOAD_TYPES[content_type])


@chat_endpoint("POST", max_body=64 * 1024 * 1024)
def upload(request, channel, visitor: Visitor):
    """A file from the visitor (multipart: ``file``, ``client_id``, optional ``text``), stored as an attachment of
    a chat line. Checked like an email attachment, and stricter: a size limit, a list of types, and the file's
    first bytes must match its type (a renamed program is refused)."""
    admit()
    visitor.check_pace()
    rate_limit("ip", f"{channel.pk}:{client_ip(request)}")
    rate_limit("uploads", f"{channel.pk}:{visitor.visitor_id}")
    limit = max_upload_bytes(channel)
    too_big = f"file: at most {limit / (1024 * 1024):.1f} MB"
    if int(request.META.get("CONTENT_LENGTH") or 0) > limit + 16 * 1024:
        raise Refused(413, too_big)
    item = request.FILES.get("file")
    if item is None:
        raise Refused(400, "file: choose a file to send")
    if item.size > limit:
        raise Refused(413, too_big)
    if item.size == 0:
        raise Refused(400, "file: the file is empty")
    content_type = (item.content_type or "").split(";")[0].strip().lower()
    content = item.read()
    if content_type not in UPLOAD_TYPES or not _sniffed(content[:4096], content_type):
        raise Refused(415, "file: only images (PNG, JPEG, GIF, WebP), PDF and plain text files")
    cid = client_id(request.POST)
    caption = text_field(request.POST, "text", MAX_TEXT)
    name = re.sub(r"[\x00-\x1f/\\]", "_", (item.name or "file").strip())[-120:] or "file"
    message = submit_line(channel, visitor, cid, caption or name, page=request.POST.get("page"),
                          attachments=[{"filename": name, "content_type": content_type, "content": content}])
    return JsonResponse({"ack": cid, "message": line(message)}, status=201)


@chat_endpoint("GET", token=False, any_origin=True)  # the signed key is the permission (an <img> may send no origin)
def file(request, channel, key: str):
    """A file of the chat, by its signed key: images inline for the widget, everything else as a download;
    never rendered as a page of ours (sandboxed, no sniffing)."""
    pk = file_id(key)
    item = Attachment.objects.filter(pk=pk, message__channel=channel).first() if pk else None
    if item is None or not item.file:
        raise Refused(404, "no such file")
    inline = item.content_type in ("image/png", "image/jpeg", "image/gif", "image/webp")
    response = FileResponse(item.file.open("rb"), content_type=item.content_type if inline else
                            "application/octet-stream", as_attachment=not inline, filename=item.filename)
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@chat_endpoint("POST", write=True)
def rating(request, channel, visitor: Visitor):
    """The satisfaction question after the chat: 1–5 and an optional comment, into the conversation's survey,
    the same data as the survey emailed after resolution (insights: CSAT goals and dashboard)."""
    data = json_body(request)
    conversation = conversations(channel, visitor).filter(pk=data.get("conversation")).first() \
        if isinstance(data.get("conversation"), int) else None
    if conversation is None:
        raise Refused(404, "conversation: not one of this chat")
    if conversation.status not in ("resolved", "closed"):
        raise Refused(409, "the chat has not ended yet")
    try:
        survey = answer_survey(open_survey(conversation), rating=data.get("rating"),
                               comment=text_field(data, "comment", MAX_TEXT))
    except ActionError as exc:
        raise Refused(400, exc.message) from None
    return JsonResponse({"rating": survey.rating, "comment": bool(survey.comment)})
