"""Read-side queries of the community pages and the API: lists, sorting, experts of the week."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from django.core.cache import cache
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from resonanz.community.models import (
    Answer,
    Comment,
    Idea,
    IdeaLink,
    Member,
    Question,
    ReputationEvent,
    Tag,
    Visibility,
)

SORTS = ("votes", "newest", "unanswered")
#: experts of the week and the tag cloud change slowly; recomputing them on every visit was the start page's
#: most expensive work once reputation events pile up
SIDEBAR_SECONDS = 300


@dataclass
class Window:
    """One page of a list without counting the whole list (a COUNT over 100,000 questions cost more than
    the rest of the start page): one row more than shown tells whether there is a next page."""

    object_list: list
    number: int
    has_next: bool

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1


def window(qs: QuerySet, page, size: int) -> Window:
    try:
        number = max(1, min(int(page), 10_000))
    except (TypeError, ValueError):
        number = 1
    rows = list(qs[(number - 1) * size:number * size + 1])
    return Window(rows[:size], number, len(rows) > size)


def question_list(*, sort: str = "newest", tag: str = "", search: str = "", product: str = "",
                  visibility: str = Visibility.VISIBLE) -> QuerySet[Question]:
    """Questions of one visibility (the public sees only visible ones; moderators also list held and removed
    ones), by tag, product and words of the title or text."""
    qs = Question.objects.filter(visibility=visibility).select_related("author")
    if visibility == Visibility.REMOVED:
        qs = qs.filter(merged_into__isnull=True)  # merged duplicates live on in the question they went to
    if tag:
        qs = qs.filter(tags__name=tag)
    if product:
        qs = qs.filter(product=product)
    if search:
        words = [w for w in search.split() if len(w) > 1][:8]
        for word in words:
            qs = qs.filter(Q(title__icontains=word) | Q(body__icontains=word))
    if sort == "votes":
        return qs.order_by("-score", "-created_at")
    if sort == "unanswered":
        return qs.filter(answer_count=0).order_by("-created_at")
    return qs.order_by("-created_at")


def question_rows(**kwargs) -> QuerySet[Question]:
    """``question_list`` for listing pages: without the texts, which a list never shows."""
    return question_list(**kwargs).defer("body", "body_html")


def top_tags(n: int = 15) -> list[Tag]:
    key = f"community:top-tags:{n}"
    tags = cache.get(key)
    if tags is None:
        tags = list(Tag.objects.filter(question_count__gt=0).order_by("-question_count", "name")[:n])
        cache.set(key, tags, SIDEBAR_SECONDS)
    return tags


def forget_tags() -> None:
    """Called by the actions that rename, merge or describe tags, so the change shows at once."""
    cache.delete("community:top-tags:15")


def cached_experts(tag: str = "", product: str = "") -> list[tuple[Member, int]]:
    key = "community:experts:" + hashlib.sha256(f"{tag[:40]}\n{product[:100]}".encode()).hexdigest()[:32]
    found = cache.get(key)
    if found is None:
        found = experts_of_week(tag=tag, product=product)
        cache.set(key, found, SIDEBAR_SECONDS)
    return found


def experts_of_week(*, tag: str = "", product: str = "", n: int = 3, now=None) -> list[tuple[Member, int]]:
    """Members with the most points from accepted and upvoted answers in the last seven days, overall or in
    one tag or product (of the question the answer belongs to); revoked points do not count."""
    since = (now or timezone.now()) - timedelta(days=7)
    events = ReputationEvent.objects.filter(created_at__gte=since, revoked_at__isnull=True, points__gt=0,
                                            reason__in=("answer_accepted", "answer_upvoted"),
                                            member__is_deleted=False)
    if tag:
        events = events.filter(answer__question__tags__name=tag)
    if product:
        events = events.filter(answer__question__product=product)
    rows = list(events.values("member").annotate(points=Sum("points")).order_by("-points", "member")[:n])
    members = Member.objects.in_bulk([r["member"] for r in rows])
    return [(members[r["member"]], r["points"]) for r in rows if r["member"] in members]


def idea_list(*, status: str = "", sort: str = "top") -> QuerySet[Idea]:
    qs = Idea.objects.filter(visibility=Visibility.VISIBLE, merged_into__isnull=True).select_related("author")
    if status in Idea.Status.values:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at") if sort == "newest" else qs.order_by("-votes", "-created_at")


def evidence_counts(idea_ids: list[int]) -> dict[int, dict[str, int]]:
    """Evidence counts of many ideas in one query (the desk's idea list asked once per idea before)."""
    out = {pk: {"conversation": 0, "post": 0} for pk in idea_ids}
    for row in IdeaLink.objects.filter(idea_id__in=idea_ids).values("idea_id", "kind").annotate(n=Count("id")):
        out[row["idea_id"]][row["kind"]] = row["n"]
    return out


def evidence(idea: Idea) -> dict[str, int]:
    counts = {"conversation": 0, "post": 0}
    for kind in IdeaLink.objects.filter(idea=idea).values_list("kind", flat=True):
        counts[kind] = counts.get(kind, 0) + 1
    return counts


HELD_KINDS = {"question": (Question, "body"), "answer": (Answer, "body"), "comment": (Comment, "text"),
              "idea": (Idea, "description")}


def thread_title(kind: str, obj) -> str:
    """The title of the question or idea a post belongs to."""
    if kind in ("question", "idea"):
        return obj.title
    if kind == "answer":
        return obj.question.title
    parent = obj.question or obj.idea or (obj.answer.question if obj.answer_id else None)
    return parent.title if parent is not None else ""


def post_url(kind: str, obj) -> str:
    """Where a post is seen on the public pages."""
    if kind == "question":
        return f"/community/q/{obj.pk}/"
    if kind == "answer":
        return f"/community/q/{obj.question_id}/#a{obj.pk}"
    if kind == "idea":
        return f"/community/ideas/{obj.pk}/"
    if obj.idea_id:
        return f"/community/ideas/{obj.idea_id}/#c{obj.pk}"
    return f"/community/q/{obj.question_id or obj.answer.question_id}/#c{obj.pk}"


def held_posts(limit: int = 50) -> list[dict]:
    """New members' posts waiting for a moderator, oldest first per kind: the desk's queue, the mentors' page
    and the API list the same."""
    found = []
    for kind, (model, field) in HELD_KINDS.items():
        for obj in model.objects.filter(visibility=Visibility.HELD).select_related("author") \
                .order_by("created_at", "pk")[:limit]:
            found.append({"kind": kind, "id": obj.pk, "obj": obj, "title": thread_title(kind, obj),
                          "text": getattr(obj, field)[:400], "author": obj.author, "created_at": obj.created_at,
                          "url": post_url(kind, obj)})
    return found
