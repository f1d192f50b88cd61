"""The ideas portal: list, submit, vote, comment, the status history and the showcase of done ideas."""

from __future__ import annotations

from django import forms
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from resonanz.community import actions, queries
from resonanz.community.models import Idea, IdeaVote, Visibility
from resonanz.portal.community.common import act, current_member, member_required, page, rate_limited
from resonanz.understanding.models import CatalogEntry


def ideas(request):
    status = request.GET.get("status", "")
    sort = "newest" if request.GET.get("sort") == "newest" else "top"
    paginator = Paginator(queries.idea_list(status=status, sort=sort), 20)
    items = paginator.get_page(request.GET.get("page"))
    member = current_member(request)
    voted = set(IdeaVote.objects.filter(member=member, idea__in=list(items)).values_list("idea_id", flat=True)) \
        if member else set()
    return page(request, "community/ideas.html", {
        "ideas": items, "status": status, "sort": sort, "statuses": Idea.Status.choices, "voted": voted})


class IdeaForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200,
                            widget=forms.TextInput(attrs={"autocomplete": "off"}))
    description = forms.CharField(label=gettext_lazy("Description"), max_length=20000,
                                  widget=forms.Textarea(attrs={"rows": 6}))
    product = forms.ChoiceField(label=gettext_lazy("Product"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        names = CatalogEntry.objects.filter(kind="product").values_list("name", flat=True)
        self.fields["product"].choices = [("", "—")] + [(n, n) for n in names]


@rate_limited
@member_required
def new_idea(request):
    form = IdeaForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        made = act(request, actions.submit_idea, current_member(request), back="", title=d["title"],
                   description=d["description"], product=d["product"])
        if made is not None:
            return redirect("community:idea", pk=made.pk)
    return page(request, "community/idea_new.html", {"form": form})


def idea(request, pk: int):
    item = get_object_or_404(Idea.objects.select_related("author", "merged_into"), pk=pk)
    if item.merged_into_id:
        return redirect("community:idea", pk=item.merged_into_id)
    member = current_member(request)
    if item.visibility != Visibility.VISIBLE and not actions.can_moderate(member) and not (
            member and member.pk == item.author_id):
        raise Http404
    return page(request, "community/idea.html", {
        "idea": item, "voted": bool(member) and IdeaVote.objects.filter(member=member, idea=item).exists(),
        "changes": item.status_changes.all()[:20], "evidence": queries.evidence(item),
        "comments": item.comments.filter(visibility=Visibility.VISIBLE).select_related("author"),
        "may_moderate": actions.can_moderate(member),
    })


@require_POST
@rate_limited
@member_required
def vote_idea(request, pk: int):
    item = get_object_or_404(Idea, pk=pk)
    act(request, actions.vote_idea, current_member(request), item, back="", up=request.POST.get("up", "1") == "1")
    return redirect(request.POST.get("next") if request.POST.get("next", "").startswith("/community/")
                    else reverse("community:idea", args=[pk]))


@require_POST
@rate_limited
@member_required
def comment_idea(request, pk: int):
    item = get_object_or_404(Idea, pk=pk)
    act(request, actions.add_comment, current_member(request), back="", text=request.POST.get("text", ""), idea=item)
    return redirect(reverse("community:idea", args=[pk]) + "#comments")


def showcase(request):
    done = list(queries.idea_list(status=Idea.Status.DONE)[:50])
    authors = {i.pk: i.author_id for i in done}
    backers = {}
    for vote in IdeaVote.objects.filter(idea__in=done).select_related("member").order_by("created_at"):
        if not vote.member.is_deleted and vote.member_id != authors[vote.idea_id]:  # the proposer is named apart
            backers.setdefault(vote.idea_id, []).append(vote.member)
    return page(request, "community/showcase.html", {
        "ideas": [{"idea": i, "backers": backers.get(i.pk, [])[:12]} for i in done]})
