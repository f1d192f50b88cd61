"""Every change to conversations, messages, teams and agents goes through a function here.

Each function validates, writes inside one transaction, records the change in the
conversation's event log and publishes a domain event after commit.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext

from resonanz.connectors.drivers import get_driver
from resonanz.connectors.drivers.base import DriverError
from resonanz.connectors.intake import IdentityClaim, InboundMessage, SourceChange
from resonanz.connectors.models import Channel
from resonanz.core import audit, hooks, pipeline
from resonanz.core.errors import ActionError
from resonanz.core.events import publish
from resonanz.core.permissions import can, denied_message
from resonanz.core.sanitize import clean_text, html_to_text, sanitize_html, text_to_html
from resonanz.crm.actions import claim_identity, get_tags
from resonanz.inbox import delivery, groupcommit, ingestion, macros
from resonanz.inbox import files as reply_files
from resonanz.inbox import typing as typing_signal
from resonanz.inbox.delivery import apply_delivery_updates, deliver, record_delivery
from resonanz.inbox.eventlog import record
from resonanz.inbox.ingestion import IngestResult
from resonanz.inbox.models import (
    FILTER_KINDS,
    AgentProfile,
    Attachment,
    Conversation,
    ConversationEvent,
    Macro,
    Message,
    SavedView,
    Team,
    Viewer,
)
from resonanz.inbox.queries import visible_conversations

log = logging.getLogger("resonanz.inbox")
User = get_user_model()
MAX_DELIVERY_ATTEMPTS = delivery.MAX_ATTEMPTS
__all__ = ["IngestResult", "apply_delivery_updates", "deliver", "ingest", "ingest_many", "record",
           "record_delivery"]


def ingest(channel: Channel, inbound: InboundMessage, *, is_demo: bool = False) -> IngestResult:
    """The single entry for one inbound message, whatever the channel (API, forms, webhooks).

    Stored in its own transaction before this returns, so an answer of 201 means the message is
    durable; idempotent on channel + external id (a redelivery returns the stored message and
    changes nothing). Raises ActionError when the message cannot be stored (no id, no text, no sender).
    """
    result = ingest_many(channel, [inbound], is_demo=is_demo)[0]
    if isinstance(result, ActionError):
        raise result
    return result


def ingest_many(channel: Channel, messages: list[InboundMessage], *, batch_size: int = 500,
                is_demo: bool = False) -> list[IngestResult | ActionError]:
    """Ingest a batch from one channel (a poll, an import): one transaction per ``batch_size`` messages.

    Results come back in the order of ``messages``, a refused message as its ActionError. If another
    writer stores one of the messages (or creates one of the senders) at the same moment, the batch is
    rolled back and done again message by message, each in its own transaction; nothing is stored twice.
    A few messages outside an open transaction (one API request, one webhook) commit together with other
    requests that arrive at the same time (``inbox/groupcommit.py``), still before this returns.
    """
    if (0 < len(messages) <= groupcommit.MAX_TICKET and settings.RESONANZ_INGEST_GROUP_COMMIT
            and not transaction.get_connection().in_atomic_block):
        return _group.submit(channel, messages, is_demo=is_demo)
    results: list[IngestResult | ActionError] = []
    for start in range(0, len(messages), batch_size):
        results.extend(_ingest_chunk(channel, messages[start:start + batch_size], is_demo))
    return results


def _ingest_chunk(channel: Channel, chunk: list[InboundMessage], is_demo: bool) -> list[IngestResult | ActionError]:
    try:
        with transaction.atomic():  # a single message is inserted first: its redelivery is rare
            stored = ingestion.store(channel, chunk, is_demo=is_demo, look_up=len(chunk) > 1)
    except IntegrityError:
        stored = [_one_by_one(channel, inbound, is_demo) for inbound in chunk]
    _after_commit(stored)
    return stored


def _one_by_one(channel: Channel, inbound: InboundMessage, is_demo: bool) -> IngestResult | ActionError:
    for _attempt in range(3):  # the other writer's row is visible once its transaction committed
        try:
            with transaction.atomic():
                return ingestion.store(channel, [inbound], is_demo=is_demo)[0]
        except IntegrityError:
            continue
    raise IntegrityError(f"message {inbound.external_id!r} could not be stored or found")


def _store_group(tickets: list[groupcommit.Ticket]) -> None:
    """Every ticket of a group commit, inside its one transaction: one ``store`` per channel over all of them."""
    by_channel: dict[tuple, list[groupcommit.Ticket]] = {}
    for ticket in tickets:
        by_channel.setdefault((ticket.channel.pk, ticket.is_demo), []).append(ticket)
    for (_pk, is_demo), group in by_channel.items():
        items = [item for ticket in group for item in ticket.items]
        stored = ingestion.store(group[0].channel, items, is_demo=is_demo, look_up=len(items) > 1)
        start = 0
        for ticket in group:
            ticket.results = stored[start:start + len(ticket.items)]
            start += len(ticket.items)


def _store_alone(ticket: groupcommit.Ticket) -> list[IngestResult | ActionError]:
    """A ticket of a group that failed, message by message (looked up first: the group may have failed on one)."""
    stored = [_one_by_one(ticket.channel, inbound, ticket.is_demo) for inbound in ticket.items]
    _after_commit(stored)
    return stored


def _after_commit(results: list) -> None:
    """Domain events for new customer messages and a kick for the pipeline, once the batch committed."""
    new = [r for r in results if isinstance(r, IngestResult) and r.created]
    for r in new:
        if r.message.direction == Message.Direction.INBOUND:
            publish("message.received", message_id=r.message.pk, conversation_id=r.conversation.pk)
    if any(r.message.pipeline_state == Message.Pipeline.PENDING for r in new):
        transaction.on_commit(pipeline.kick)


_group = groupcommit.GroupCommit(_store_group, _store_alone, _after_commit)


def record_outbound(conversation: Conversation, *, external_id: str, text: str, author: str = "",
                    sent_at: datetime | None = None, in_reply_to: str = "", is_public: bool = False) -> Message:
    """A reply the company sent elsewhere (history), added to a conversation: stored as sent, never delivered."""
    last = (Message.objects.filter(conversation=conversation).exclude(external_id=None)
            .order_by("-id").values_list("external_id", flat=True).first())
    with transaction.atomic():
        result = ingestion.store(conversation.channel, [InboundMessage(
            external_id=external_id, sender_handle=author or "company", text=text, sent_at=sent_at,
            in_reply_to=in_reply_to or last or "", is_public=is_public, outbound=True, history=True,
        )])[0]
    if isinstance(result, ActionError):
        raise result
    return result.message


# --- replies and notes -------------------------------------------------------------------------


MAX_REPLY_IMAGE_BYTES = 8 * 1024 * 1024


def _check_images(driver, images: list[dict]) -> None:
    """Files go out only where the channel sends them, within the platform's types and sizes; images with a
    description for screen readers where the platform shows one."""
    if images and not (driver.sends_images or driver.reply_media):
        raise ActionError("This channel cannot send images or documents.", "images")
    label = driver.channel.kind_label
    for image in images:
        content_type = str(image.get("content_type", ""))
        kind = "image" if content_type.startswith("image/") else "document"
        size = len(image.get("content") or b"")
        name = image.get("filename") or "The file"
        if driver.reply_media:
            rule = driver.reply_media.get(kind)
            if rule is None:
                raise ActionError(f"{label} cannot send {kind}s from Resonanz; "
                                  f"send {'a link' if kind == 'document' else 'it as a document'} instead.", "images")
            limit, types = rule
            if types and content_type not in types:
                raise ActionError(f"{name}: {label} takes {kind}s only as {', '.join(types)}.", "images")
            if size > limit:
                raise ActionError(f"{name} has {size // 1024:,} KB; {label} takes {kind}s of at most "
                                  f"{limit // (1024 * 1024)} MB.", "images")
        else:
            if kind != "image":
                raise ActionError(f"{name} is not an image.", "images")
            if size > MAX_REPLY_IMAGE_BYTES:
                raise ActionError("An image may be at most 8 MB.", "images")
        if kind == "image" and driver.describes_images and not str(image.get("alt") or "").strip():
            raise ActionError("Describe the image (alt text) for people who cannot see it.", "images")


def send_reply(conversation: Conversation, author, text: str, *, status: str | None = None,
               is_public: bool | None = None, meta: dict | None = None, images: list[dict] | None = None,
               files: list[dict] | None = None) -> Message:
    """An agent's answer, sent through the conversation's channel driver after commit.

    ``images``: media for social and messaging channels, ``{"filename", "content_type", "content", "alt"}``
    each (images and, where the platform takes them, documents), stored as the reply's attachments with the
    images' alt text in ``meta["alt"]`` (attachment id -> text), checked against the platform's limits
    (``Driver.reply_media``) and uploaded by the driver with the platform's own upload flow.
    ``files``: mail attachments ``{"filename", "content"}`` for channels that send files (email, web form),
    checked against the limits in ``inbox/files.py``; refused before anything is stored where the channel
    cannot send them."""
    text = clean_text(text).strip()
    if not text:
        raise ActionError("The reply is empty.", "text")
    if conversation.merged_into_id:
        raise ActionError(gettext("%(a)s is merged into %(b)s; reply there.") % {
            "a": conversation.reference, "b": f"RZ-{conversation.merged_into_id}"}, "conversation", status=409)
    agent = getattr(author, "agent", None)
    channel = conversation.channel
    driver = get_driver(channel)
    images = list(images or [])
    _check_images(driver, images)
    refusal = driver.check_files(images, conversation) if images else ""
    if refusal:
        raise ActionError(refusal, "images")
    files = reply_files.checked(list(files or []), channel_label=f"{channel.name} ({channel.kind_label})",
                                sends_files=driver.sends_files)
    refusal = driver.check_window(conversation, meta or {})
    if refusal:
        raise ActionError(refusal, "text")
    if not (meta or {}).get("template"):
        text = driver.sign(text, agent)
    if is_public is None:  # a reply to a private message (a direct message) stays private
        last = (conversation.messages.filter(direction=Message.Direction.INBOUND).order_by("-sent_at", "-id")
                .values_list("is_public", flat=True).first())
        is_public = driver.public and (last if last is not None else conversation.is_public)
    refusal = driver.check_reply(text, conversation)
    if refusal:
        raise ActionError(refusal, "text")
    # Apps above may hold the reply (approval raises ReplyHeld, an ActionError) or record warnings
    # (guideline checks); an approved reply comes back through this function.
    hooks.run("reply_check", conversation=conversation, author=author, text=text, status=status,
              is_public=is_public, attachments=len(files) + len(images))
    now = timezone.now()
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        answered, answered_status = None, None
        if not is_public and conversation.is_public and driver.private_replies:
            # A private reply to a comment or mention is a direct message: it goes where the platform puts it,
            # the customer's private conversation, which their answer joins; the public one is marked answered.
            comment = (conversation.messages.filter(direction=Message.Direction.INBOUND)
                       .order_by("-sent_at", "-id").only("pk").first())
            if comment is not None:
                answered, conversation = conversation, _private_conversation(conversation, author, now)
                meta = {**(meta or {}), "private_reply_to": comment.pk}
                status, answered_status = None, status
        message = Message.objects.create(
            conversation=conversation, channel=channel, direction=Message.Direction.OUTBOUND,
            author_user=author, text=text, html=text_to_html(text),
            subject=_reply_subject(conversation),
            is_public=is_public,
            delivery_status=Message.Delivery.QUEUED, sent_at=now, meta=meta or {},
        )
        if images:
            alt = {}
            for image in images:
                attachment = Attachment(message=message, filename=clean_text(image.get("filename") or "image", 255),
                                        content_type=str(image["content_type"])[:120], size=len(image["content"]))
                attachment.file.save(attachment.filename, ContentFile(image["content"]), save=False)
                attachment.save()
                alt[str(attachment.pk)] = clean_text(str(image.get("alt") or ""), 1500).strip()
            message.meta = {**message.meta, "alt": alt}
            message.save(update_fields=["meta"])
        for item in files:
            attachment = Attachment(message=message, filename=item["filename"], content_type=item["content_type"],
                                    size=len(item["content"]))
            attachment.file.save(attachment.filename, ContentFile(item["content"]), save=False)
            attachment.save()
        updates = ["last_activity_at", "waiting_for_us", "message_count"]
        conversation.last_activity_at = now
        conversation.waiting_for_us = False
        conversation.message_count += 1
        if not conversation.first_response_at:
            conversation.first_response_at = now
            updates.append("first_response_at")
        new_status = status or (Conversation.Status.OPEN if conversation.status == Conversation.Status.NEW else None)
        if new_status and new_status != conversation.status:
            _apply_status(conversation, new_status, author, updates)
        if conversation.assignee_id is None and author is not None and agent and not agent.is_bot:
            conversation.assignee = author
            updates.append("assignee")
            record(conversation, "assigned", actor=author, assignee=author.pk, reason="answered by this agent")
        conversation.save(update_fields=updates)
        record(conversation, "reply_sent", actor=author, message_id=message.pk)
        if answered is not None:
            _answered_privately(answered, conversation, message, author, answered_status, now)
        typing_signal.stop_typing((answered or conversation).pk, "agent")
        transaction.on_commit(lambda: delivery.deliver_later(message.pk))
    publish("message.sent", message_id=message.pk, conversation_id=conversation.pk)
    return message


def _private_conversation(public: Conversation, author, now) -> Conversation:
    """The customer's open private conversation on the channel (their direct messages), or a new one for a
    private reply to their comment; locked for the caller's transaction."""
    found = (Conversation.objects.select_for_update()
             .filter(channel_id=public.channel_id, contact_id=public.contact_id, is_public=False,
                     status__in=Conversation.OPEN_STATUSES, merged_into__isnull=True)
             .order_by("-last_activity_at", "-id").first())
    if found is not None:
        record(found, "private_reply_from", actor=author, source=public.pk)
        return found
    private = Conversation.objects.create(
        subject=public.subject, channel_id=public.channel_id, contact_id=public.contact_id, team_id=public.team_id,
        priority=public.priority, created_at=now, last_activity_at=now, waiting_for_us=False, is_public=False,
        is_demo=public.is_demo)
    record(private, "created", actor=author, channel=public.channel_id)
    record(private, "private_reply_from", actor=author, source=public.pk)
    publish("conversation.created", conversation_id=private.pk)
    return private


def _answered_privately(public: Conversation, private: Conversation, message: Message, author, status, now) -> None:
    """The public conversation of a comment answered by a private reply: answered, with a link to where it went."""
    updates = ["last_activity_at", "waiting_for_us"]
    public.last_activity_at, public.waiting_for_us = now, False
    if not public.first_response_at:
        public.first_response_at = now
        updates.append("first_response_at")
    new_status = status or (Conversation.Status.OPEN if public.status == Conversation.Status.NEW else None)
    if new_status and new_status != public.status:
        _apply_status(public, new_status, author, updates)
    public.save(update_fields=updates)
    record(public, "private_reply_sent", actor=author, into=private.pk, message_id=message.pk)


def apply_source_changes(channel: Channel, changes: list[SourceChange]) -> list[int]:
    """A customer edited or deleted a message at its source: the intake's handler for the inbox.

    The message stays (the conversation's history and what agents answered must still make sense) and is
    marked: deleted ones with when, edited ones with their new text, the first text kept in ``meta``.
    Returns how many messages each change touched; the same change twice touches nothing the second time.
    """
    changed = []
    for change in changes:
        if change.change not in SourceChange.CHANGES:
            changed.append(0)
            continue
        message = (Message.objects.select_related("conversation")
                   .filter(channel=channel, direction=Message.Direction.INBOUND,
                           external_id=clean_text(change.external_id, 300)).first())
        if message is None:
            changed.append(0)
            continue
        meta = dict(message.meta or {})
        at = (change.at or timezone.now()).isoformat()
        html = sanitize_html(change.html) if change.html else ""
        text = clean_text(change.text) or (html_to_text(html) if html else "")
        if change.change == "deleted":
            if meta.get("deleted_at"):
                changed.append(0)
                continue
            meta["deleted_at"] = at
            updates: dict = {"meta": meta}
        else:
            if not text.strip() or text == message.text:
                changed.append(0)
                continue
            meta.setdefault("original_text", message.text)
            meta["edited_at"] = at
            updates = {"meta": meta, "text": text, "html": html or text_to_html(text)}
        with transaction.atomic():
            Message.objects.filter(pk=message.pk).update(**updates)
            record(message.conversation, f"message_{change.change}_at_source", message_id=message.pk)
        publish("message.changed", message_id=message.pk, conversation_id=message.conversation_id)
        changed.append(1)
    return changed


MAX_TEMPLATE_PARAM = 1024  # WhatsApp accepts at most 1,024 characters per body parameter


def send_template(conversation: Conversation, author, template: str, params: list[str]) -> Message:
    """An approved template (WhatsApp) with its placeholders filled, the only reply allowed after the channel's
    window closed (allowed inside it too). ``template`` is its key, "name:language"; every placeholder needs a
    value. The platform's list is asked, so a template withdrawn since the page was opened is refused."""
    driver = get_driver(conversation.channel)
    try:
        templates = {t.key: t for t in driver.reply_templates()}
    except Exception as exc:  # the platform is down or the token was revoked: say so, queue nothing
        raise ActionError(f"The templates could not be loaded: {str(exc)[:300]}", "template", status=503) from exc
    if not templates:
        raise ActionError("This channel has no approved templates.", "template")
    found = templates.get(str(template))
    if found is None:
        raise ActionError(f"{template!r} is not (or no longer) an approved template; one of: "
                          f"{', '.join(sorted(templates))[:500]}.", "template")
    values = [clean_text(str(v), MAX_TEMPLATE_PARAM + 1).strip() for v in params or []]
    if len(values) != found.params or not all(values):
        raise ActionError(f"{found.name} has {found.params} placeholder(s); give a non-empty value for each.",
                          "params")
    if any(len(v) > MAX_TEMPLATE_PARAM for v in values):
        raise ActionError(f"A placeholder value may have at most {MAX_TEMPLATE_PARAM} characters.", "params")
    return send_reply(conversation, author, found.render(values),
                      meta={"template": {"name": found.name, "language": found.language, "params": values}})


COMMENT_ACTIONS = {"hide": "comment_hidden", "unhide": "comment_shown", "delete": "comment_deleted"}


def moderate_comment(message: Message, actor, action: str, *, reason: str = "") -> Message:
    """Hide, show again or delete a customer's public comment on the platform (an abusive comment under the
    page's post), recorded in the conversation's event log. The message stays in Resonanz with the mark: the
    conversation's history must still make sense, and what was said may matter later."""
    if action not in COMMENT_ACTIONS:
        raise ActionError("Choose hide, unhide or delete.", "action")
    driver = get_driver(message.channel)
    if message.direction != Message.Direction.INBOUND or not message.is_public or not driver.moderates_comments:
        raise ActionError("Only customers' public comments can be hidden or deleted.", "action")
    meta = dict(message.meta or {})
    moderation = dict(meta.get("moderation") or {})
    if moderation.get("deleted_at"):
        raise ActionError("This comment was already deleted on the platform.", "action")
    try:
        driver.moderate_comment(message, action)  # on the platform first: nothing is marked that did not happen
    except DriverError as exc:
        raise ActionError(str(exc), "action") from exc
    now = timezone.now().isoformat()
    if action == "delete":
        moderation["deleted_at"] = now
    else:
        moderation["hidden"] = action == "hide"
    moderation["by"] = getattr(actor, "pk", None)
    meta["moderation"] = moderation
    with transaction.atomic():
        Message.objects.filter(pk=message.pk).update(meta=meta)
        record(message.conversation, COMMENT_ACTIONS[action], actor=actor, reason=clean_text(reason, 500),
               message_id=message.pk)
    message.meta = meta
    publish("message.changed", message_id=message.pk, conversation_id=message.conversation_id)
    return message


def _reply_subject(conversation: Conversation) -> str:
    subject = conversation.subject or ""
    tag = f"[{conversation.reference}]"
    return subject if tag in subject else f"{subject} {tag}".strip()


def add_note(conversation: Conversation, author, text: str) -> Message:
    text = clean_text(text).strip()
    if not text:
        raise ActionError("The note is empty.", "text")
    with transaction.atomic():
        message = Message.objects.create(
            conversation=conversation, channel=conversation.channel, direction=Message.Direction.NOTE,
            author_user=author, text=text, html=text_to_html(text), delivery_status=Message.Delivery.STORED,
            sent_at=timezone.now(),
        )
        Conversation.objects.filter(pk=conversation.pk).update(message_count=F("message_count") + 1)
        record(conversation, "note_added", actor=author, message_id=message.pk)
    publish("note.added", message_id=message.pk, conversation_id=conversation.pk)
    return message


# --- conversation fields -----------------------------------------------------------------------


def _apply_status(conversation: Conversation, status: str, actor, updates: list[str], reason: str = "") -> None:
    if status not in Conversation.Status.values:
        raise ActionError(f"Unknown status {status!r}; use one of {', '.join(Conversation.Status.values)}.", "status")
    old = conversation.status
    conversation.status = status
    updates.append("status")
    if status in (Conversation.Status.RESOLVED, Conversation.Status.CLOSED) and not conversation.resolved_at:
        conversation.resolved_at = timezone.now()
        updates.append("resolved_at")
    elif status in Conversation.OPEN_STATUSES and conversation.resolved_at:
        conversation.resolved_at = None
        updates.append("resolved_at")
    record(conversation, "status_changed", actor=actor, old=old, new=status, reason=reason)


def update_conversation(conversation: Conversation, actor, *, status: str | None = None,
                        priority: int | None = None, team: Team | None | str = "unchanged",
                        assignee=(), tags: list[str] | None = None, subject: str | None = None,
                        reason: str = "") -> Conversation:
    """Change any of status, priority, team, assignee, tags or subject in one transaction."""
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        updates: list[str] = []
        if status is not None and status != conversation.status:
            _apply_status(conversation, status, actor, updates, reason)
        if priority is not None and int(priority) != conversation.priority:
            if int(priority) not in Conversation.Priority.values:
                raise ActionError("Priority must be 1 (low) to 4 (urgent).", "priority")
            record(conversation, "priority_changed", actor=actor, old=conversation.priority, new=int(priority),
                   reason=reason)
            conversation.priority = int(priority)
            updates.append("priority")
        if team != "unchanged" and (team.pk if team else None) != conversation.team_id:
            if team is not None and not team.is_active:
                raise ActionError(f"Team {team} is inactive.", "team")
            record(conversation, "team_changed", actor=actor, old=conversation.team_id,
                   new=team.pk if team else None, reason=reason)
            conversation.team = team
            updates.append("team")
        if assignee != () and (assignee.pk if assignee else None) != conversation.assignee_id:
            if assignee is not None and not assignee.is_active:
                raise ActionError(f"{assignee} is deactivated and cannot be assigned.", "assignee")
            record(conversation, "assigned", actor=actor, old=conversation.assignee_id,
                   assignee=assignee.pk if assignee else None, reason=reason)
            conversation.assignee = assignee
            updates.append("assignee")
        if subject is not None and subject.strip() and subject.strip() != conversation.subject:
            record(conversation, "subject_changed", actor=actor, old=conversation.subject, new=subject.strip())
            conversation.subject = subject.strip()[:300]
            updates.append("subject")
        if updates:
            conversation.save(update_fields=updates)
        if tags is not None:
            new_tags = get_tags(tags)
            old_names = sorted(conversation.tags.values_list("name", flat=True))
            new_names = sorted(t.name for t in new_tags)
            if old_names != new_names:
                conversation.tags.set(new_tags)
                record(conversation, "tags_changed", actor=actor, old=old_names, new=new_names, reason=reason)
                updates.append("tags")
    if updates:
        publish("conversation.updated", conversation_id=conversation.pk, fields=updates)
    return conversation


def set_filtered(conversation: Conversation, actor, kind: str, reason: str = "") -> Conversation:
    """Move a conversation into the filtered view (``kind`` says as what) or back to the inbox (``kind=""``).

    Agents release a monitoring notice that is real work, or filter a newsletter by hand; rules do both.
    Released conversations wait for an answer again like any customer's message."""
    kind = (kind or "").strip()
    if kind and kind not in {k for k, _label in FILTER_KINDS}:
        raise ActionError(f"Unknown filter {kind!r}; use one of {', '.join(k for k, _l in FILTER_KINDS)}.",
                          "filtered")
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        if conversation.filtered == kind:
            return conversation
        old = conversation.filtered
        conversation.filtered = kind
        conversation.filtered_reason = clean_text(reason, 500) if kind else ""
        updates = ["filtered", "filtered_reason"]
        if not kind and conversation.is_open and conversation.last_inbound_at:
            conversation.waiting_for_us = True
            updates.append("waiting_for_us")
        elif kind:
            conversation.waiting_for_us = False
            updates.append("waiting_for_us")
        conversation.save(update_fields=updates)
        record(conversation, "filtered" if kind else "unfiltered", actor=actor, old=old, new=kind,
               reason=reason[:500])
    if actor is not None:  # "conversation updated" rules run on people's changes only: no loops
        publish("conversation.updated", conversation_id=conversation.pk, fields=["filtered"])
    return conversation


def assign(conversation: Conversation, assignee, actor=None, reason: str = "") -> Conversation:
    return update_conversation(conversation, actor, assignee=assignee, reason=reason)


# --- teams and agents --------------------------------------------------------------------------

DEFAULT_TEAMS = ["Support", "Sales", "Marketing", "PR", "Legal"]


def create_team(name: str, *, description: str = "", email: str = "", is_active: bool = True) -> Team:
    name = (name or "").strip()
    if not name:
        raise ActionError("A team needs a name.", "name")
    if Team.objects.filter(name__iexact=name).exists():
        raise ActionError(f"A team named {name!r} exists already.", "name", status=409)
    return Team.objects.create(name=name, slug=_unique_slug(Team, name), description=description, email=email,
                               is_active=is_active)


def update_team(team: Team, **fields) -> Team:
    for key in ("name", "description", "email", "is_active"):
        if key in fields:
            setattr(team, key, fields[key])
    if not team.name.strip():
        raise ActionError("A team needs a name.", "name")
    team.save()
    return team


def move_contact_rows(keep, drop, actor=None) -> None:
    """crm's ``contact_merged`` hook: the dropped contact's conversations and messages move to the kept one."""
    conversation_ids = list(Conversation.objects.filter(contact=drop).values_list("pk", flat=True))
    Conversation.objects.filter(contact=drop).update(contact=keep)
    Message.objects.filter(author_contact=drop).update(author_contact=keep)
    reason = f"contact #{drop.pk} ({drop}) merged into #{keep.pk} ({keep})"
    ConversationEvent.objects.bulk_create(
        ConversationEvent(conversation_id=cid, actor=actor, kind="contact_merged",
                          data={"from": drop.pk, "into": keep.pk}, reason=reason[:500])
        for cid in conversation_ids
    )


def ensure_default_teams() -> None:
    for name in DEFAULT_TEAMS:
        Team.objects.get_or_create(name=name, defaults={"slug": slugify(name)})


def check_password_strength(password: str, user) -> None:
    """AUTH_PASSWORD_VALIDATORS for every password set through an action (UI, API, CLI alike)."""
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ActionError(" ".join(exc.messages), "password") from None


@transaction.atomic
def invite_agent(email: str, *, display_name: str = "", role: str = "agent", teams: list[Team] = (),
                 language: str = "en", initials: str = "", password: str | None = None):
    """Create an agent's account; without a password the agent sets one through a one-time link."""
    email = (email or "").strip().lower()
    if "@" not in email:
        raise ActionError("Enter the agent's email address.", "email")
    if User.objects.filter(username__iexact=email).exists():
        raise ActionError(f"{email} has an account already.", "email", status=409)
    if role not in AgentProfile.Role.values:
        raise ActionError(f"Unknown role {role!r}.", "role")
    if password is not None:
        check_password_strength(password, User(username=email, email=email))
    user = User.objects.create_user(username=email, email=email, password=password)
    if password is None:
        user.set_unusable_password()
    user.is_staff = role == "admin"
    user.save()
    display_name = display_name.strip() or email.split("@")[0]
    profile = AgentProfile.objects.create(
        user=user, display_name=display_name, role=role, language=language,
        initials=(initials or _initials(display_name))[:6],
    )
    profile.teams.set(teams)
    return user


def update_agent(profile: AgentProfile, *, teams: list[Team] | None = None, **fields) -> AgentProfile:
    allowed = {"display_name", "initials", "avatar_url", "role", "language", "is_available", "max_load"}
    unknown = set(fields) - allowed
    if unknown:
        raise ActionError(f"Unknown agent fields: {', '.join(sorted(unknown))}.")
    if "role" in fields and fields["role"] not in AgentProfile.Role.values:
        raise ActionError(f"Unknown role {fields['role']!r}.", "role")
    with transaction.atomic():
        for key, value in fields.items():
            setattr(profile, key, value)
        profile.save()
        if "role" in fields:
            profile.user.is_staff = fields["role"] == "admin"
            profile.user.save(update_fields=["is_staff"])
        if teams is not None:
            profile.teams.set(teams)
    return profile


def set_agent_active(profile: AgentProfile, active: bool, actor=None) -> AgentProfile:
    """Deactivated agents cannot log in; their open conversations go back to their teams."""
    with transaction.atomic():
        profile.user.is_active = active
        profile.user.save(update_fields=["is_active"])
        if not active:
            for conversation in Conversation.objects.filter(
                assignee=profile.user, status__in=Conversation.OPEN_STATUSES
            ):
                assign(conversation, None, actor, reason=f"{profile} was deactivated")
    return profile


def ensure_bot_user(username: str, display_name: str, initials: str = "Bot"):
    """An account for automation (the virtual agent): an agent that never logs in and is never assigned."""
    user = User.objects.filter(username=username).first()
    if user is not None:
        return user
    with transaction.atomic():
        user = User.objects.create_user(username=username, email="", password=None)
        AgentProfile.objects.create(user=user, display_name=display_name, initials=initials, is_bot=True,
                                    role=AgentProfile.Role.AGENT)
    return user


def ensure_agent_profile(user) -> AgentProfile:
    profile = AgentProfile.objects.filter(user=user).first()
    if profile:
        return profile
    name = user.get_full_name() or user.username.split("@")[0]
    return AgentProfile.objects.create(
        user=user, display_name=name, initials=_initials(name),
        role=AgentProfile.Role.ADMIN if user.is_superuser else AgentProfile.Role.AGENT,
    )


def _initials(name: str) -> str:
    parts = [p for p in re.split(r"[\s._-]+", name) if p]
    return "".join(p[0].upper() for p in parts[:3]) or "?"


def _unique_slug(model, name: str) -> str:
    base = slugify(name) or "item"
    slug, n = base, 2
    while model.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


# --- macros (canned replies) and bulk changes ----------------------------------------------------------


def _can_keep_shared(user) -> bool:
    profile = getattr(user, "agent", None)
    return bool(user and (user.is_superuser or (profile and profile.is_supervisor)))


def save_macro(macro: Macro | None, actor, *, name: str, text: str = "", shared: bool = False, status: str = "",
               tags: list[str] | None = None, team: Team | None = None) -> Macro:
    """Create or change a macro; shared macros are kept by supervisors, personal ones by their owner."""
    name = (name or "").strip()
    if not name:
        raise ActionError("A macro needs a name.", "name")
    if not (text or "").strip() and not status and not tags and team is None:
        raise ActionError("A macro needs a text or something it sets (status, tags, team).", "text")
    if status and status not in Conversation.Status.values:
        raise ActionError(f"Unknown status {status!r}; use one of {', '.join(Conversation.Status.values)}.",
                          "status")
    if team is not None and not team.is_active:
        raise ActionError(f"Team {team} is inactive.", "team")
    if macro is not None:
        _check_macro_owner(macro, actor)
    if shared and not _can_keep_shared(actor):
        raise PermissionDenied("Only supervisors keep shared macros.")
    with transaction.atomic():
        macro = macro or Macro()
        macro.name, macro.text = name[:120], clean_text(text or "")
        macro.owner = None if shared else actor
        macro.status, macro.team = status or "", team
        macro.tags = sorted({t.strip()[:60] for t in (tags or []) if t and t.strip()})
        macro.save()
    publish("macro.saved", macro_id=macro.pk)
    return macro


def _check_macro_owner(macro: Macro, actor) -> None:
    if macro.owner_id is None and not _can_keep_shared(actor):
        raise PermissionDenied("Only supervisors change shared macros.")
    if macro.owner_id is not None and macro.owner_id != getattr(actor, "pk", None):
        raise PermissionDenied("This is another agent's personal macro.")


def delete_macro(macro: Macro, actor) -> None:
    _check_macro_owner(macro, actor)
    pk = macro.pk
    macro.delete()
    publish("macro.deleted", macro_id=pk)


def macros_for(user):
    """The macros an agent may use: the shared ones and their own, most used first within the name order."""
    return Macro.objects.filter(Q(owner__isnull=True) | Q(owner=user)).select_related("team")


def apply_macro(conversation: Conversation, macro: Macro, actor) -> str:
    """Use a macro on a conversation: sets its status, tags and team, and returns the text with the
    placeholders filled in for the reply box (the agent reads it before sending)."""
    if not macros_for(actor).filter(pk=macro.pk).exists():
        raise PermissionDenied("This is another agent's personal macro.")
    text = macros.render(macro.text, conversation, actor)
    with transaction.atomic():
        tags = None
        if macro.tags:
            tags = sorted(set(conversation.tags.values_list("name", flat=True)) | set(macro.tags))
        update_conversation(conversation, actor, status=macro.status or None, tags=tags,
                            team=macro.team if macro.team_id else "unchanged", reason=f"macro “{macro.name}”")
        record(conversation, "macro_applied", actor=actor, macro=macro.pk, reason=f"macro “{macro.name}”")
        Macro.objects.filter(pk=macro.pk).update(use_count=F("use_count") + 1)
    return text


BULK_LIMIT = 500


def bulk_update(conversation_ids: list[int], actor, *, status: str | None = None, team: Team | None | str = "unchanged",
                assignee=(), add_tags: list[str] | None = None) -> int:
    """The same change on many conversations (inbox rows selected by a supervisor), each with its own event log
    entry; all or none: a refused change (an inactive team) leaves every conversation as it was. A bulk change
    is for supervisors and administrators, touches only conversations the actor may see, and is audit-logged."""
    if not can(actor, "conversations.bulk"):
        raise PermissionDenied(denied_message("conversations.bulk"))
    ids = sorted({int(i) for i in conversation_ids})
    if not ids:
        raise ActionError("Select at least one conversation.", "conversations")
    if len(ids) > BULK_LIMIT:
        raise ActionError(f"At most {BULK_LIMIT} conversations at once.", "conversations")
    if status is None and team == "unchanged" and assignee == () and not add_tags:
        raise ActionError("Choose what to change: status, team, assignee or a tag.", "action")
    found = list(visible_conversations(Conversation.objects.filter(pk__in=ids), actor))
    if len(found) != len(ids):
        missing = sorted(set(ids) - {c.pk for c in found})
        raise ActionError(f"No conversation with id {', '.join(map(str, missing))}.", "conversations")
    with transaction.atomic():
        for conversation in found:
            tags = None
            if add_tags:
                tags = sorted(set(conversation.tags.values_list("name", flat=True)) | {t.strip() for t in add_tags})
            update_conversation(conversation, actor, status=status, team=team, assignee=assignee, tags=tags,
                                reason="bulk action")
        audit.record("conversation.bulk_update", actor=actor, target_type="inbox.conversation",
                     target_label=f"{len(found)} conversations", ids=ids, status=status or "",
                     team="" if team == "unchanged" else getattr(team, "pk", None),
                     assignee="" if assignee == () else getattr(assignee, "pk", None), add_tags=add_tags or [])
    return len(found)


# --- saved views ---------------------------------------------------------------------------------------


def save_view(view: SavedView | None, actor, *, name: str, params: dict, shared: bool = False) -> SavedView:
    """Keep the inbox filters under a name; only the known filter parameters are kept."""
    name = (name or "").strip()
    if not name:
        raise ActionError("A view needs a name.", "name")
    kept = {k: str(v)[:200] for k, v in (params or {}).items() if k in SavedView.PARAMS and v not in ("", None)}
    if view is not None and (view.owner_id is None and not _can_keep_shared(actor)
                             or view.owner_id not in (None, getattr(actor, "pk", None))):
        raise PermissionDenied("Only its owner or a supervisor changes this view.")
    if shared and not _can_keep_shared(actor):
        raise PermissionDenied("Only supervisors share views with everyone.")
    view = view or SavedView()
    view.name, view.params, view.owner = name[:80], kept, None if shared else actor
    view.save()
    publish("view.saved", view_id=view.pk)
    return view


def delete_view(view: SavedView, actor) -> None:
    if view.owner_id is None and not _can_keep_shared(actor) or view.owner_id not in (None, getattr(actor, "pk", None)):
        raise PermissionDenied("Only its owner or a supervisor deletes this view.")
    view.delete()


def views_for(user):
    return SavedView.objects.filter(Q(owner__isnull=True) | Q(owner=user))


def apply_identity_claims(channel: Channel, claims: list[IdentityClaim]) -> list:
    """The intake's handler for verified deep links: the sender's identity joins the contact the link named."""
    return [claim_identity(c.kind, c.handle, c.contact_id, source=f"{c.source} on {channel}") for c in claims]


# --- collision detection ---------------------------------------------------------------------------------


def mark_viewing(conversation: Conversation, user, *, typing: bool = False) -> list[dict]:
    """The agent has the conversation open (and is writing a reply, if ``typing``); answers who else has it
    open now. Presence is not a change of the conversation: no event log entry, no domain event."""
    now = timezone.now()
    Viewer.objects.update_or_create(conversation=conversation, user=user,
                                    defaults={"typing": bool(typing), "seen_at": now})
    if typing:  # the customer's chat widget shows that a person is writing
        agent = getattr(user, "agent", None)
        typing_signal.note_typing(conversation.pk, "agent", name=getattr(agent, "display_name", "") or "")
    recent = now - timedelta(seconds=Viewer.PRESENCE_SECONDS)
    Viewer.objects.filter(seen_at__lt=now - timedelta(hours=1)).delete()  # rows of long-closed pages
    others = (Viewer.objects.filter(conversation=conversation, seen_at__gte=recent).exclude(user=user)
              .select_related("user__agent").order_by("user_id"))
    return [{"user": v.user_id, "name": getattr(getattr(v.user, "agent", None), "display_name", "") or v.user.username,
             "typing": v.typing} for v in others]


def replies_since(conversation: Conversation, seen_message_id: int, user) -> list[Message]:
    """Replies others sent after the message the agent's page showed last: a reply now would cross them."""
    return list(Message.objects.filter(conversation=conversation, id__gt=seen_message_id,
                                       direction=Message.Direction.OUTBOUND)
                .exclude(author_user=user).select_related("author_user__agent").order_by("id"))


# --- merge and split conversations -----------------------------------------------------------------------


def _recount(conversation: Conversation) -> list[str]:
    """Counts and times of a conversation from the messages it holds now (after messages moved in or out)."""
    rows = list(Message.objects.filter(conversation=conversation).order_by("sent_at", "id")
                .values_list("direction", "sent_at", "created_at"))
    conversation.message_count = len(rows)
    times = [sent or created for _d, sent, created in rows]
    if times:
        conversation.last_activity_at = max(times)
    inbound = [sent or created for d, sent, created in rows if d == Message.Direction.INBOUND]
    conversation.last_inbound_at = max(inbound) if inbound else None
    spoken = [d for d, _s, _c in rows if d != Message.Direction.NOTE]
    conversation.waiting_for_us = bool(spoken) and spoken[-1] == Message.Direction.INBOUND
    return ["message_count", "last_activity_at", "last_inbound_at", "waiting_for_us"]


def merge_conversations(source: Conversation, target: Conversation, actor, *, reason: str = "") -> Conversation:
    """Move every message of ``source`` into ``target``; ``source`` stays, closed, as a link to ``target``.

    Both conversations must belong to one contact (merge the contacts first otherwise), so replies keep
    reaching the same customer. The moved message ids are kept in the event log: ``unmerge_conversation``
    moves exactly those back. A customer who answers an old mail of ``source`` ([RZ-n] in the subject or a
    reply to a moved message) lands in ``target``."""
    if source.pk == target.pk:
        raise ActionError(gettext("A conversation cannot be merged into itself."), "into")
    with transaction.atomic():
        locked = Conversation.objects.select_for_update().in_bulk([source.pk, target.pk])
        source, target = locked[source.pk], locked[target.pk]
        if source.merged_into_id:
            raise ActionError(gettext("%(a)s is merged into %(b)s already.") % {
                "a": source.reference, "b": f"RZ-{source.merged_into_id}"}, "into")
        if target.merged_into_id:
            raise ActionError(gettext("%(a)s is merged into %(b)s; merge into that one.") % {
                "a": target.reference, "b": f"RZ-{target.merged_into_id}"}, "into")
        if source.contact_id != target.contact_id:
            raise ActionError(gettext("%(a)s and %(b)s belong to different contacts; merge the contacts first, "
                                      "then the conversations.") % {"a": source.reference, "b": target.reference},
                              "into")
        moved = list(Message.objects.filter(conversation=source).values_list("pk", flat=True))
        Message.objects.filter(pk__in=moved).update(conversation=target)
        target_updates = _recount(target)
        if target.created_at > source.created_at:
            target.created_at = source.created_at
            target_updates.append("created_at")
        if not target.is_open and source.is_open and target.waiting_for_us:
            _apply_status(target, Conversation.Status.OPEN, actor, target_updates, reason=f"merged {source.reference}")
        target.save(update_fields=target_updates)
        target.tags.add(*source.tags.all())
        old_status = source.status
        updates = _recount(source) + ["merged_into"]
        source.merged_into = target
        if source.status != Conversation.Status.CLOSED:
            _apply_status(source, Conversation.Status.CLOSED, actor, updates, reason=f"merged into {target.reference}")
        source.save(update_fields=updates)
        record(source, "merged_into", actor=actor, into=target.pk, messages=moved, old_status=old_status,
               reason=reason[:500])
        record(target, "merged", actor=actor, source=source.pk, messages=moved, reason=reason[:500])
        audit.record("conversation.merge", actor=actor, target=target, merged_id=source.pk, messages=len(moved))
    publish("conversation.updated", conversation_id=source.pk, fields=["merged_into", "status"])
    publish("conversation.updated", conversation_id=target.pk, fields=["messages"])
    return target


def unmerge_conversation(source: Conversation, actor) -> Conversation:
    """Undo a merge: the messages that came from ``source`` go back, and it gets its former status again.
    Messages that arrived in the merged conversation since then stay where they are."""
    with transaction.atomic():
        source = Conversation.objects.select_for_update().get(pk=source.pk)
        if not source.merged_into_id:
            raise ActionError(gettext("%(a)s is not merged into another conversation.") % {"a": source.reference},
                              "conversation")
        target = Conversation.objects.select_for_update().get(pk=source.merged_into_id)
        event = source.events.filter(kind="merged_into").order_by("-id").first()
        data = event.data if event else {}
        ids = [int(i) for i in data.get("messages", [])]
        # wherever they are now (the target, or a conversation split off or merged on from it later)
        rows = list(Message.objects.filter(pk__in=ids).exclude(conversation=source)
                    .values_list("pk", "conversation_id"))
        back = [pk for pk, _conv in rows]
        Message.objects.filter(pk__in=back).update(conversation=source)
        for other in Conversation.objects.select_for_update().filter(pk__in={c for _pk, c in rows} - {target.pk}):
            other.save(update_fields=_recount(other))
        updates = _recount(source) + ["merged_into"]
        source.merged_into = None
        old = data.get("old_status") or Conversation.Status.OPEN
        if old != source.status:
            _apply_status(source, old, actor, updates, reason=f"merge into {target.reference} undone")
        source.save(update_fields=updates)
        target.save(update_fields=_recount(target))
        record(source, "unmerged", actor=actor, source=source.pk, into=target.pk, messages=back)
        record(target, "unmerged", actor=actor, source=source.pk, into=target.pk, messages=back)
        audit.record("conversation.unmerge", actor=actor, target=source, from_id=target.pk, messages=len(back))
    publish("conversation.updated", conversation_id=source.pk, fields=["merged_into", "status", "messages"])
    publish("conversation.updated", conversation_id=target.pk, fields=["messages"])
    return source


def split_conversation(conversation: Conversation, message_ids: list[int], actor, *, subject: str = "") -> Conversation:
    """Move the selected messages into a new conversation of the same customer and channel (a second
    question asked in one mail thread). At least one message stays. Answers to a moved message thread into
    the new conversation, because threading follows the message a customer replies to."""
    ids = sorted({int(i) for i in message_ids})
    if not ids:
        raise ActionError(gettext("Select the messages that become a new conversation."), "messages")
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        if conversation.merged_into_id:
            raise ActionError(gettext("%(a)s is merged; split %(b)s instead.") % {
                "a": conversation.reference, "b": f"RZ-{conversation.merged_into_id}"}, "messages")
        selected = list(Message.objects.filter(conversation=conversation, pk__in=ids).order_by("sent_at", "id"))
        if len(selected) != len(ids):
            missing = sorted(set(ids) - {m.pk for m in selected})
            raise ActionError(gettext("Message %(ids)s is not part of %(a)s.") % {
                "ids": ", ".join(map(str, missing)), "a": conversation.reference}, "messages")
        if len(ids) >= Message.objects.filter(conversation=conversation).count():
            raise ActionError(gettext("Leave at least one message in this conversation; select fewer."), "messages")
        subject = clean_text(subject or "", 300).strip() or next(
            (m.subject for m in selected if m.subject), "") or conversation.subject
        first = selected[0].sent_at or selected[0].created_at
        new = Conversation.objects.create(
            subject=subject, channel=conversation.channel, contact=conversation.contact, team=conversation.team,
            assignee=conversation.assignee, priority=conversation.priority, status=Conversation.Status.OPEN,
            created_at=first, last_activity_at=first, is_demo=conversation.is_demo,
            is_public=conversation.is_public, thread_key=conversation.thread_key,
        )
        Message.objects.filter(pk__in=ids).update(conversation=new)
        new.save(update_fields=_recount(new))
        new.tags.set(conversation.tags.all())
        conversation.save(update_fields=_recount(conversation))
        record(new, "split_from", actor=actor, source=conversation.pk, messages=ids)
        record(conversation, "split", actor=actor, into=new.pk, messages=ids)
        audit.record("conversation.split", actor=actor, target=conversation, new_id=new.pk, messages=len(ids))
    publish("conversation.updated", conversation_id=conversation.pk, fields=["messages"])
    publish("conversation.created", conversation_id=new.pk)
    return new


def merge_candidates(conversation: Conversation, user, query: str = "", limit: int = 20):
    """Conversations ``conversation`` can be merged into: the same customer's, open ones and the latest first;
    ``query`` narrows them by ticket number (RZ-12 or 12) or subject."""
    qs = (visible_conversations(Conversation.objects.all(), user)
          .filter(contact_id=conversation.contact_id, merged_into__isnull=True).exclude(pk=conversation.pk))
    query = (query or "").strip()
    if query:
        number = re.fullmatch(r"(?:RZ-?)?(\d{1,18})", query, flags=re.IGNORECASE)
        qs = qs.filter(pk=int(number.group(1))) if number else qs.filter(subject__icontains=query)
    return list(qs.select_related("channel").order_by("-last_activity_at")[:limit])
