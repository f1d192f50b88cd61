"""Every change to conversations, messages, teams and agents goes through a function here.

Each function validates, writes inside one transaction, records the change in the
conversation's event log and publishes a domain event after commit.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.text import slugify

from resonanz.connectors.drivers import get_driver
from resonanz.connectors.intake import IdentityClaim, InboundMessage, SourceChange
from resonanz.connectors.models import Channel
from resonanz.core import hooks, pipeline
from resonanz.core.errors import ActionError
from resonanz.core.events import publish
from resonanz.core.sanitize import clean_text, html_to_text, sanitize_html, text_to_html
from resonanz.crm.actions import claim_identity, get_tags
from resonanz.inbox import delivery, ingestion, macros
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
    """
    results: list[IngestResult | ActionError] = []
    for start in range(0, len(messages), batch_size):
        chunk = messages[start:start + batch_size]
        try:
            with transaction.atomic():  # a single message is inserted first: its redelivery is rare
                stored = ingestion.store(channel, chunk, is_demo=is_demo, look_up=len(chunk) > 1)
        except IntegrityError:
            stored = [_one_by_one(channel, inbound, is_demo) for inbound in chunk]
        _after_commit(stored)
        results.extend(stored)
    return results


def _one_by_one(channel: Channel, inbound: InboundMessage, is_demo: bool) -> IngestResult | ActionError:
    for _attempt in range(3):  # the other writer's row is visible once its transaction committed
        try:
            with transaction.atomic():
                return ingestion.store(channel, [inbound], is_demo=is_demo)[0]
        except IntegrityError:
            continue
    raise IntegrityError(f"message {inbound.external_id!r} could not be stored or found")


def _after_commit(results: list) -> None:
    """Domain events for new customer messages and a kick for the pipeline, once the batch committed."""
    new = [r for r in results if isinstance(r, IngestResult) and r.created]
    for r in new:
        if r.message.direction == Message.Direction.INBOUND:
            publish("message.received", message_id=r.message.pk, conversation_id=r.conversation.pk)
    if any(r.message.pipeline_state == Message.Pipeline.PENDING for r in new):
        transaction.on_commit(pipeline.kick)


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
    """Images go out only where the channel sends them, each an image with a description for screen readers."""
    if images and not driver.sends_images:
        raise ActionError("This channel cannot send images.", "images")
    for image in images:
        if not str(image.get("content_type", "")).startswith("image/"):
            raise ActionError(f"{image.get('filename') or 'The file'} is not an image.", "images")
        if len(image.get("content") or b"") > MAX_REPLY_IMAGE_BYTES:
            raise ActionError("An image may be at most 8 MB.", "images")
        if not str(image.get("alt") or "").strip():
            raise ActionError("Describe the image (alt text) for people who cannot see it.", "images")


def send_reply(conversation: Conversation, author, text: str, *, status: str | None = None,
               is_public: bool | None = None, meta: dict | None = None, images: list[dict] | None = None) -> Message:
    """An agent's answer, sent through the conversation's channel driver after commit.

    ``images``: ``{"filename", "content_type", "content", "alt"}`` each, stored as the reply's attachments with
    their alt text in ``meta["alt"]`` (attachment id -> text) and uploaded by the driver."""
    text = clean_text(text).strip()
    if not text:
        raise ActionError("The reply is empty.", "text")
    agent = getattr(author, "agent", None)
    channel = conversation.channel
    driver = get_driver(channel)
    images = list(images or [])
    _check_images(driver, images)
    refusal = driver.check_window(conversation, meta or {})
    if refusal:
        raise ActionError(refusal, "text")
    if not (meta or {}).get("template"):
        text = driver.sign(text, agent)
    if is_public is None:  # a reply to a private message (a direct message) stays private
        last = (conversation.messages.filter(direction=Message.Direction.INBOUND).order_by("-sent_at", "-id")
                .values_list("is_public", flat=True).first())
        is_public = driver.public and last is not False
    refusal = driver.check_reply(text, conversation)
    if refusal:
        raise ActionError(refusal, "text")
    # Apps above may hold the reply (approval raises ReplyHeld, an ActionError) or record warnings
    # (guideline checks); an approved reply comes back through this function.
    hooks.run("reply_check", conversation=conversation, author=author, text=text, status=status,
              is_public=is_public)
    now = timezone.now()
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
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
                alt[str(attachment.pk)] = clean_text(str(image["alt"]), 1500).strip()
            message.meta = {**message.meta, "alt": alt}
            message.save(update_fields=["meta"])
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
        typing_signal.stop_typing(conversation.pk, "agent")
        transaction.on_commit(lambda: delivery.deliver_later(message.pk))
    publish("message.sent", message_id=message.pk, conversation_id=conversation.pk)
    return message


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
        raise ActionError(f"A team named {name!r} exists already.", "name")
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
        raise ActionError(f"{email} has an account already.", "email")
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
    """The same change on many conversations (inbox rows selected by an agent), each with its own event log
    entry; all or none: a refused change (an inactive team) leaves every conversation as it was."""
    ids = sorted({int(i) for i in conversation_ids})
    if not ids:
        raise ActionError("Select at least one conversation.", "conversations")
    if len(ids) > BULK_LIMIT:
        raise ActionError(f"At most {BULK_LIMIT} conversations at once.", "conversations")
    if status is None and team == "unchanged" and assignee == () and not add_tags:
        raise ActionError("Choose what to change: status, team, assignee or a tag.", "action")
    found = list(Conversation.objects.filter(pk__in=ids))
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
