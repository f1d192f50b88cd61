"""Moderators tidy the forum: move a question (tags, product), merge a duplicate into another, edit tags.

Members reach these tools through their reputation level (``rules.LEVELS``: edit tags, close duplicates);
every change goes through ``community.actions`` and lands in the moderation log, with the reason shown to
the author of a moved or merged question on their profile.
"""

from __future__ import annotations

import re
from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from resonanz.community import actions
from resonanz.community.models import Question, Tag
from resonanz.portal.community.common import (
    act,
    current_member,
    language_of,
    member_required,
    page,
    rate_limited,
)

QUESTION_REF = re.compile(r"(?:/q/)?(\d+)/?\s*$")


def in_member_language(view):
    """Messages of these views are written in the visitor's community language, not the browser's."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        with translation.override(language_of(request)):
            return view(request, *args, **kwargs)

    return wrapper


def _member_with(request, right: str):
    member = current_member(request)
    if not actions.can_moderate(member, right):
        raise PermissionDenied(_("Only moderators may do this."))
    return member


@require_POST
@rate_limited
@member_required
@in_member_language
def move(request, pk: int):
    member = _member_with(request, "")
    item = get_object_or_404(Question, pk=pk)
    done = act(request, actions.move_question, item, back="", tags=request.POST.get("tags", ""),
               product=request.POST.get("product", item.product), reason=request.POST.get("reason", ""),
               actor_member=member)
    if done is not None:
        messages.success(request, _("The question was moved."))
    return redirect("community:question", pk=pk)


@require_POST
@rate_limited
@member_required
@in_member_language
def merge(request, pk: int):
    """Merge this question into another one, given by its number or its address."""
    member = _member_with(request, "close_duplicates")
    drop = get_object_or_404(Question, pk=pk)
    found = QUESTION_REF.search(request.POST.get("into", "").strip())
    keep = Question.objects.filter(pk=int(found.group(1))).first() if found else None
    if keep is None:
        messages.error(request, _("There is no such question. Give its number or paste its address."))
        return redirect("community:question", pk=pk)
    done = act(request, actions.merge_questions, keep, drop, back="", reason=request.POST.get("reason", ""),
               actor_member=member)
    if done is None:
        return redirect("community:question", pk=pk)
    messages.success(request, _("The questions were merged."))
    return redirect("community:question", pk=keep.pk)


def tags(request):
    member = current_member(request)
    return page(request, "community/tags.html", {
        "all_tags": Tag.objects.filter(question_count__gt=0).order_by("-question_count", "name")[:500],
        "may_edit": actions.can_moderate(member, "edit_tags"),
    })


@require_POST
@rate_limited
@member_required
@in_member_language
def edit_tag(request, pk: int):
    member = _member_with(request, "edit_tags")
    tag = get_object_or_404(Tag, pk=pk)
    what = request.POST.get("what", "")
    if what == "describe":
        done = act(request, actions.describe_tag, tag, request.POST.get("description", ""), back="",
                   actor_member=member)
    elif what == "rename":
        done = act(request, actions.rename_tag, tag, request.POST.get("name", ""), back="", actor_member=member)
    elif what == "merge":
        keep = Tag.objects.filter(name=request.POST.get("into", "").strip().lower()).first()
        if keep is None:
            messages.error(request, _("There is no tag with that name."))
            return redirect("community:tags")
        done = act(request, actions.merge_tags, keep, tag, back="", actor_member=member)
    else:
        done = None
        messages.error(request, _("Choose what to change."))
    if done is not None:
        messages.success(request, _("The tag was saved."))
    return redirect("community:tags")
