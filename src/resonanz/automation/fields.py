"""What rule conditions can look at: one flat snapshot (a plain dict) per event.

The snapshot is built once per event from the ORM (``snapshot_for_message``, ``…_for_post``,
``…_for_conversation``); compiled rules only read the dict, so evaluation never touches the
database. Keys are the field names supervisors pick in the editor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from resonanz.connectors.drivers import get_driver, kinds
from resonanz.core import hooks
from resonanz.crm.models import Identity
from resonanz.inbox.models import Message
from resonanz.understanding.models import Analysis

TEXT, CHOICE, NUMBER, BOOL, LIST, REF = "text", "choice", "number", "bool", "list", "ref"


@dataclass(frozen=True)
class Field:
    name: str
    kind: str
    label: str
    choices: tuple = ()
    ref: str = ""  # for REF fields: "team", "user", "channel"
    dynamic: bool = False  # name.<key> reads a key of a dict-valued field


INTENT_CHOICES = ("question", "complaint", "praise", "suggestion", "purchase_interest", "churn_risk",
                  "legal_threat", "outage", "spam")
STATUS_CHOICES = ("new", "open", "pending", "resolved", "closed")
FILTERED_CHOICES = ("bounce", "auto_reply", "auto_generated", "list", "own")

FIELDS: dict[str, Field] = {f.name: f for f in [
    Field("message.text", TEXT, _("Message text")),
    Field("message.subject", TEXT, _("Message subject")),
    Field("message.is_public", BOOL, _("Message is public")),
    Field("message.has_attachments", BOOL, _("Message has attachments")),
    Field("message.filtered", CHOICE, _("Machine-generated as"), FILTERED_CHOICES),
    Field("analysis.language", CHOICE, _("Language"), ("de", "en", "other")),
    Field("analysis.sentiment", CHOICE, _("Sentiment"), ("negative", "neutral", "positive")),
    Field("analysis.sentiment_score", NUMBER, _("Sentiment score (-1 to 1)")),
    Field("analysis.intents", LIST, _("Intents"), INTENT_CHOICES),
    Field("analysis.intent_confidence", NUMBER, _("Confidence of intent …"), dynamic=True),
    Field("analysis.urgency", NUMBER, _("Urgency (0 to 1)")),
    Field("analysis.complexity", CHOICE, _("Complexity"), ("simple", "complex")),
    Field("analysis.bot_answerable", BOOL, _("Bot could answer")),
    Field("analysis.relevance", NUMBER, _("Relevance (0 to 1)")),
    Field("analysis.entities", LIST, _("Products, brands or competitors named")),
    Field("analysis.entity_kinds", LIST, _("Kinds of entities named"), ("product", "brand", "competitor", "company")),
    Field("contact.name", TEXT, _("Contact name")),
    Field("contact.lifecycle", CHOICE, _("Lifecycle stage"), ("lead", "prospect", "customer", "former_customer")),
    Field("contact.tags", LIST, _("Contact tags")),
    Field("contact.reach", NUMBER, _("Contact reach (followers)")),
    Field("contact.organization", TEXT, _("Organization")),
    Field("contact.custom", TEXT, _("Contact custom field …"), dynamic=True),
    Field("channel.id", REF, _("Channel"), ref="channel"),
    Field("channel.kind", CHOICE, _("Channel kind"), tuple(kinds())),  # the driver registry is the only list
    Field("channel.public", BOOL, _("Channel is public")),
    Field("conversation.team", REF, _("Team"), ref="team"),
    Field("conversation.assignee", REF, _("Assignee"), ref="user"),
    Field("conversation.status", CHOICE, _("Status"), STATUS_CHOICES),
    Field("conversation.priority", NUMBER, _("Priority (1 low to 4 urgent)")),
    Field("conversation.tags", LIST, _("Conversation tags")),
    Field("conversation.is_new", BOOL, _("Conversation is new")),
    Field("conversation.message_count", NUMBER, _("Number of messages")),
    Field("conversation.waiting_for_us", BOOL, _("Waiting for our answer")),
    Field("conversation.filtered", BOOL, _("Conversation is in the filtered view")),
    Field("conversation.hours_since_activity", NUMBER, _("Hours since last activity")),
    Field("conversation.hours_since_created", NUMBER, _("Hours since created")),
    Field("conversation.hours_since_customer", NUMBER, _("Hours since the customer's last message")),
    Field("topic.rising", BOOL, _("Topic volume is rising")),
    Field("sla.target", CHOICE, _("SLA target"), ("first_response", "resolution")),
]}

# Fields whose value costs a query; the snapshot computes them only when some rule reads them.
EXPENSIVE = {"topic.rising", "contact.reach"}

OPERATORS: dict[str, tuple[str, set[str]]] = {
    # op: (label, field kinds it applies to)
    "eq": (_("is"), {TEXT, CHOICE, NUMBER, BOOL, REF}),
    "ne": (_("is not"), {TEXT, CHOICE, NUMBER, BOOL, REF}),
    "in": (_("is one of"), {TEXT, CHOICE, NUMBER, REF}),
    "not_in": (_("is none of"), {TEXT, CHOICE, NUMBER, REF}),
    "contains": (_("contains"), {TEXT, LIST}),
    "not_contains": (_("does not contain"), {TEXT, LIST}),
    "any_of": (_("contains any of"), {LIST}),
    "all_of": (_("contains all of"), {LIST}),
    "words": (_("has any of the words"), {TEXT}),
    "matches": (_("matches the pattern"), {TEXT}),
    "not_matches": (_("does not match the pattern"), {TEXT}),
    "starts_with": (_("starts with"), {TEXT}),
    "gt": (_("is greater than"), {NUMBER}),
    "gte": (_("is at least"), {NUMBER}),
    "lt": (_("is less than"), {NUMBER}),
    "lte": (_("is at most"), {NUMBER}),
    "is_true": (_("is yes"), {BOOL}),
    "is_false": (_("is no"), {BOOL}),
    "empty": (_("is empty"), {TEXT, CHOICE, LIST, REF, NUMBER}),
    "not_empty": (_("is not empty"), {TEXT, CHOICE, LIST, REF, NUMBER}),
}
NO_VALUE = {"is_true", "is_false", "empty", "not_empty"}
LIST_VALUE = {"in", "not_in", "any_of", "all_of", "words"}


def field_for(name: str) -> tuple[Field | None, str]:
    """The field definition and, for dynamic fields (``contact.custom.plan``), the key."""
    if name in FIELDS:
        return FIELDS[name], ""
    base, _, key = name.rpartition(".")
    field = FIELDS.get(base)
    if field and field.dynamic and key.replace("_", "").isalnum():
        return field, key
    return None, ""


# --- snapshots -------------------------------------------------------------------------------------------


def _hours(since, now) -> float | None:
    return round((now - since).total_seconds() / 3600, 3) if since else None


def reach_of(contact) -> int:
    """Followers of the contact: custom field "followers"/"reach" or the largest count on an identity profile."""
    if contact is None:
        return 0
    best = 0
    for key in ("reach", "followers", "followers_count"):
        best = max(best, _int((contact.custom_fields or {}).get(key)))
    for profile in contact.identities.values_list("profile", flat=True):
        for key in ("followers_count", "followers", "reach"):
            best = max(best, _int((profile or {}).get(key)))
    return best


def reach_of_handle(handle: str) -> int:
    if not handle:
        return 0
    identity = Identity.objects.filter(handle__iexact=handle.lstrip("@")).select_related("contact").first()
    return reach_of(identity.contact) if identity else 0


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


RISING_WINDOW = timedelta(hours=24)
RISING_MIN = 5
RISING_FACTOR = 2.0


def topic_rising(labels: list[str], now=None) -> bool:
    """Whether one of the item's first three topics (entities, then intents) is rising.

    A topic an app above watches with its spike detector (insights: every intent's volume; the
    ``topic_rising`` hook) is rising while that detector's alert is less than 24 hours old. Any other topic
    uses an approximation: messages and posts sharing it in the last 24 hours are at least 5 and at least
    twice the daily average of the 7 days before (one table holds both readings)."""
    now = now or timezone.now()
    for label in labels[:3]:
        if not label:
            continue
        answers = [a for a in hooks.run("topic_rising", label=label, now=now) if a is not None]
        if answers:
            if any(answers):
                return True
            continue
        if label.startswith("entity:"):
            base = Analysis.objects.filter(result__icontains=f'"name": "{label[7:]}"')
        else:
            base = Analysis.objects.filter(intent_labels__contains=f",{label},")
        recent = base.filter(analyzed_at__gte=now - RISING_WINDOW).count()
        if recent < RISING_MIN:
            continue
        before = base.filter(analyzed_at__lt=now - RISING_WINDOW, analyzed_at__gte=now - 8 * RISING_WINDOW).count()
        if recent >= RISING_FACTOR * max(before / 7, 1):
            return True
    return False


def _analysis_fields(language, sentiment, score, intents, probabilities, urgency, complexity, answerable,
                     relevance, entities) -> dict:
    return {
        "analysis.language": language or None,
        "analysis.sentiment": sentiment or None,
        "analysis.sentiment_score": score,
        "analysis.intents": tuple(intents),
        "analysis.intent_confidence": {k: round(float(v), 4) for k, v in (probabilities or {}).items()},
        "analysis.urgency": urgency,
        "analysis.complexity": complexity or None,
        "analysis.bot_answerable": bool(answerable),
        "analysis.relevance": relevance,
        "analysis.entities": tuple(sorted({e.get("name", "") for e in entities if e.get("name")})),
        "analysis.entity_kinds": tuple(sorted({e.get("kind", "") for e in entities if e.get("kind")})),
    }


def empty_analysis() -> dict:
    return _analysis_fields(None, None, None, (), {}, None, None, False, None, [])


def conversation_fields(conversation, now=None) -> dict:
    now = now or timezone.now()
    return {
        "conversation.id": conversation.pk,
        "conversation.team": conversation.team_id,
        "conversation.assignee": conversation.assignee_id,
        "conversation.status": conversation.status,
        "conversation.priority": conversation.priority,
        "conversation.tags": tuple(sorted(conversation.tags.values_list("name", flat=True))),
        "conversation.is_new": False,
        "conversation.message_count": conversation.message_count,
        "conversation.waiting_for_us": conversation.waiting_for_us,
        "conversation.filtered": bool(conversation.filtered),
        "conversation.hours_since_activity": _hours(conversation.last_activity_at, now),
        "conversation.hours_since_created": _hours(conversation.created_at, now),
        "conversation.hours_since_customer": _hours(conversation.last_inbound_at, now),
    }


def contact_fields(contact, needed: set[str]) -> dict:
    if contact is None:
        return {"contact.name": "", "contact.lifecycle": None, "contact.tags": (), "contact.reach": 0,
                "contact.organization": "", "contact.custom": {}}
    return {
        "contact.name": contact.name or "",
        "contact.lifecycle": contact.lifecycle_stage,
        "contact.tags": tuple(sorted(contact.tags.values_list("name", flat=True))),
        "contact.reach": reach_of(contact) if "contact.reach" in needed else 0,
        "contact.organization": contact.organization.name if contact.organization_id else "",
        "contact.custom": {str(k): ("" if v is None else str(v)) for k, v in (contact.custom_fields or {}).items()},
    }


def channel_fields(channel) -> dict:
    try:
        public = bool(get_driver(channel).public)
    except Exception:  # an unknown kind (driver of a later version) is not public
        public = False
    return {"channel.id": channel.pk, "channel.kind": channel.kind, "channel.public": public}


def _topic_labels(snapshot: dict) -> list[str]:
    return [f"entity:{e}" for e in snapshot["analysis.entities"]] + list(snapshot["analysis.intents"])


def snapshot_for_message(message, *, is_new: bool, needed: set[str] = frozenset(), now=None) -> dict:
    conversation = message.conversation
    analysis = message.analysis_or_none
    snap = {
        "message.id": message.pk,
        "message.text": message.text or "",
        "message.subject": message.subject or "",
        "message.is_public": bool(message.is_public),
        "message.has_attachments": message.attachments.exists() if "message.has_attachments" in needed else False,
        "message.filtered": ((message.meta or {}).get("noise") or {}).get("kind"),
    }
    if analysis is not None:
        snap.update(_analysis_fields(
            analysis.language, analysis.sentiment, analysis.sentiment_score, analysis.intents,
            analysis.result.get("intents", {}).get("probabilities", {}), analysis.urgency, analysis.complexity,
            analysis.bot_answerable, analysis.relevance, analysis.entities))
    else:
        snap.update(empty_analysis())
    snap.update(conversation_fields(conversation, now))
    snap["conversation.is_new"] = is_new
    snap.update(contact_fields(message.author_contact or conversation.contact, needed))
    snap.update(channel_fields(message.channel))
    snap["topic.rising"] = topic_rising(_topic_labels(snap), now) if "topic.rising" in needed else False
    snap["sla.target"] = None
    return snap


def snapshot_for_conversation(conversation, *, needed: set[str] = frozenset(), now=None, sla_target=None) -> dict:
    """Time, SLA and update events: the conversation with its latest customer message."""
    latest = (Message.objects.filter(conversation=conversation, direction=Message.Direction.INBOUND)
              .select_related("analysis", "channel", "author_contact", "conversation").order_by("-id").first())
    if latest is not None:
        latest.conversation = conversation
        snap = snapshot_for_message(latest, is_new=False, needed=needed, now=now)
    else:
        snap = {"message.id": None, "message.text": "", "message.subject": conversation.subject,
                "message.is_public": False, "message.has_attachments": False, "message.filtered": None,
                **empty_analysis(),
                **conversation_fields(conversation, now), **contact_fields(conversation.contact, needed),
                **channel_fields(conversation.channel), "topic.rising": False}
    snap["sla.target"] = sla_target
    return snap


def snapshot_for_post(post, *, needed: set[str] = frozenset(), now=None) -> dict:
    reading = post.analysis_or_none
    analysis = reading.result if reading is not None else {}
    snap = {
        "message.id": None,
        "message.text": f"{post.title}\n{post.text}".strip(),
        "message.subject": post.title or "",
        "message.is_public": True,
        "message.has_attachments": False, "message.filtered": None,
        **(_analysis_fields(reading.language, reading.sentiment, reading.sentiment_score, reading.intents,
                            analysis.get("intents", {}).get("probabilities", {}), reading.urgency,
                            reading.complexity, reading.bot_answerable, reading.relevance, reading.entities)
           if reading is not None else empty_analysis()),
        "conversation.id": None, "conversation.team": None, "conversation.assignee": None,
        "conversation.status": None, "conversation.priority": None, "conversation.tags": (),
        "conversation.is_new": True, "conversation.message_count": 0, "conversation.waiting_for_us": False,
        "conversation.hours_since_activity": None, "conversation.hours_since_created": None,
        "conversation.hours_since_customer": None,
        "contact.name": post.author or "", "contact.lifecycle": None, "contact.tags": (),
        "contact.reach": max(post.reach or 0, reach_of_handle(post.author_handle))
        if "contact.reach" in needed else 0,
        "contact.organization": "", "contact.custom": {},
        **channel_fields(post.channel),
        "sla.target": None,
    }
    snap["channel.public"] = True
    snap["topic.rising"] = topic_rising(_topic_labels(snap), now) if "topic.rising" in needed else False
    return snap
