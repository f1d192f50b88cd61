"""Words for the codes the database keeps: intents, event kinds, reasons, bot decisions, relative times.

The event log and the analysis store stable English codes (rules, the API and exports read them); agents
read them in their own language. Every code shown on a desk page passes through one of these filters, so a
new code shows up untranslated in one place: tests/desk/test_german.py compares the rendered pages.
"""

from __future__ import annotations

import re

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from resonanz.automation.defaults import SEEDED_TEXTS
from resonanz.automation.fields import FIELDS, OPERATORS
from resonanz.inbox.models import Conversation
from resonanz.knowledge.models import Article
from resonanz.understanding.models import INTENTS, SENTIMENTS, CatalogEntry

register = template.Library()

EVENT_KINDS = {
    "created": gettext_lazy("conversation started"),
    "message_received": gettext_lazy("message received"),
    "reply_imported": gettext_lazy("earlier reply imported"),
    "reply_sent": gettext_lazy("reply sent"),
    "comment_hidden": gettext_lazy("comment hidden on the platform"),
    "comment_shown": gettext_lazy("comment shown again on the platform"),
    "comment_deleted": gettext_lazy("comment deleted on the platform"),
    "note_added": gettext_lazy("internal note added"),
    "status_changed": gettext_lazy("status changed"),
    "priority_changed": gettext_lazy("priority changed"),
    "team_changed": gettext_lazy("team changed"),
    "assigned": gettext_lazy("assigned"),
    "subject_changed": gettext_lazy("subject changed"),
    "tags_changed": gettext_lazy("tags changed"),
    "contact_merged": gettext_lazy("contacts merged"),
    "post_turned_into_conversation": gettext_lazy("public post taken into the inbox"),
    "rule_applied": gettext_lazy("rule acted"),
    "rule_failed": gettext_lazy("rule failed"),
    "sla_applied": gettext_lazy("service level applied"),
    "sla_warning": gettext_lazy("service level due soon"),
    "sla_breached": gettext_lazy("service level missed"),
    "reply_held": gettext_lazy("reply held for approval"),
    "guideline_warnings": gettext_lazy("sent despite guideline warnings"),
    "reply_approved": gettext_lazy("reply approved"),
    "reply_returned": gettext_lazy("reply returned"),
    "auto_answered": gettext_lazy("answered automatically"),
    "handed_over": gettext_lazy("handed over by the bot"),
    "delivery_retry": gettext_lazy("delivery retried"),
    "delivery_sent": gettext_lazy("delivered to the channel"),
    "delivery_delivered": gettext_lazy("delivered"),
    "delivery_read": gettext_lazy("read by the customer"),
    "delivery_failed": gettext_lazy("delivery failed"),
    "delivery_queued": gettext_lazy("queued for delivery"),
    "delivery_stored": gettext_lazy("stored for delivery"),
    "filtered": gettext_lazy("moved into the filtered view"),
    "unfiltered": gettext_lazy("moved into the inbox"),
    "survey_answered": gettext_lazy("satisfaction survey answered"),
    "auto_reply_received": gettext_lazy("automatic reply received"),
    "analysed": gettext_lazy("message read by Resonanz"),
    "analysis_corrected": gettext_lazy("analysis corrected"),
    "suggested": gettext_lazy("answer suggestions ready"),
    "macro_applied": gettext_lazy("macro applied"),
    "merged": gettext_lazy("conversations merged"),
    "merged_into": gettext_lazy("merged into another conversation"),
    "split": gettext_lazy("conversation split"),
    "split_from": gettext_lazy("split from another conversation"),
    "unmerged": gettext_lazy("merge undone"),
    "private_reply_sent": gettext_lazy("answered privately in the direct messages"),
    "private_reply_from": gettext_lazy("private reply to a public comment"),
}

# Fixed reasons written by the code; formatted ones are matched by REASON_PATTERNS below.
REASONS = {
    "answered by this agent": gettext_lazy("answered by this agent"),
    "taken by the agent": gettext_lazy("taken by the agent"),
    "demo data": gettext_lazy("demo data"),
    "imported": gettext_lazy("imported"),
    "reopened by the customer's reply": gettext_lazy("reopened by the customer's reply"),
    "from the listening stream": gettext_lazy("from the listening stream"),
    "edited and sent": gettext_lazy("edited and sent"),
    "sent as written": gettext_lazy("sent as written"),
    "the customer asked for a person": gettext_lazy("the customer asked for a person"),
    "the customer is still unhappy after the automatic answer":
        gettext_lazy("the customer is still unhappy after the automatic answer"),
    "bulk action": gettext_lazy("bulk action"),
    # what a channel says when it keeps a reply instead of sending it (connectors/drivers)
    "ready for collection through the API": gettext_lazy("ready for collection through the API"),
    "stored until an email channel can deliver replies":
        gettext_lazy("stored until an email channel can deliver replies"),
    "this channel has no way to send; the reply is kept": gettext_lazy("this channel has no way to send; the reply is kept"),
    "imported history: replies are kept, not sent": gettext_lazy("imported history: replies are kept, not sent"),
}

DECISIONS = {
    "answered": gettext_lazy("answered automatically"),
    "handed_over": gettext_lazy("handed over to a person"),
    "switched_off": gettext_lazy("switched off for this channel"),
    "public_post": gettext_lazy("public post: never answered automatically"),
    "noise": gettext_lazy("automatic message: never answered"),
    "person_in_charge": gettext_lazy("a person is in charge"),
    "no_analysis": gettext_lazy("not read yet"),
    "no_article": gettext_lazy("no fitting article"),
    "internal_article": gettext_lazy("the best article is internal"),
    "no_article_in_language": gettext_lazy("no article in the customer's language"),
    "needs_person": gettext_lazy("needs a person"),
    "low_confidence": gettext_lazy("not sure enough"),
}
NEEDS_PERSON = {"negative": gettext_lazy("negative mood"), "urgent": gettext_lazy("urgent"),
                "complex": gettext_lazy("too complex")}


def _quoted(pattern: str) -> re.Pattern:
    return re.compile("^" + pattern + "$")


REASON_PATTERNS = [
    (_quoted(r"handed over by the bot: (?P<rest>.+)"), gettext_lazy("handed over by the bot: %(rest)s")),
    (_quoted(r"SLA policy “(?P<name>.+)”"), gettext_lazy("service level policy “%(name)s”")),
    (_quoted(r"answered automatically with “(?P<title>.+)” \(confidence (?P<c>[0-9.]+)\)"),
     gettext_lazy("answered automatically with “%(title)s” (confidence %(c)s)")),
    (_quoted(r"article “(?P<title>.+)”, confidence (?P<c>[0-9.]+)"),
     gettext_lazy("article “%(title)s”, confidence %(c)s")),
    (_quoted(r"sent despite: (?P<rest>.+)"), gettext_lazy("sent despite: %(rest)s")),
    (_quoted(r"(?P<name>.+) was deactivated"), gettext_lazy("%(name)s was deactivated")),
    (_quoted(r"first response was due (?P<when>.+)"), gettext_lazy("first response was due %(when)s")),
    (_quoted(r"resolution was due (?P<when>.+)"), gettext_lazy("resolution was due %(when)s")),
    (_quoted(r"first response due (?P<when>.+)"), gettext_lazy("first response due %(when)s")),
    (_quoted(r"resolution due (?P<when>.+)"), gettext_lazy("resolution due %(when)s")),
    (_quoted(r"macro “(?P<name>.+)”"), gettext_lazy("macro “%(name)s”")),
    (_quoted(r"merged into (?P<ref>RZ-\d+)"), gettext_lazy("merged into %(ref)s")),
    (_quoted(r"merged (?P<ref>RZ-\d+)"), gettext_lazy("%(ref)s merged into this one")),
    (_quoted(r"merge into (?P<ref>RZ-\d+) undone"), gettext_lazy("merge into %(ref)s undone")),
]


_SEEDED = frozenset(SEEDED_TEXTS)


@register.filter
def seeded(text: str) -> str:
    """A name or description ``resonanz setup`` wrote (default rules, the office-hours calendar, the default SLA
    policy) in the agent's language; anything a person wrote or renamed stays as written."""
    return _(text) if text in _SEEDED else (text or "")


# The community's moderation log keeps codes (community.actions); moderators and authors read words.
MODERATION = {
    "remove": gettext_lazy("removed"), "restore": gettext_lazy("restored"), "approve": gettext_lazy("approved"),
    "lock": gettext_lazy("locked"), "unlock": gettext_lazy("unlocked"), "edit": gettext_lazy("edited"),
    "hold": gettext_lazy("held for review"), "merge": gettext_lazy("merged"), "move": gettext_lazy("moved"),
    "promote": gettext_lazy("made a moderator"), "demote": gettext_lazy("moderator rights taken back"),
    "rename": gettext_lazy("renamed"), "revoke_points": gettext_lazy("points revoked"),
    "revoke_rights": gettext_lazy("rights revoked"), "restore_rights": gettext_lazy("rights restored"),
}
MODERATED = {
    "question": pgettext_lazy("moderated item", "question"), "answer": pgettext_lazy("moderated item", "answer"),
    "comment": pgettext_lazy("moderated item", "comment"), "idea": pgettext_lazy("moderated item", "idea"),
    "member": pgettext_lazy("moderated item", "member"), "tag": pgettext_lazy("moderated item", "tag"),
}
MODERATION_REASONS = {
    "Held for review: looks like spam.": gettext_lazy("Held for review: looks like spam."),
    "moderator": pgettext_lazy("moderation reason", "moderator"),
    "member": pgettext_lazy("moderation reason", "member"),
}


@register.filter
def moderation_action(code: str) -> str:
    return str(MODERATION.get(code, code))


@register.filter
def moderated_kind(code: str) -> str:
    return str(MODERATED.get(code, code))


@register.filter
def moderation_reason(reason: str) -> str:
    """A reason the code wrote in the agent's language; a moderator's own words stay as written."""
    return str(MODERATION_REASONS[reason]) if reason in MODERATION_REASONS else (reason or "")


@register.filter
def article_status(code: str) -> str:
    return str(dict(Article.Status.choices).get(code, code))


def _article_field(name: str) -> str:
    if name == "tags":
        return _("tags")
    try:
        return str(Article._meta.get_field(name).verbose_name)
    except Exception:
        return name.replace("_", " ")


VERSION_NOTES = [
    (_quoted(r"changed (?P<fields>[a-z_, ]+)"),
     lambda m: _("changed: %(fields)s") % {"fields": ", ".join(_article_field(f) for f in m["fields"].split(", "))}),
    (_quoted(r"status (?P<status>\w+)"), lambda m: _("status %(status)s") % {"status": article_status(m["status"])}),
    (_quoted(r"restored version (?P<n>\d+)"), lambda m: _("restored version %(n)s") % {"n": m["n"]}),
    (_quoted(r"imported from (?P<source>.+)"), lambda m: _("imported from %(source)s") % {"source": m["source"]}),
]


@register.filter
def version_note(note: str) -> str:
    """Why an article version was made, as the knowledge base wrote it ("changed title, body", "status published"),
    in the agent's language; an editor's own note stays as written."""
    fixed = {"created": _("created"), "proposed from resolved conversations": _("proposed from resolved conversations")}
    if note in fixed:
        return fixed[note]
    for pattern, words in VERSION_NOTES:
        match = pattern.match(note or "")
        if match:
            return words(match)
    return reason_label(note)


@register.filter
def entity_kind(code: str) -> str:
    """"competitor" → "Wettbewerber": the kind of a name text understanding found (the catalog's kinds)."""
    return str(dict(CatalogEntry.Kind.choices).get(code, code))


@register.filter
def intent_label(code: str) -> str:
    return str(dict(INTENTS).get(code, code))


@register.filter
def event_label(kind: str) -> str:
    return str(EVENT_KINDS.get(kind, kind.replace("_", " ")))


@register.filter
def reason_label(reason: str) -> str:
    """A stored reason in the agent's language; unknown free text (a person's note) stays as written."""
    if not reason:
        return ""
    if reason in REASONS:
        return str(REASONS[reason])
    if reason.startswith("rule “"):  # a change a rule made: "rule “name”: why"
        parts = _split_outside_quotes(reason[len("rule “"):], "”: ")
        if parts is not None:
            return _("rule “%(name)s”: %(why)s") % {"name": seeded(parts[0]), "why": _why_label(parts[1])}
    for pattern, text in REASON_PATTERNS:
        match = pattern.match(reason)
        if match:
            groups = {k: reason_label(v) if k == "rest" else seeded(v) if k == "name" else v
                      for k, v in match.groupdict().items()}
            return str(text) % groups
    if reason.startswith("needs_person") or reason in DECISIONS:
        return decision_label(reason)
    return reason


# --- what a rule did and why, as the runner wrote it in English ------------------------------------------------
# "routed to Legal; tagged legal: intent legal threat, confidence 0.91" (a rule run) and
# "rule “Legal threats to Legal”: intent legal threat, confidence 0.91" (the changes it made). The stored text stays
# English (the API, exports and audits read it); the desk shows it in the agent's language, part by part, and keeps
# names, values and anything it does not know as written.

RULE_DONE = [
    (_quoted(r"routed to (?P<team>.+)"), gettext_lazy("routed to %(team)s")),
    (_quoted(r"assigned to (?P<name>.+) \((?P<how>round robin|least open)\)"), gettext_lazy("assigned to %(name)s (%(how)s)")),
    (_quoted(r"assigned to (?P<name>.+)"), gettext_lazy("assigned to %(name)s")),
    (_quoted(r"nobody in (?P<team>.+) available"), gettext_lazy("nobody in %(team)s available")),
    (_quoted(r"tagged (?P<tags>.+)"), gettext_lazy("tagged %(tags)s")),
    (_quoted(r"untagged (?P<tags>.+)"), gettext_lazy("tag removed: %(tags)s")),
    (_quoted(r"notified (?P<to>.+)"), gettext_lazy("notified %(to)s")),
    (_quoted(r"webhook (?P<host>.+)"), gettext_lazy("webhook %(host)s")),
    (_quoted(r"answered with “(?P<title>.+)”"), gettext_lazy("answered with “%(title)s”")),
]
RULE_DONE_FIXED = {
    "no team to assign within": gettext_lazy("no team to assign within"),
    "marked as spam": gettext_lazy("marked as spam"),
    "moved into the inbox": gettext_lazy("moved into the inbox"),
    "moved into the filtered view": gettext_lazy("moved into the filtered view"),
    "turned into a conversation": gettext_lazy("turned into a conversation"),
    "answered with a template": gettext_lazy("answered with a template"),
    "internal note": gettext_lazy("internal note"),
    "matched": gettext_lazy("matched"),
    "always": gettext_lazy("always"),
}
HOW = {"round robin": gettext_lazy("round robin"), "least open": gettext_lazy("fewest open")}
# "team is empty", "reach 25000": the runner names a field by its last part, with spaces
_SHORT_FIELDS = sorted(((name.split(".", 1)[1].replace("_", " "), f) for name, f in reversed(FIELDS.items())),
                       key=lambda item: -len(item[0]))


def _english_words() -> tuple[dict, dict, dict]:
    from django.utils import translation

    with translation.override("en"):
        operators = {str(label): label for label, _kinds in OPERATORS.values()}
        priorities = {str(label): label for _value, label in Conversation.Priority.choices}
        statuses = {code: label for code, label in Conversation.Status.choices}
    return operators, priorities, statuses


def _done_label(part: str) -> str:
    if part in RULE_DONE_FIXED:
        return str(RULE_DONE_FIXED[part])
    operators, priorities, statuses = _english_words()
    head, _sep, rest = part.partition(" ")
    if head == "status" and rest in statuses:
        return _("status %(status)s") % {"status": statuses[rest]}
    if head == "priority" and rest in priorities:
        return _("priority %(priority)s") % {"priority": priorities[rest]}
    for pattern, text in RULE_DONE:
        match = pattern.match(part)
        if match:
            groups = match.groupdict()
            if "how" in groups:
                groups["how"] = str(HOW.get(groups["how"], groups["how"]))
            return str(text) % groups
    return part


def _leaf_label(leaf: str) -> str:
    """One condition that held: "intent legal threat", "confidence 0.91", "sentiment negative (-0.62)",
    "team is empty", "reach 25000"."""
    if leaf in RULE_DONE_FIXED:
        return str(RULE_DONE_FIXED[leaf])
    head, _sep, rest = leaf.partition(" ")
    if head == "intent" and rest:
        return _("intent %(intent)s") % {"intent": intent_label(rest.replace(" ", "_"))}
    if head == "confidence" and rest:
        return _("confidence %(value)s") % {"value": rest}
    if head == "sentiment" and rest:
        word, _sep, score = rest.partition(" ")
        return (_("sentiment %(sentiment)s") % {"sentiment": dict(SENTIMENTS).get(word, word)}
                + (f" {score}" if score else ""))
    operators = _english_words()[0]
    for short, field in _SHORT_FIELDS:
        if leaf.startswith(short + " "):
            rest = leaf[len(short) + 1:]
            for english in sorted(operators, key=len, reverse=True):
                if rest == english or rest.startswith(english + " "):
                    rest = str(operators[english]) + rest[len(english):]
                    break
            return f"{field.label} {rest}"
    return leaf


def _split_outside_quotes(text: str, separator: str) -> tuple[str, str] | None:
    """At the first separator that is not inside “…” (an article title or a rule name may hold one)."""
    start = 0
    while (index := text.find(separator, start)) >= 0:
        if text.count("“", 0, index) == text.count("”", 0, index):
            return text[:index], text[index + len(separator):]
        start = index + 1
    return None


def _why_label(why: str) -> str:
    return ", ".join(_leaf_label(leaf) for leaf in why.split(", "))


@register.filter
def rule_run_label(reason: str) -> str:
    """A rule run's reason ("routed to Legal; tagged legal: intent legal threat, confidence 0.91") in words of the
    agent's language."""
    parts = _split_outside_quotes(reason or "", ": ")
    if parts is None:
        return reason_label(reason)
    done, why = parts
    return f"{'; '.join(_done_label(d) for d in done.split('; '))}: {_why_label(why)}"


@register.filter
def decision_label(code: str) -> str:
    """"needs_person:negative" → "needs a person (negative mood)"."""
    if not code:
        return ""
    head, _sep, detail = code.partition(":")
    label = DECISIONS.get(head)
    if label is None:
        return code
    if head == "needs_person" and detail:
        parts = [str(NEEDS_PERSON.get(d) or dict(INTENTS).get(d, d)) for d in detail.split(",")]
        return f"{label} ({', '.join(parts)})"
    if head == "low_confidence" and detail:
        return f"{label} ({detail})"
    return str(label)


@register.filter
def event_detail(event) -> str:
    """What changed, from the event's data: old → new status or priority, in words."""
    data = event.data or {}
    if event.kind == "status_changed" and data.get("new"):
        labels = dict(Conversation.Status.choices)
        old = labels.get(data.get("old"), data.get("old") or "—")
        return f"{old} → {labels.get(data['new'], data['new'])}"
    if event.kind == "priority_changed" and data.get("new") is not None:
        labels = dict(Conversation.Priority.choices)
        return f"{labels.get(data.get('old'), data.get('old'))} → {labels.get(data['new'], data['new'])}"
    if event.kind in ("merged_into", "split", "private_reply_sent") and data.get("into"):
        return f"RZ-{data['into']}"
    if event.kind in ("merged", "split_from", "unmerged", "private_reply_from") and data.get("source"):
        return f"RZ-{data['source']}"
    if event.kind == "tags_changed" and isinstance(data.get("new"), list):
        return ", ".join(data["new"]) or _("no tags")
    return ""


@register.filter
def ago(value) -> str:
    """"vor 2 Tagen" / "2 days ago": a time in the list reads as a time, not a duration."""
    return naturaltime(value) if value else ""
