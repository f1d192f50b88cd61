"""Inbox filters and full-text search over messages, shared by the agent UI and the API.

Filters on what other apps know about a conversation (the analysis of its messages) are registered by
those apps with ``register_filter``, so the inbox never imports them.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.db import connection
from django.db.models import Count, Q, QuerySet

from resonanz.core.params import is_id
from resonanz.core.permissions import team_restricted
from resonanz.inbox.models import FILTER_KINDS, Conversation, Message

FILTER_VALUES = {kind for kind, _label in FILTER_KINDS}

_filters: list[Callable[[QuerySet, dict], QuerySet]] = []


def register_filter(apply: Callable[[QuerySet, dict], QuerySet]) -> None:
    """An app's filter over the inbox parameters: ``apply(queryset, params) -> queryset``."""
    if apply not in _filters:
        _filters.append(apply)


SORTS = {"activity": ("-last_activity_at", "-id"), "priority": ("-priority", "-last_activity_at", "-id"),
         "oldest": ("last_activity_at", "id")}


def visible_conversations(qs: QuerySet, user) -> QuerySet:
    """The conversations ``user`` may see: all, or (team-restricted agents) their teams' and their own."""
    if not team_restricted(user):
        return qs
    return qs.filter(Q(team__agents__user=user) | Q(assignee=user)).distinct()


def visible_messages(qs: QuerySet, user) -> QuerySet:
    if not team_restricted(user):
        return qs
    return qs.filter(conversation__in=visible_conversations(Conversation.objects.all(), user).values("pk"))


def filter_conversations(qs: QuerySet, params, user) -> QuerySet:
    """Apply the inbox filters: status, team, assignee (me / none / id), channel, contact, tag, waiting,
    filtered ("" the inbox, "only" the filtered view, a kind such as "bounce", "all" both), sentiment and
    intent of any customer message, and q (full text)."""
    status = params.get("status")
    if status == "active":
        qs = qs.filter(status__in=Conversation.OPEN_STATUSES)
    elif status in Conversation.Status.values:
        qs = qs.filter(status=status)
    for field in ("team", "channel", "contact", "priority"):
        value = params.get(field)
        if is_id(value):
            qs = qs.filter(**{f"{field}_id" if field != "priority" else field: int(value)})
    assignee = params.get("assignee")
    if assignee == "me":
        qs = qs.filter(assignee=user)
    elif assignee in ("none", "unassigned"):
        qs = qs.filter(assignee__isnull=True)
    elif is_id(assignee):
        qs = qs.filter(assignee_id=int(assignee))
    tag = params.get("tag")
    if tag:
        qs = qs.filter(tags__name=tag)
    filtered = params.get("filtered") or ""
    if filtered in ("only", "1", "true", "yes"):
        qs = qs.exclude(filtered="")
    elif filtered in FILTER_VALUES:
        qs = qs.filter(filtered=filtered)
    elif filtered != "all":  # the inbox: machine-generated mail waits in the filtered view
        qs = qs.filter(filtered="")
    if params.get("waiting") in ("1", "true", "yes"):
        qs = qs.filter(waiting_for_us=True, status__in=Conversation.OPEN_STATUSES)
    for apply in _filters:
        qs = apply(qs, params)
    q = (params.get("q") or "").strip()
    if q:
        qs = qs.filter(search_q(q))
    sort = SORTS.get(params.get("sort") or "activity", SORTS["activity"])
    return qs.order_by(*sort)


def filtered_count(qs: QuerySet) -> int:
    """How many open conversations wait in the filtered view (for the tab's number)."""
    return qs.exclude(filtered="").filter(status__in=Conversation.OPEN_STATUSES).order_by().count()


def status_counts(qs: QuerySet) -> dict[str, int]:
    counts = dict.fromkeys(Conversation.Status.values, 0)
    for row in qs.order_by().values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    return counts


_WORD = re.compile(r"\w+", re.UNICODE)
_REFERENCE = re.compile(r"^\[?(?:rz-?|#)?(\d{1,12})\]?$", re.IGNORECASE)


def search_q(query: str) -> Q:
    """What an agent types into the inbox search: a ticket number (RZ-321, #321, 321), words of the subject,
    the customer's name, an email address or handle of any of their identities, or words of any message."""
    query = query.strip()[:200]
    match = _REFERENCE.match(query)
    condition = Q(pk=int(match.group(1))) if match else Q(pk__in=[])
    if "@" in query or (len(query) >= 3 and " " not in query):
        handle = query.lstrip("@")
        condition |= Q(contact__identities__handle__icontains=handle)
    words = query.split()[:8]
    if words:
        subject, name = Q(), Q()
        for word in words:
            subject &= Q(subject__icontains=word)
            name &= Q(contact__name__icontains=word)
        condition |= subject | name
    ids = search_conversation_ids(query)
    if ids:
        condition |= Q(pk__in=ids)
    return Q(pk__in=Conversation.objects.filter(condition).values("pk"))


def search_conversation_ids(query: str, limit: int = 2000) -> list[int]:
    """Conversation ids whose messages match every word of ``query`` (prefix match on the last one)."""
    words = _WORD.findall(query.lower())[:12]
    if not words:
        return []
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            match = " ".join(f'"{w}"' for w in words[:-1]) + f' "{words[-1]}"*'
            cursor.execute(
                "SELECT DISTINCT m.conversation_id FROM inbox_message_fts f JOIN inbox_message m ON m.id = f.rowid "
                "WHERE inbox_message_fts MATCH %s ORDER BY m.conversation_id DESC LIMIT %s",
                [match.strip(), limit],
            )
        elif connection.vendor == "postgresql":
            tsquery = " & ".join(words[:-1] + [words[-1] + ":*"])
            cursor.execute(
                "SELECT DISTINCT conversation_id FROM inbox_message "
                "WHERE to_tsvector('simple', text) @@ to_tsquery('simple', %s) "
                "ORDER BY conversation_id DESC LIMIT %s",
                [tsquery, limit],
            )
        else:  # other databases: slow but correct
            qs = Message.objects.all()
            for word in words:
                qs = qs.filter(text__icontains=word)
            return list(qs.values_list("conversation_id", flat=True).distinct()[:limit])
        return [row[0] for row in cursor.fetchall()]
