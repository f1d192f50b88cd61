"""Merge a conversation into another one of the same customer, undo it, or split messages off into a new one."""

from __future__ import annotations

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from resonanz.core.errors import ActionError
from resonanz.core.params import as_int
from resonanz.inbox import actions
from resonanz.inbox.models import Conversation, Message
from resonanz.inbox.queries import visible_conversations


def _visible(request):
    return visible_conversations(Conversation.objects.all(), request.user)


@login_required
def merge(request, pk: int):
    """Pick the conversation to merge into from a search (ticket number or subject), see what moves, confirm."""
    source = get_object_or_404(_visible(request).select_related("contact", "channel"), pk=pk)
    if request.method == "POST":
        target = _visible(request).filter(pk=as_int(request.POST.get("into"), minimum=1) or 0).first()
        if target is None:
            flash.error(request, _("Choose the conversation to merge into."))
            return redirect("inbox:merge", pk=pk)
        try:
            actions.merge_conversations(source, target, request.user)
        except ActionError as exc:
            flash.error(request, exc.message)
            return redirect("inbox:merge", pk=pk)
        flash.success(request, _("%(source)s was merged into this conversation. Its page keeps a link and can "
                                 "undo the merge.") % {"source": source.reference})
        return redirect("inbox:conversation", pk=target.pk)
    query = (request.GET.get("q") or "").strip()[:200]
    candidates = [] if source.merged_into_id else actions.merge_candidates(source, request.user, query)
    chosen = as_int(request.GET.get("into"), minimum=1)
    return render(request, "inbox/merge.html", {
        "conversation": source, "q": query, "candidates": candidates,
        "chosen": next((c for c in candidates if c.pk == chosen), candidates[0] if len(candidates) == 1 else None),
        "moving": source.messages.count(),
    })


@login_required
@require_POST
def unmerge(request, pk: int):
    source = get_object_or_404(_visible(request), pk=pk)
    try:
        actions.unmerge_conversation(source, request.user)
        flash.success(request, _("The merge is undone: the messages are back in this conversation."))
    except ActionError as exc:
        flash.error(request, exc.message)
    return redirect("inbox:conversation", pk=pk)


@login_required
def split(request, pk: int):
    """Tick the messages that are a question of their own; they become a new conversation."""
    conversation = get_object_or_404(_visible(request).select_related("contact", "channel"), pk=pk)
    thread = list(Message.objects.filter(conversation=conversation).select_related("author_user__agent")
                  .order_by("sent_at", "id"))
    chosen = {as_int(v) for v in request.POST.getlist("messages")} - {None} if request.method == "POST" else set()
    if request.method == "POST":
        try:
            new = actions.split_conversation(conversation, sorted(chosen), request.user,
                                             subject=request.POST.get("subject", ""))
        except ActionError as exc:
            flash.error(request, exc.message)
        else:
            flash.success(request, _("The selected messages are now conversation %(ref)s.") % {"ref": new.reference})
            return redirect("inbox:conversation", pk=new.pk)
    return render(request, "inbox/split.html", {"conversation": conversation, "thread": thread, "chosen": chosen,
                                                "subject": request.POST.get("subject", "")})
