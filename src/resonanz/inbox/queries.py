"""Inbox filters and full-text search over messages, shared by the agent UI and the API.

Filters on what other apps know about a conversation (the analysis of its messages) are registered by
those apps with ``register_filter``, so the inbox never imports them.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import Count, Q, QuerySet

from resonanz.core.params import is_id
from resonanz.core.permissions import team_restricted
from resonanz.inbox.models import FILTER_KINDS, Conversation
from resonanz.inbox.search import Search

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


def count_or_none(qs: QuerySet, params, user) -> int | None:
    """How many conversations ``filter_conversations`` finds, or None when a search matches too many
    conversations to count quickly (see ``inbox.search``)."""
    q = (params.get("q") or "").strip()
    if q and not Search(q).few:
        return None
    return filter_conversations(qs, params, user).count()


def filtered_count(qs: QuerySet) -> int:
    """How many open conversations wait in the filtered view (for the tab's number)."""
    return qs.exclude(filtered="").filter(status__in=Conversation.OPEN_STATUSES).order_by().count()


def status_counts(qs: QuerySet) -> dict[str, int]:
    counts = dict.fromkeys(Conversation.Status.values, 0)
    for row in qs.order_by().values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    return counts


def search_q(query: str) -> Q:
    """What an agent types into the inbox search: a ticket number (RZ-321, #321, 321), or words found in the
    subject, the customer's name, an email address or handle of any of their identities, or any message
    (every word somewhere in the conversation; see ``inbox.search``)."""
    return Search(query).condition()


def search_conversation_ids(query: str, limit: int = 2000) -> list[int]:
    """Ids of the conversations matching ``query`` in the search index, highest first."""
    return Search(query).ids(limit)
