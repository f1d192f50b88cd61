"""Every change to conversations, messages, teams and agents goes through a function here.

Each function validates, writes inside one transaction, records the change in the
conversation's event log and publishes a domain event after commit.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from resonanz.connectors.drivers import get_driver
from resonanz.connectors.drivers.base import InboundMessage
from resonanz.connectors.models import Channel
from resonanz.core.errors import ActionError
from resonanz.core.events import publish
from resonanz.core.fastsql import insert
from resonanz.core.sanitize import clean_text, html_to_text, sanitize_html, text_to_html
from resonanz.crm.actions import get_tags, resolve_contact
from resonanz.inbox.models import AgentProfile, Conversation, ConversationEvent, Message, Team

log = logging.getLogger("resonanz.inbox")
User = get_user_model()
REFERENCE_IN_SUBJECT = re.compile(r"\[RZ-(\d+)\]")
MAX_DELIVERY_ATTEMPTS = 5
# Ingestion's other hot lookup as plain SQL (see crm.actions._CONTACT_BY_HANDLE for why).
_OPEN_CONVERSATION = (
    f"SELECT * FROM {Conversation._meta.db_table} WHERE contact_id = %s AND channel_id = %s "
    "AND status IN ('new', 'open', 'pending') ORDER BY last_activity_at DESC LIMIT 1"
)


@dataclass
class IngestResult:
    message: Message
    conversation: Conversation
    contact_id: int
    created: bool


def record(conversation: Conversation, kind: str, *, actor=None, reason: str = "", **data) -> ConversationEvent:
    return ConversationEvent.objects.create(
        conversation=conversation, actor=actor, kind=kind, data=data, reason=reason[:500]
    )


def ingest(channel: Channel, inbound: InboundMessage, *, is_demo: bool = False,
           _savepoint: bool = True) -> IngestResult:
    """The single entry for every inbound message, whatever the channel.

    Stores the message first (idempotent on channel + external id), resolves the
    contact, threads it into a conversation and leaves it pending for the worker's
    pipeline. A redelivery returns the stored message and changes nothing.
    """
    external_id = clean_text(inbound.external_id, 300).strip()
    if not external_id:
        raise ActionError("Every inbound message needs an external id, so redelivery is recognised.", "external_id")
    text = clean_text(inbound.text)
    html = sanitize_html(inbound.html) if inbound.html else ""
    if not text and html:
        text = html_to_text(html)
    if not text.strip() and not inbound.attachments:
        raise ActionError("The message has no text.", "text")
    if not (inbound.sender_handle or "").strip():
        raise ActionError("The sender needs a handle (an email address, user name or id).", "sender")
    now = timezone.now()
    when = min(inbound.sent_at, now) if inbound.sent_at else now
    # Insert first and let the unique (channel, external_id) constraint catch redeliveries: new
    # messages, the common case, cost no extra lookup, and a race between two workers cannot
    # store a message twice.
    try:
        with transaction.atomic(savepoint=_savepoint):
            contact, _ = resolve_contact(
                get_driver(channel).identity_kind_for(inbound.sender_handle or ""), inbound.sender_handle,
                clean_text(inbound.sender_name, 200), is_demo=is_demo,
            )
            conversation, is_new = _thread(channel, contact, inbound, when, is_demo)
            message = insert(Message(
                conversation=conversation,
                channel=channel,
                direction=Message.Direction.INBOUND,
                external_id=external_id,
                in_reply_to=clean_text(inbound.in_reply_to, 300),
                author_contact=contact,
                subject=clean_text(inbound.subject, 300),
                text=text,
                html=html or text_to_html(text),
                is_public=inbound.is_public,
                delivery_status=Message.Delivery.RECEIVED,
                sent_at=when,
                received_at=now,
                pipeline_state=Message.Pipeline.PENDING,
                meta=inbound.meta or {},
            ))
            _store_attachments(message, inbound.attachments)
            reopen = conversation.status in (Conversation.Status.PENDING, Conversation.Status.RESOLVED)
            conversation.last_activity_at = max(when, conversation.last_activity_at)
            conversation.last_inbound_at = when
            conversation.waiting_for_us = True
            conversation.message_count = (0 if is_new else conversation.message_count) + 1
            if reopen:
                conversation.status = Conversation.Status.OPEN
                conversation.resolved_at = None
            _touch_conversation(conversation, when, reopen)
            insert(ConversationEvent(conversation=conversation, kind="message_received",
                                     data={"message_id": message.pk},
                                     reason="reopened by the customer's reply" if reopen else ""))
    except IntegrityError:
        existing = _existing(channel, external_id)
        if existing:
            return existing
        raise
    publish("message.received", message_id=message.pk, conversation_id=conversation.pk, new_conversation=is_new)
    transaction.on_commit(_kick_pipeline)
    return IngestResult(message, conversation, contact.pk, True)


def ingest_many(channel: Channel, messages: list[InboundMessage], *, batch_size: int = 200,
                is_demo: bool = False) -> list[IngestResult | ActionError]:
    """Ingest a batch from one channel (a poll, an import): one commit per ``batch_size`` messages.

    Messages stored already are found with one query per batch. The new ones are written in one
    transaction without a savepoint each; if anything goes wrong in it (a race with another
    worker, a refused message), the batch is rolled back and done again message by message, each
    in its own savepoint. Results come back in the order of ``messages``, a refused message as its
    ActionError.
    """
    results: list[IngestResult | ActionError] = []
    for start in range(0, len(messages), batch_size):
        chunk = messages[start:start + batch_size]
        ids = [clean_text(m.external_id, 300).strip() for m in chunk]
        stored = set(Message.objects.filter(channel=channel, external_id__in=[i for i in ids if i])
                     .values_list("external_id", flat=True))
        try:
            with transaction.atomic():
                seen: set[str] = set()
                fast: list[IngestResult | ActionError | None] = []
                for inbound, external_id in zip(chunk, ids, strict=True):
                    if external_id in stored or external_id in seen:
                        fast.append(None)  # a redelivery: answered after the batch is stored
                        continue
                    seen.add(external_id)
                    fast.append(ingest(channel, inbound, is_demo=is_demo, _savepoint=False))
        except Exception:
            fast = [None] * len(chunk)
        for inbound, result in zip(chunk, fast, strict=True):
            if result is None:
                try:
                    result = ingest(channel, inbound, is_demo=is_demo)
                except ActionError as exc:
                    result = exc
            results.append(result)
    return results


def _touch_conversation(conversation: Conversation, when: datetime, reopen: bool) -> None:
    """The conversation's bookkeeping for a new inbound message, as one plain UPDATE (hot path)."""
    adapt = connection.ops.adapt_datetimefield_value
    sql = (f"UPDATE {Conversation._meta.db_table} SET last_activity_at = %s, last_inbound_at = %s, "
           "waiting_for_us = %s, message_count = message_count + 1")
    params = [adapt(conversation.last_activity_at), adapt(when), True]
    if reopen:
        sql += ", status = %s, resolved_at = NULL"
        params.append(Conversation.Status.OPEN)
    with connection.cursor() as cursor:
        cursor.execute(sql + " WHERE id = %s", [*params, conversation.pk])


def _existing(channel: Channel, external_id: str) -> IngestResult | None:
    message = (
        Message.objects.select_related("conversation")
        .filter(channel=channel, external_id=external_id)
        .first()
    )
    if not message:
        return None
    return IngestResult(message, message.conversation, message.author_contact_id, False)


def _thread(channel, contact, inbound: InboundMessage, when: datetime, is_demo: bool) -> tuple[Conversation, bool]:
    """An explicit reply reference first, then the contact's open conversation here, else a new one."""
    references = [r for r in [inbound.in_reply_to, *inbound.references] if r]
    if references:
        parent = (
            Message.objects.filter(external_id__in=references[:50], conversation__contact=contact)
            .select_related("conversation").order_by("-id").first()
        )
        if parent and parent.conversation.status != Conversation.Status.CLOSED:
            return parent.conversation, False
    match = REFERENCE_IN_SUBJECT.search(inbound.subject or "")
    if match:
        conversation = Conversation.objects.filter(pk=int(match.group(1)), contact=contact).first()
        if conversation and conversation.status != Conversation.Status.CLOSED:
            return conversation, False
    open_ones = list(Conversation.objects.raw(_OPEN_CONVERSATION, [contact.pk, channel.pk]))
    if open_ones:
        return open_ones[0], False
    subject = clean_text(inbound.subject, 300).strip() or _subject_from(clean_text(inbound.text) or inbound.html)
    conversation = Conversation.objects.create(
        subject=subject, channel=channel, contact=contact, team=channel.default_team,
        created_at=when, last_activity_at=when, last_inbound_at=when, is_demo=is_demo,
    )
    record(conversation, "created", channel=channel.pk)
    return conversation, True


def _subject_from(text: str) -> str:
    first = " ".join((text or "").split())
    return first[:77] + "…" if len(first) > 80 else first


def _store_attachments(message: Message, attachments: list[dict]) -> None:
    from django.core.files.base import ContentFile

    from resonanz.inbox.models import Attachment

    for item in attachments or []:
        content = item.get("content") or b""
        attachment = Attachment(
            message=message,
            filename=clean_text(item.get("filename") or "attachment", 255),
            content_type=(item.get("content_type") or "application/octet-stream")[:120],
            size=len(content) if content else int(item.get("size") or 0),
            content_id=(item.get("content_id") or "")[:255],
        )
        if content:
            attachment.file.save(attachment.filename, ContentFile(content), save=False)
        attachment.save()


def _kick_pipeline() -> None:
    from resonanz.inbox.pipeline import kick

    kick()


# --- replies and notes -------------------------------------------------------------------------


def send_reply(conversation: Conversation, author, text: str, *, status: str | None = None,
               is_public: bool | None = None) -> Message:
    """An agent's answer, sent through the conversation's channel driver after commit."""
    text = clean_text(text).strip()
    if not text:
        raise ActionError("The reply is empty.", "text")
    agent = getattr(author, "agent", None)
    channel = conversation.channel
    if channel.sign_replies and agent and agent.initials and not text.rstrip().endswith(f"^{agent.initials}"):
        text = f"{text} ^{agent.initials}"
    # --- automation hook: approval of replies and guideline checks (resonanz.automation.approval) ---
    # Raises ReplyHeld (an ActionError) when the reply must wait for a supervisor; records guideline
    # warnings of replies that go out. A supervisor's approval sends it through this function again.
    from resonanz.automation.approval import review_reply

    review_reply(conversation, author, text, status=status, is_public=is_public)
    # --- end of automation hook ---
    now = timezone.now()
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        message = Message.objects.create(
            conversation=conversation, channel=channel, direction=Message.Direction.OUTBOUND,
            author_user=author, text=text, html=text_to_html(text),
            subject=_reply_subject(conversation),
            is_public=get_driver(channel).public if is_public is None else is_public,
            delivery_status=Message.Delivery.QUEUED, sent_at=now,
        )
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
        transaction.on_commit(lambda: _deliver_later(message.pk))
    publish("message.sent", message_id=message.pk, conversation_id=conversation.pk)
    return message


def _reply_subject(conversation: Conversation) -> str:
    subject = conversation.subject or ""
    tag = f"[{conversation.reference}]"
    return subject if tag in subject else f"{subject} {tag}".strip()


def _deliver_later(message_id: int) -> None:
    from resonanz.inbox.tasks import deliver_message

    try:
        deliver_message.delay(message_id)
    except Exception:  # broker down: the periodic sweep delivers queued messages later
        log.exception("could not enqueue delivery of message %s", message_id)


def deliver(message: Message) -> Message:
    """Hand a queued outbound message to its channel's driver and record the outcome."""
    if message.delivery_status not in (Message.Delivery.QUEUED,):
        return message
    try:
        result = get_driver(message.channel).send(message)
    except Exception as exc:  # the driver's failure is the message's state, not a crash
        log.exception("delivery of message %s failed", message.pk)
        result_status, detail, external_id = Message.Delivery.FAILED, str(exc)[:2000], ""
    else:
        result_status, detail, external_id = result.status, result.detail, result.external_id
    if result_status == "retry":
        attempts = int((message.meta or {}).get("delivery_attempts", 0)) + 1
        message.meta = {**(message.meta or {}), "delivery_attempts": attempts}
        if attempts < MAX_DELIVERY_ATTEMPTS:
            Message.objects.filter(pk=message.pk).update(meta=message.meta, delivery_detail=f"attempt {attempts} "
                                                         f"of {MAX_DELIVERY_ATTEMPTS} failed, will retry: {detail}")
            record(message.conversation, "delivery_retry", message_id=message.pk, reason=detail)
            return message
        result_status, detail = Message.Delivery.FAILED, f"gave up after {attempts} attempts: {detail}"
    with transaction.atomic():
        message.delivery_status = result_status
        message.delivery_detail = detail
        fields = ["delivery_status", "delivery_detail", "meta"]
        if external_id:
            message.external_id = external_id
            fields.append("external_id")
        message.save(update_fields=fields)
        record(message.conversation, "delivery_" + result_status, message_id=message.pk, reason=detail)
    publish("message.delivery", message_id=message.pk, conversation_id=message.conversation_id)
    return message


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


def assign(conversation: Conversation, assignee, actor=None, reason: str = "") -> Conversation:
    return update_conversation(conversation, actor, assignee=assignee, reason=reason)


# --- teams and agents --------------------------------------------------------------------------

DEFAULT_TEAMS = ["Support", "Sales", "Marketing", "PR", "Legal"]


def create_team(name: str, *, description: str = "", email: str = "") -> Team:
    name = (name or "").strip()
    if not name:
        raise ActionError("A team needs a name.", "name")
    if Team.objects.filter(name__iexact=name).exists():
        raise ActionError(f"A team named {name!r} exists already.", "name")
    return Team.objects.create(name=name, slug=_unique_slug(Team, name), description=description, email=email)


def update_team(team: Team, **fields) -> Team:
    for key in ("name", "description", "email", "is_active"):
        if key in fields:
            setattr(team, key, fields[key])
    if not team.name.strip():
        raise ActionError("A team needs a name.", "name")
    team.save()
    return team


def ensure_default_teams() -> None:
    for name in DEFAULT_TEAMS:
        Team.objects.get_or_create(name=name, defaults={"slug": slugify(name)})


@transaction.atomic
def invite_agent(email: str, *, display_name: str = "", role: str = "agent", teams: list[Team] = (),
                 language: str = "en", initials: str = "", password: str | None = None):
    """Create an agent's account; without a password the agent sets one through a one-time link."""
    email = (email or "").strip().lower()
    if "@" not in email:
        raise ActionError("Enter the agent's email address.", "email")
    if User.objects.filter(username__iexact=email).exists():
        raise ActionError(f"{email} has an account already.", "email")
    if role not in AgentProfile.Role.values:
        raise ActionError(f"Unknown role {role!r}.", "role")
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
