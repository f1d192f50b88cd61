"""The ingestion core: how inbound messages (and imported history) become stored rows.

One writer for every way in: a single message from the API, a form or a webhook, a poll of a mailbox
or a social network, and a bulk import of history. ``store(channel, items)`` writes one batch inside
the caller's transaction with every lookup done once per batch (stored ids, contacts, parents,
open conversations) and multi-row inserts, so one message and a million take the same code path.

Rules it keeps (the principle "nothing is lost"):
- Store first, idempotent on (channel, external id): a redelivered item returns the stored message.
- Threading: a reply reference (in this batch or stored) → ``[RZ-<id>]`` in the subject → the contact's
  open conversation on this channel (live messages; history threads by reply links only) → a new one.
  Public items (comments, mentions) and private ones (mail, direct messages) of one person never share a
  conversation: each joins only a conversation of its own kind (``Conversation.is_public``), and a public
  item only one about the same post or thread root (``InboundMessage.thread`` → ``Conversation.thread_key``):
  comments under two posts are two conversations, and a reply that arrives before its parent still meets it,
  because the driver names the same root for both.
- History (``outbound`` or imports) is stored as it happened and never delivered or answered.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.files.base import ContentFile
from django.db import connection
from django.utils import timezone

from resonanz.connectors.drivers import get_driver
from resonanz.connectors.intake import InboundMessage
from resonanz.connectors.mail.privacy import block_remote_images
from resonanz.core.errors import ActionError
from resonanz.core.fastsql import build, insert_many, paused_gc, select
from resonanz.core.sanitize import clean_label, clean_text, html_to_text, text_to_html
from resonanz.core.timestamps import clamp_sent_at
from resonanz.crm.actions import ContactKey, resolve_contacts
from resonanz.crm.models import normalize_handle
from resonanz.inbox.models import Attachment, Conversation, ConversationEvent, Message

log = logging.getLogger("resonanz.inbox")
REFERENCE_IN_SUBJECT = re.compile(r"\[RZ-(\d+)\]")
REOPENED = "reopened by the customer's reply"
RELEASED = "a person wrote: back in the inbox"


@dataclass
class IngestResult:
    message: Message
    conversation: Conversation
    contact_id: int | None
    created: bool
    new_conversation: bool = False
    new_contact: bool = False


HISTORY_AGE = timedelta(days=36_500)


@dataclass
class _Item:
    """One inbound item, validated and cleaned, on its way into the batch."""

    index: int
    source: InboundMessage
    external_id: str
    text: str
    html: str
    when: datetime
    key: ContactKey | None  # the sender, for customers' messages
    references: list[str]
    history: bool
    claimed_sent_at: str = ""  # set when the claimed sent time was implausible and replaced
    thread: str = ""  # the post or thread root of a public item ("" for private ones)


def subject_from(text: str) -> str:
    """A conversation's subject when the customer gave none: the first 80 characters of the text."""
    first = " ".join((text or "").split())
    return first[:77] + "…" if len(first) > 80 else first


def prepare(channel, inbound: InboundMessage, index: int, now: datetime, *, history: bool) -> _Item:
    """Validate and clean one item (raises ActionError saying what is missing)."""
    external_id = clean_text(inbound.external_id, 300).strip()
    if not external_id:
        raise ActionError("Every inbound message needs an external id, so redelivery is recognised.", "external_id")
    text = clean_text(inbound.text)
    html = block_remote_images(inbound.html) if inbound.html else ""  # sanitized; remote images wait for the agent
    if not text and html:
        text = html_to_text(html)
    if not text.strip() and not inbound.attachments:
        raise ActionError("The message has no text.", "text")
    handle = (inbound.sender_handle or "").strip()
    if not handle:
        raise ActionError("The sender needs a handle (an email address, user name or id).", "sender")
    key = None
    if not inbound.outbound:
        kind = inbound.identity_kind or get_driver(channel).identity_kind_for(handle)
        normalized = normalize_handle(kind, handle)
        if not normalized:
            raise ActionError("The sender needs a handle (an email address, user name or id).", "sender")
        key = ContactKey(kind, normalized, clean_text(inbound.sender_name, 200), inbound.sender_profile or {})
    # Imported history may be years old (only the year-2000 floor applies); live items also the age setting.
    when, flagged = clamp_sent_at(inbound.sent_at, now, oldest=HISTORY_AGE if history else None)
    claimed = inbound.sent_at.isoformat() if flagged else ""
    references = [clean_text(r, 300) for r in [inbound.in_reply_to, *inbound.references] if r][:50]
    thread = clean_text(inbound.thread or "", 300).strip() if inbound.is_public else ""
    return _Item(index, inbound, external_id, text, html, when, key, references, history, claimed, thread)


def clean_post(post: dict) -> dict:
    """The context of the post a public item answers, as it is kept with the message: a text excerpt, only
    http(s) links (a ``javascript:`` link never reaches the page), at most four media, nothing else."""
    if not isinstance(post, dict) or not post:
        return {}

    def link(value) -> str:
        value = str(value or "").strip()[:2000]
        return value if value.startswith(("https://", "http://")) else ""

    media = []
    for item in post.get("media") or []:
        if isinstance(item, dict) and link(item.get("url")):
            kind = str(item.get("kind") or "image")
            media.append({"url": link(item.get("url")), "kind": kind if kind in ("image", "video", "audio") else "other"})
    found = {"text": clean_text(str(post.get("text") or ""), 1000).strip(), "link": link(post.get("link")),
             "author": clean_label(str(post.get("author") or ""), 200), "media": media[:4]}
    return {k: v for k, v in found.items() if v}


class _NewConversation:
    """A conversation created in this batch; it gets its primary key when the batch is written."""

    __slots__ = ("obj", "contact_id", "history")

    def __init__(self, obj: Conversation, contact_id: int | None, history: bool) -> None:
        self.obj, self.contact_id, self.history = obj, contact_id, history


def store(channel, items: list[InboundMessage], *, is_demo: bool = False,
          look_up: bool = True) -> list[IngestResult | ActionError]:
    """Write one batch inside the caller's transaction; results come back in the order of ``items``.

    Refused items come back as their ActionError. A race with another writer on the same external id
    raises IntegrityError: the caller rolls the batch back and stores the items one by one. With
    ``look_up=False`` stored ids are not looked up first: the unique constraint finds a redelivery
    (IntegrityError), which is the cheapest way for single messages, where a redelivery is rare.
    """
    with paused_gc():
        return _store(channel, items, is_demo=is_demo or bool(channel.is_demo), look_up=look_up)


def _store(channel, items: list[InboundMessage], *, is_demo: bool, look_up: bool) -> list[IngestResult | ActionError]:
    now = timezone.now()
    results: list[IngestResult | ActionError | None] = [None] * len(items)
    todo: list[_Item] = []
    first_of: dict[str, int] = {}
    repeats: list[tuple[int, int]] = []
    for index, inbound in enumerate(items):
        try:
            item = prepare(channel, inbound, index, now, history=inbound.history or inbound.outbound)
        except ActionError as exc:
            results[index] = exc
            continue
        if item.external_id in first_of:
            repeats.append((index, first_of[item.external_id]))
            continue
        first_of[item.external_id] = index
        todo.append(item)
    stored = stored_messages(channel, [i.external_id for i in todo]) if look_up else {}
    fresh = []
    for item in todo:
        if item.external_id in stored:
            results[item.index] = stored[item.external_id]
        else:
            fresh.append(item)
    if fresh:
        for item, result in zip(fresh, _write(channel, fresh, now, is_demo), strict=True):
            results[item.index] = result
    for index, first in repeats:
        earlier = results[first]
        results[index] = (IngestResult(earlier.message, earlier.conversation, earlier.contact_id, False)
                          if isinstance(earlier, IngestResult) else earlier)
    return results  # type: ignore[return-value]


def stored_messages(channel, external_ids: list[str]) -> dict[str, IngestResult]:
    """Messages of this channel stored already under these external ids (a redelivery)."""
    if not external_ids:
        return {}
    marks = ", ".join(["%s"] * len(external_ids))
    with connection.cursor() as cursor:  # the common answer is "none": a plain query, objects only for hits
        cursor.execute(f"SELECT id FROM {Message._meta.db_table} WHERE channel_id = %s AND external_id IN ({marks})",
                       [channel.pk, *external_ids])
        ids = [row[0] for row in cursor.fetchall()]
    found = {}
    for message in Message.objects.select_related("conversation").filter(pk__in=ids) if ids else ():
        found[message.external_id] = IngestResult(message, message.conversation, message.author_contact_id, False)
    return found


def stored_threads(channel, external_ids: list[str]) -> dict[str, str]:
    """The intake's ``stored`` question: which of these ids the channel holds, and the thread key of each one's
    conversation (a driver skips a redelivery's downloads, and names a stored parent's root)."""
    rows = (Message.objects.filter(channel=channel, external_id__in=external_ids[:1000])
            .values_list("external_id", "conversation__thread_key"))
    return {external_id: thread or "" for external_id, thread in rows}


def _write(channel, items: list[_Item], now: datetime, is_demo: bool) -> list[IngestResult | ActionError]:
    contacts, created_contacts = resolve_contacts([i.key for i in items if i.key is not None], is_demo=is_demo)
    parents = _parents(items)
    by_reference = _referenced_conversations(items, contacts)
    known = {contacts[i.key] for i in items if i.key and not i.history and i.key not in created_contacts}
    loaded: dict[int, Conversation] = {}
    open_ones: dict = {}
    for conversation in _open_conversations(channel, known):  # oldest activity first: the newest wins
        loaded[conversation.pk] = conversation
        open_ones[(conversation.contact_id, conversation.is_public, conversation.thread_key)] = conversation.pk
    local: dict[str, tuple] = {}  # external id -> (conversation id or new one, contact id, public), this batch
    placed: list[tuple[_Item, int | _NewConversation, int | None]] = []
    results: dict[int, IngestResult | ActionError] = {}
    new_conversations: list[_NewConversation] = []
    # 1. where each item goes: a stored conversation (its id), one new in this batch, or refused
    for item in items:
        contact_id = contacts[item.key] if item.key else None
        target = _thread(item, contact_id, local, parents, by_reference, open_ones)
        if target is None and (item.source.outbound or item.source.requires_parent):
            why = f"reply to {item.references[0]}" if item.references else "a company message that answers nothing"
            results[item.index] = ActionError(f"No conversation to add this to ({why}).", "in_reply_to")
            continue
        if target is None:
            subject = clean_text(item.source.subject, 300).strip() or subject_from(item.text or item.html)
            public = bool(item.source.is_public)
            new = _NewConversation(Conversation(
                subject=subject, channel=channel, contact_id=contact_id, team_id=channel.default_team_id,
                created_at=item.when, last_activity_at=item.when, last_inbound_at=None, is_demo=is_demo,
                is_public=public, thread_key=item.thread,
            ), contact_id, item.history)
            new_conversations.append(new)
            target = (new, contact_id, public)
            if not item.history:
                open_ones[(contact_id, public, item.thread)] = new  # the contact's next live item of its kind
                # and thread joins it
        local[item.external_id] = target
        placed.append((item, target[0], contact_id))
    # 2. the stored conversations the batch touches, loaded (and locked) once
    ids = {c for _i, c, _k in placed if isinstance(c, int)}
    missing = ids - set(loaded)
    stored = {pk: loaded[pk] for pk in ids & set(loaded)}
    if missing:
        stored.update(Conversation.objects.select_for_update().in_bulk(missing))
    for conversation in stored.values():
        conversation.loaded_count = conversation.message_count
    rows = [(item, stored[c] if isinstance(c, int) else c, contact) for item, c, contact in placed]
    reopened = _apply_to_conversations(rows)
    # 3. write: new conversations, counts of stored ones, messages, attachments, the event log
    insert_many(Conversation, [c.obj for c in new_conversations])
    _save_counts(list(stored.values()))
    messages = [_message(channel, item, _obj(conversation), contact_id, now) for item, conversation, contact_id in rows]
    insert_many(Message, messages)
    events = [build(ConversationEvent, conversation_id=c.obj.pk, kind="created", data={"channel": channel.pk},
                                reason="imported" if c.history else "") for c in new_conversations]
    counted: set[int] = set()
    for (item, conversation, contact_id), message in zip(rows, messages, strict=True):
        conv = _obj(conversation)
        if item.source.attachments:
            _store_attachments(message, item.source.attachments)
        if item.source.outbound:
            events.append(build(ConversationEvent, conversation_id=conv.pk, kind="reply_imported", reason="imported",
                                            data={"message_id": message.pk, "author": item.source.sender_handle}))
        else:
            reason = "imported" if item.history else (REOPENED if item.external_id in reopened else "")
            events.append(build(ConversationEvent, conversation_id=conv.pk, kind="message_received", reason=reason,
                                            data={"message_id": message.pk}))
            change = conv.__dict__.pop("filter_change", None)
            if change is not None:
                events.append(ConversationEvent(conversation_id=conv.pk, kind="filtered" if change[0] else "unfiltered",
                                                data={"new": change[0], "message_id": message.pk},
                                                reason=change[1][:500]))
        new_contact = item.key in created_contacts
        created_contacts.discard(item.key)
        results[item.index] = IngestResult(message, conv, contact_id, True,
                                           new_conversation=isinstance(conversation, _NewConversation)
                                           and conversation.obj.pk not in counted,
                                           new_contact=new_contact)
        if isinstance(conversation, _NewConversation):
            counted.add(conversation.obj.pk)
    insert_many(ConversationEvent, events)
    return [results[i.index] for i in items]


def _obj(conversation) -> Conversation:
    return conversation.obj if isinstance(conversation, _NewConversation) else conversation


def _message(channel, item: _Item, conversation: Conversation, contact_id: int | None, now: datetime) -> Message:
    source = item.source
    return build(
        Message,
        conversation_id=conversation.pk, channel=channel,
        direction=Message.Direction.OUTBOUND if source.outbound else Message.Direction.INBOUND,
        external_id=item.external_id, in_reply_to=clean_text(source.in_reply_to, 300),
        author_contact_id=contact_id, subject=clean_text(source.subject, 300), text=item.text,
        html=item.html or text_to_html(item.text), is_public=source.is_public,
        delivery_status=Message.Delivery.SENT if source.outbound else Message.Delivery.RECEIVED,
        sent_at=item.when, received_at=None if source.outbound else now,
        pipeline_state=Message.Pipeline.PENDING if not source.outbound and source.analyze else Message.Pipeline.SKIPPED,
        meta={**(source.meta or {}), **({"author": source.sender_handle} if source.outbound else {}),
              **({"post": post} if (post := clean_post(source.post)) else {}),
              **({"sent_at_claimed": item.claimed_sent_at} if item.claimed_sent_at else {})},
    )


def _thread(item: _Item, contact_id, local, parents, by_reference, open_ones):
    """(conversation id or new one, contact id, public) this item joins, or None for a new conversation.

    A customer's item joins only a conversation of its own kind: a direct message that answers a public
    comment starts (or joins) the private conversation, as on the platform, and a comment never lands in
    the person's direct messages. Without a reply link, a public item joins only the open conversation about
    its thread (the same post or thread root). The company's own imported replies follow their reference
    wherever it is."""
    public = bool(item.source.is_public)
    for ref in item.references:
        parent = local.get(ref)
        if parent is None and ref in parents:
            conversation_id, parent_contact, status, parent_public = parents[ref]
            if status != Conversation.Status.CLOSED:
                parent = (conversation_id, parent_contact, parent_public)
        if parent is not None and (contact_id is None or parent[1] == contact_id) and \
                (item.source.outbound or parent[2] == public):
            return parent
    if contact_id is None:
        return None
    match = REFERENCE_IN_SUBJECT.search(item.source.subject or "")
    named = by_reference.get(contact_id, {})
    if match and int(match.group(1)) in named:
        return named[int(match.group(1))], contact_id, public
    if not item.history and (contact_id, public, item.thread) in open_ones:
        return open_ones[(contact_id, public, item.thread)], contact_id, public
    return None


def _parents(items: list[_Item]) -> dict[str, tuple[int, int | None, str, bool]]:
    """Stored messages the batch replies to: external id -> (conversation, its contact, its status, public)."""
    refs = {r for i in items for r in i.references}
    if not refs:
        return {}
    rows = (Message.objects.filter(external_id__in=list(refs)[:5000])
            .values_list("external_id", "conversation_id", "conversation__contact_id", "conversation__status",
                         "conversation__is_public")
            .order_by("id"))
    return {ext: (conv, contact, status, public) for ext, conv, contact, status, public in rows}


def _referenced_conversations(items: list[_Item], contacts: dict) -> dict[int, dict[int, int]]:
    """Conversations named by ``[RZ-<id>]`` in subjects that belong to the sender and are not closed:
    contact -> {named id: the id to thread into} (a merged conversation names the one it went into)."""
    wanted = {}
    for item in items:
        match = REFERENCE_IN_SUBJECT.search(item.source.subject or "") if item.key else None
        if match:
            wanted[int(match.group(1))] = contacts[item.key]
    if not wanted:
        return {}
    found: dict[int, dict[int, int]] = defaultdict(dict)
    merged: dict[int, int] = {}
    for pk, contact_id, status, into in Conversation.objects.filter(pk__in=list(wanted)).values_list(
            "pk", "contact_id", "status", "merged_into_id"):
        if wanted[pk] != contact_id:
            continue
        if into:  # a merged conversation answers for the one it was merged into
            merged[pk] = into
        elif status != Conversation.Status.CLOSED:
            found[contact_id][pk] = pk
    for pk, into in merged.items():
        for _hop in range(5):  # merged into one that was merged later: follow the chain
            row = Conversation.objects.filter(pk=into).values_list("merged_into_id", "status").first()
            if row is None or not row[0]:
                break
            into = row[0]
        if row is not None and row[1] != Conversation.Status.CLOSED:
            found[wanted[pk]][pk] = into
    return found


def _open_conversations(channel, contact_ids: set[int]) -> list[Conversation]:
    """The open conversations on this channel of these contacts, oldest activity first, locked for this
    transaction (PostgreSQL; SQLite has one writer at a time anyway): one plain query on the hot path."""
    if not contact_ids:
        return []
    ids = sorted(contact_ids)
    marks = ", ".join(["%s"] * len(ids))
    where = (f"channel_id = %s AND contact_id IN ({marks}) AND status IN ('new', 'open', 'pending') "
             "ORDER BY last_activity_at, id")
    if connection.features.has_select_for_update:
        where += " FOR UPDATE"
    return select(Conversation, where, [channel.pk, *ids])


def _apply_to_conversations(rows) -> set[str]:
    """Counts, times, waiting and status of every conversation the batch touches; returns reopening ids."""
    reopened: set[str] = set()
    for item, conversation, _contact in sorted(rows, key=lambda r: r[0].when):
        conv = _obj(conversation)
        inbound = not item.source.outbound
        if isinstance(conversation, _NewConversation) and conv.message_count == 0:
            conv.created_at = conv.last_activity_at = item.when
        conv.message_count += 1
        if item.history:
            _apply_history(conv, item.when, inbound)
            continue
        noise = (item.source.meta or {}).get("noise")
        if noise:
            # an auto-reply, bounce or notice is kept with its reason but never reopens or waits for us;
            # one that starts a conversation puts it in the filtered view
            conv.last_activity_at = max(item.when, conv.last_activity_at)
            if conv.last_inbound_at is None:
                conv.last_inbound_at = item.when
            if conv.message_count == 1 and isinstance(conversation, _NewConversation):
                conv.filtered = str(noise.get("kind") or "auto_generated")[:20]
                conv.filtered_reason = clean_text(str(noise.get("reason") or ""), 500)
                conv.waiting_for_us = False
                conv.filter_change = (conv.filtered, conv.filtered_reason)
            continue
        if conv.filtered:
            conv.filtered, conv.filtered_reason = "", ""
            conv.filter_change = ("", RELEASED)
        if conv.status in (Conversation.Status.PENDING, Conversation.Status.RESOLVED):
            conv.status = Conversation.Status.OPEN
            conv.resolved_at = None
            reopened.add(item.external_id)
        conv.last_activity_at = max(item.when, conv.last_activity_at)
        conv.last_inbound_at = item.when
        conv.waiting_for_us = True
    return reopened


def _apply_history(conv: Conversation, when: datetime, inbound: bool) -> None:
    """Imported history: the conversation's state follows its last message (waiting for the customer when
    the company wrote last); the first response is the company's first reply."""
    if when >= conv.last_activity_at:
        conv.last_activity_at = when
        conv.waiting_for_us = inbound
        if conv.status in (Conversation.Status.NEW, Conversation.Status.RESOLVED):
            conv.status = Conversation.Status.NEW if inbound else Conversation.Status.RESOLVED
            conv.resolved_at = None if inbound else when
    if inbound and (conv.last_inbound_at is None or when > conv.last_inbound_at):
        conv.last_inbound_at = when
    if not inbound and (conv.first_response_at is None or when < conv.first_response_at):
        conv.first_response_at = when


def _save_counts(conversations: list[Conversation]) -> None:
    """One plain UPDATE per touched conversation, sent as one batch; the count is added, not overwritten,
    so a concurrent writer's message is never lost from it."""
    if not conversations:
        return
    adapt = connection.ops.adapt_datetimefield_value
    table = connection.ops.quote_name(Conversation._meta.db_table)
    sql = (f"UPDATE {table} SET message_count = message_count + %s, last_activity_at = %s, last_inbound_at = %s, "
           "waiting_for_us = %s, first_response_at = %s, status = %s, resolved_at = %s, filtered = %s, "
           "filtered_reason = %s WHERE id = %s")
    with connection.cursor() as cursor:
        cursor.executemany(sql, [
            [c.message_count - c.loaded_count, adapt(c.last_activity_at), adapt(c.last_inbound_at), c.waiting_for_us,
             adapt(c.first_response_at), c.status, adapt(c.resolved_at), c.filtered,
             c.filtered_reason, c.pk]
            for c in sorted(conversations, key=lambda c: c.pk)  # one lock order for concurrent writers
        ])


def _store_attachments(message: Message, attachments: list[dict]) -> None:
    for item in attachments or []:
        content = item.get("content") or b""
        attachment = Attachment(
            message=message,
            filename=clean_text(item.get("filename") or "attachment", 255),
            content_type=(item.get("content_type") or "application/octet-stream")[:120],
            size=len(content) if content else int(item.get("size") or 0),
            content_id=(item.get("content_id") or "")[:255],
            alt_text=clean_label(item.get("alt") or ""),
            source_url=source if (source := str(item.get("source_url") or "")[:2000]).startswith(("https://", "http://"))
            else "",
            missing=clean_text(str(item.get("missing") or ""), 300),
        )
        if content:
            try:
                attachment.file.save(attachment.filename, ContentFile(content), save=False)
            except OSError as exc:
                # disk full, quota, permissions: the message matters more than its file, so it is kept
                # and the attachment says what happened (the sender can be asked to send it again)
                attachment.file = ""
                attachment.missing = clean_text(f"not stored: {exc.strerror or exc}", 300)
                log.error("attachment %r of message %s not stored: %s", attachment.filename, message.pk, exc)
        attachment.save()
