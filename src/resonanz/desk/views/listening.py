"""The listening stream: public posts by source, with their analysis, filterable; no analysis runs here."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from resonanz.connectors.models import Channel, SourceState
from resonanz.core.errors import ActionError
from resonanz.core.params import is_id
from resonanz.insights import days
from resonanz.insights.models import ListeningQuery
from resonanz.listening import actions
from resonanz.listening.models import Post
from resonanz.understanding.models import SENTIMENTS

PAGE_SIZE = 30


def _day(value: str) -> date | None:
    """A ``YYYY-MM-DD`` from the address, or None (a made-up or absurd date filters nothing, never errs)."""
    try:
        day = date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        return None
    return day if day is not None and 1970 <= day.year <= 9000 else None


def filter_posts(qs, params):
    if is_id(params.get("query", "")):
        qs = qs.filter(fact__mentions__query_id=int(params["query"]))
    channel = params.get("channel", "")
    if is_id(channel):
        qs = qs.filter(channel_id=int(channel))
    if params.get("source"):
        qs = qs.filter(source=params["source"])
    day = _day(params.get("day", ""))
    if day is not None:  # a column of the dashboard's volume chart: that day in the company's time zone
        qs = qs.filter(published_at__gte=days.day_start(day), published_at__lt=days.day_start(day + timedelta(days=1)))
    if params.get("author"):  # the dashboard's top authors link here
        qs = qs.filter(fact__author=params["author"][:320])
    if params.get("sentiment") in {v for v, _label in SENTIMENTS}:
        qs = qs.filter(analysis__sentiment=params["sentiment"])
    try:
        threshold = float(params.get("relevance") or 0)
    except ValueError:
        threshold = 0.0
    if threshold > 0:
        qs = qs.filter(analysis__relevance__gte=threshold)
    q = (params.get("q") or "").strip()
    if q:
        for word in q.split()[:8]:
            qs = qs.filter(Q(title__icontains=word) | Q(text__icontains=word) | Q(author__icontains=word))
    state = params.get("state")
    if state == "open":
        qs = qs.filter(conversation__isnull=True)
    elif state == "converted":
        qs = qs.filter(conversation__isnull=False)
    return qs


@login_required
@require_GET
def stream(request):
    params = request.GET
    posts = filter_posts(Post.objects.select_related("channel", "conversation", "analysis"), params)
    page = Paginator(posts, PAGE_SIZE).get_page(params.get("page"))
    query = params.copy()
    query.pop("page", None)
    sources = (Post.objects.values("channel_id", "channel__name", "source", "source_title")
               .annotate(n=Count("id")).order_by("channel__name", "source_title", "source"))
    return render(request, "listening/stream.html", {
        "page": page, "params": params, "querystring": query.urlencode(), "sentiments": SENTIMENTS,
        "channels": Channel.objects.filter(posts__isnull=False).distinct().order_by("name"), "sources": sources,
        "feed_problems": SourceState.objects.filter(last_error_at__isnull=False).select_related("channel")
        .exclude(consecutive_errors=0),
        "relevance_choices": [("0.3", "≥ 0.3"), ("0.5", "≥ 0.5"), ("0.7", "≥ 0.7")],
        "queries": ListeningQuery.objects.order_by("tag", "name"),
    })


@login_required
@require_POST
def convert(request, pk: int):
    post = get_object_or_404(Post.objects.select_related("channel"), pk=pk)
    try:
        conversation = actions.turn_into_conversation(post, request.user)
    except ActionError as exc:
        flash.error(request, exc.message)
        return redirect("listening:stream")
    flash.success(request, _("The post is now conversation %(ref)s.") % {"ref": conversation.reference})
    return redirect("inbox:conversation", conversation.pk)
