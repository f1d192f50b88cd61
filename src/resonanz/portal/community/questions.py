"""Questions and answers: the start page, asking (with similar questions and articles), a question's page."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from resonanz.community import actions, queries
from resonanz.community import search as community_search
from resonanz.community.models import Answer, Comment, Follow, Question, Tag, Visibility, Vote
from resonanz.core.permissions import can, permission_required
from resonanz.core.sanitize import clean_text
from resonanz.knowledge.search import articles as article_ranking
from resonanz.portal.community.common import (
    act,
    current_member,
    language_of,
    member_required,
    page,
    rate_limited,
)
from resonanz.portal.help import public_url
from resonanz.understanding.models import CatalogEntry

PAGE_SIZE = 20


def home(request, tag: str = ""):
    """The start page, a tag's page, or one product's questions (``?product=``), each with its experts."""
    sort = request.GET.get("sort") if request.GET.get("sort") in queries.SORTS else "newest"
    query = (request.GET.get("q") or "").strip()[:200]
    product = clean_text(request.GET.get("product"), 100).strip()
    questions = queries.window(queries.question_rows(sort=sort, tag=tag, search=query, product=product),
                               request.GET.get("page"), PAGE_SIZE)
    return page(request, "community/home.html", {
        "questions": questions, "sort": sort, "query": query, "tag": tag, "product": product, "sorts": [
            ("newest", gettext_lazy("Newest")), ("votes", gettext_lazy("Most votes")),
            ("unanswered", gettext_lazy("Unanswered"))],
        "tags": queries.top_tags(), "experts": queries.cached_experts(tag, product),
        "tag_info": Tag.objects.filter(name=tag).first() if tag else None,
    })


def similar(request):
    """While typing a title: similar questions (``kind=ideas``: similar ideas, the duplicates to vote for
    instead) and help-center articles (JSON for the ask and idea forms)."""
    query = clean_text(request.GET.get("q"), 300).strip()
    found = article_ranking().search(query, k=3, public_only=True) if len(query) >= 3 else []
    articles = [{"title": r.article.title, "url": public_url(r.article)} for r in found]
    if request.GET.get("kind") == "ideas":
        ideas = community_search.ideas().search(query, k=5) if len(query) >= 3 else []
        return JsonResponse({"ideas": [{"title": i.title, "url": reverse("community:idea", args=[i.pk]),
                                        "votes": i.votes} for i in ideas], "articles": articles})
    questions = community_search.questions().search(query, k=5) if len(query) >= 3 else []
    return JsonResponse({
        "questions": [{"title": q.title, "url": reverse("community:question", args=[q.pk]),
                       "answers": q.answer_count} for q in questions],
        "articles": articles,
    })


class AskForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200,
                            widget=forms.TextInput(attrs={"autocomplete": "off"}))
    body = forms.CharField(label=gettext_lazy("Your question"), max_length=20000,
                           widget=forms.Textarea(attrs={"rows": 8}),
                           help_text=gettext_lazy("Markdown: **bold**, *italic*, lists, `code`, [links](https://…)"))
    tags = forms.CharField(label=gettext_lazy("Tags"), required=False, max_length=200,
                           help_text=gettext_lazy("Up to five words, separated by spaces or commas"))
    product = forms.ChoiceField(label=gettext_lazy("Product"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        names = CatalogEntry.objects.filter(kind="product").values_list("name", flat=True)
        self.fields["product"].choices = [("", "—")] + [(n, n) for n in names]


@rate_limited
@member_required
def ask(request):
    form = AskForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        question = act(request, actions.ask_question, current_member(request), back="", title=d["title"],
                       body=d["body"], tags=d["tags"], product=d["product"], language=language_of(request))
        if question is not None:
            return redirect("community:question", pk=question.pk)
    return page(request, "community/ask.html", {"form": form})


def _visible_or_own(member, obj) -> bool:
    return obj.visibility == Visibility.VISIBLE or actions.can_moderate(member) or (
        member is not None and obj.author_id == member.pk)


def question(request, pk: int):
    item = get_object_or_404(Question.objects.select_related("author", "accepted_answer"), pk=pk)
    if item.merged_into_id:  # a moderator merged this duplicate: old links lead to the question that lives on
        return redirect("community:question", pk=item.merged_into_id, permanent=True)
    member = current_member(request)
    if not _visible_or_own(member, item):
        raise Http404
    answers = [a for a in item.answers.select_related("author") if _visible_or_own(member, a)]
    answers.sort(key=lambda a: (a.pk != item.accepted_answer_id, -a.score, a.created_at))
    comments = [c for c in [*Comment.objects.filter(question=item).select_related("author"),
                            *Comment.objects.filter(answer__in=[a.pk for a in answers]).select_related("author")]
                if _visible_or_own(member, c)]
    for a in answers:
        a.comment_list = [c for c in comments if c.answer_id == a.pk]
    voted = set()
    following = False
    if member is not None:
        voted = {("a", v) for v in Vote.objects.filter(member=member, answer__question=item)
                 .values_list("answer_id", flat=True)}
        if Vote.objects.filter(member=member, question=item, answer__isnull=True).exists():
            voted.add(("q", item.pk))
        following = Follow.objects.filter(member=member, question=item).exists()
    return page(request, "community/question.html", {
        "question": item, "answers": answers, "question_comments": [c for c in comments if c.question_id],
        "voted_question": ("q", item.pk) in voted, "voted_answers": {v for k, v in voted if k == "a"},
        "following": following, "tags": list(item.tags.all()),
        "may_accept": member is not None and (member.pk == item.author_id or actions.can_moderate(member)),
        "may_draft_article": can(request.user, "knowledge.edit"),
        "may_move": actions.can_moderate(member), "may_merge": actions.can_moderate(member, "close_duplicates"),
        "may_moderate": actions.can_moderate(member),
    })


@require_POST
@permission_required("knowledge.edit")
def draft_article(request, pk: int, answer_pk: int):
    ans = get_object_or_404(Answer, pk=answer_pk, question_id=pk)
    article = act(request, actions.answer_to_article, ans, back="", editor=request.user)
    if article is None:
        return redirect(_back(pk, f"#a{ans.pk}"))
    return redirect("knowledge:edit", pk=article.pk)


def _back(pk: int, anchor: str = "") -> str:
    return reverse("community:question", args=[pk]) + anchor


@require_POST
@rate_limited
@member_required
def answer(request, pk: int):
    item = get_object_or_404(Question, pk=pk)
    made = act(request, actions.answer_question, current_member(request), item, back="",
               body=request.POST.get("body", ""))
    return redirect(_back(pk, f"#a{made.pk}" if made else "#answer-form"))


@require_POST
@rate_limited
@member_required
def vote(request, pk: int):
    item = get_object_or_404(Question, pk=pk)
    up = request.POST.get("up", "1") == "1"
    target = request.POST.get("answer")
    if target:
        ans = get_object_or_404(Answer, pk=int(target) if target.isdigit() else 0, question=item)
        act(request, actions.vote, current_member(request), back="", answer=ans, up=up)
        return redirect(_back(pk, f"#a{ans.pk}"))
    act(request, actions.vote, current_member(request), back="", question=item, up=up)
    return redirect(_back(pk))


@require_POST
@rate_limited
@member_required
def accept(request, pk: int, answer_pk: int):
    ans = get_object_or_404(Answer, pk=answer_pk, question_id=pk)
    act(request, actions.accept_answer, current_member(request), ans, back="")
    return redirect(_back(pk, f"#a{ans.pk}"))


@require_POST
@rate_limited
@member_required
def comment(request, pk: int):
    item = get_object_or_404(Question, pk=pk)
    target = request.POST.get("answer")
    ans = get_object_or_404(Answer, pk=int(target) if target.isdigit() else 0, question=item) if target else None
    act(request, actions.add_comment, current_member(request), back="", text=request.POST.get("text", ""),
        question=None if ans else item, answer=ans)
    return redirect(_back(pk, f"#a{ans.pk}" if ans else "#comments"))


@require_POST
@rate_limited
@member_required
def follow(request, pk: int):
    item = get_object_or_404(Question, pk=pk)
    act(request, actions.follow, current_member(request), item, back="", on=request.POST.get("on") == "1")
    return redirect(_back(pk))


@require_POST
@rate_limited
@member_required
def report(request):
    kind = request.POST.get("kind", "")
    target = request.POST.get("id", "")
    act(request, actions.report, current_member(request), kind, int(target) if target.isdigit() else 0, back="",
        reason=request.POST.get("reason", "") or "—")
    messages.info(request, _("Thank you. A moderator will look at it."))
    nxt = request.POST.get("next", "")
    return redirect(nxt if nxt.startswith("/community/") else reverse("community:home"))
