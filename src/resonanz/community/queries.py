"""Read-side queries of the community pages and the API: lists, sorting, experts of the week."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from resonanz.community.models import Idea, IdeaLink, Member, Question, ReputationEvent, Tag, Visibility

SORTS = ("votes", "newest", "unanswered")


def question_list(*, sort: str = "newest", tag: str = "", search: str = "") -> QuerySet[Question]:
    qs = Question.objects.filter(visibility=Visibility.VISIBLE).select_related("author")
    if tag:
        qs = qs.filter(tags__name=tag)
    if search:
        words = [w for w in search.split() if len(w) > 1][:8]
        for word in words:
            qs = qs.filter(Q(title__icontains=word) | Q(body__icontains=word))
    if sort == "votes":
        return qs.order_by("-score", "-created_at")
    if sort == "unanswered":
        return qs.filter(answer_count=0).order_by("-created_at")
    return qs.order_by("-created_at")


def top_tags(n: int = 15) -> list[Tag]:
    return list(Tag.objects.filter(question_count__gt=0).order_by("-question_count", "name")[:n])


def experts_of_week(*, tag: str = "", n: int = 3, now=None) -> list[tuple[Member, int]]:
    """Members with the most points from accepted and upvoted answers in the last seven days."""
    since = (now or timezone.now()) - timedelta(days=7)
    events = ReputationEvent.objects.filter(created_at__gte=since, revoked_at__isnull=True, points__gt=0,
                                            reason__in=("answer_accepted", "answer_upvoted"),
                                            member__is_deleted=False)
    if tag:
        events = events.filter(Q(answer__question__tags__name=tag) | Q(question__tags__name=tag))
    rows = list(events.values("member").annotate(points=Sum("points")).order_by("-points", "member")[:n])
    members = Member.objects.in_bulk([r["member"] for r in rows])
    return [(members[r["member"]], r["points"]) for r in rows if r["member"] in members]


def idea_list(*, status: str = "", sort: str = "top") -> QuerySet[Idea]:
    qs = Idea.objects.filter(visibility=Visibility.VISIBLE, merged_into__isnull=True).select_related("author")
    if status in Idea.Status.values:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at") if sort == "newest" else qs.order_by("-votes", "-created_at")


def evidence(idea: Idea) -> dict[str, int]:
    counts = {"conversation": 0, "post": 0}
    for kind in IdeaLink.objects.filter(idea=idea).values_list("kind", flat=True):
        counts[kind] = counts.get(kind, 0) + 1
    return counts
