"""Community moderation in the agent UI: held posts, reports, the audit log, ideas and members."""

from __future__ import annotations

from django.contrib import messages as flash
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from resonanz.community import actions, clusters, queries
from resonanz.community.models import (
    Answer,
    Comment,
    Idea,
    IdeaLink,
    Member,
    ModerationAction,
    Question,
    Report,
    ReputationEvent,
    Visibility,
)
from resonanz.community.scrub import scrub
from resonanz.core.errors import ActionError
from resonanz.core.permissions import can, denied_message, permission_required
from resonanz.inbox.models import Conversation, Message
from resonanz.listening.models import Post

moderator_required = permission_required("community.moderate")
MODELS = actions.MODELS
KIND_LABELS = {"question": gettext_lazy("Question"), "answer": gettext_lazy("Answer"),
               "comment": gettext_lazy("comment on a post"), "idea": gettext_lazy("Idea")}


def _run(request, fn, *args, **kwargs):
    try:
        result = fn(*args, **kwargs)
    except ActionError as exc:
        flash.error(request, _(exc.message))
        return None
    flash.success(request, _("Saved."))
    return result


def _target(kind: str, pk: int):
    return MODELS[kind].objects.filter(pk=pk).first() if kind in MODELS else None


def _link(kind: str, obj) -> str:
    return queries.post_url(kind, obj) if obj is not None else ""


def _text(kind: str, obj) -> str:
    if obj is None:
        return ""
    return {"question": lambda o: f"{o.title}: {o.body}", "answer": lambda o: o.body,
            "idea": lambda o: f"{o.title}: {o.description}", "comment": lambda o: o.text}[kind](obj)[:400]


@moderator_required
def queue(request):
    held = []
    for kind, model in MODELS.items():
        for obj in model.objects.filter(visibility=Visibility.HELD).select_related("author")[:50]:
            held.append({"kind": kind, "label": KIND_LABELS[kind], "obj": obj, "text": _text(kind, obj),
                         "url": _link(kind, obj)})
    reports = []
    for r in Report.objects.filter(resolved_at__isnull=True).select_related("reporter").order_by("created_at")[:50]:
        obj = _target(r.target_kind, r.target_id)
        reports.append({"report": r, "obj": obj, "label": KIND_LABELS.get(r.target_kind, r.target_kind),
                        "text": _text(r.target_kind, obj), "url": _link(r.target_kind, obj)})
    return render(request, "community_desk/queue.html", {
        "held": held, "reports": reports, "log": ModerationAction.objects.select_related("actor", "author")[:50]})


@require_POST
@moderator_required
def moderate(request):
    kind, pk = request.POST.get("kind", ""), request.POST.get("id", "")
    _run(request, actions.moderate, kind, int(pk) if pk.isdigit() else 0, request.POST.get("action", ""),
         reason=request.POST.get("reason", ""), actor=request.user, body=request.POST.get("body", ""))
    return redirect(request.POST.get("next") or "community_desk:queue")


@require_POST
@moderator_required
def dismiss(request, pk: int):
    _run(request, actions.dismiss_report, get_object_or_404(Report, pk=pk), request.user)
    return redirect("community_desk:queue")


@moderator_required
def ideas(request):
    status = request.GET.get("status", "")
    items = list(queries.idea_list(status=status)[:200])
    counts = queries.evidence_counts([i.pk for i in items])
    return render(request, "community_desk/ideas.html", {
        "ideas": [{"idea": i, "evidence": counts[i.pk]} for i in items], "status": status,
        "statuses": Idea.Status.choices})


@permission_required("ideas.manage")
def idea_clusters(request):
    """Similar ideas, conversations and posts grouped by the engine; make an idea of a group or merge its ideas."""
    groups = clusters.cached(fresh=request.GET.get("fresh") == "1")
    return render(request, "community_desk/clusters.html", {"groups": groups})


def _ids(values: list[str]) -> list[int]:
    return [int(v) for v in values if v.isdigit()][:200]


@require_POST
@permission_required("ideas.manage")
def cluster_to_idea(request):
    """A new idea from a group's evidence, or the evidence linked to an idea already in the group."""
    conversations = list(Conversation.objects.filter(pk__in=_ids(request.POST.getlist("conversation")))
                         .values_list("pk", flat=True))
    posts = list(Post.objects.filter(pk__in=_ids(request.POST.getlist("post"))).values_list("pk", flat=True))
    target = request.POST.get("link_to", "")
    if target:
        item = get_object_or_404(Idea, pk=int(target) if target.isdigit() else 0)
        for kind, ids in (("conversation", conversations), ("post", posts)):
            for object_id in ids:
                _run(request, actions.link_idea, item, kind=kind, object_id=object_id, actor=request.user)
    else:
        item = _run(request, actions.idea_from_cluster, actor=request.user, title=request.POST.get("title", ""),
                    description=request.POST.get("description", ""), conversations=conversations, posts=posts)
    if item is None:
        return redirect("community_desk:idea_clusters")
    clusters.forget()
    return redirect("community_desk:idea", pk=item.pk)


@require_POST
@permission_required("ideas.manage")
def cluster_merge(request):
    """Merge the chosen ideas of a group into the one with the most votes."""
    chosen = list(Idea.objects.filter(pk__in=_ids(request.POST.getlist("idea")), merged_into__isnull=True)
                  .order_by("-votes", "pk"))
    if len(chosen) < 2:
        flash.error(request, _("Choose at least two ideas to merge."))
        return redirect("community_desk:idea_clusters")
    keep, reason = chosen[0], request.POST.get("reason", "")
    for drop in chosen[1:]:
        if _run(request, actions.merge_ideas, keep, drop, reason=reason, actor=request.user) is None:
            break
    clusters.forget()
    return redirect("community_desk:idea", pk=keep.pk)


def _suggestions(idea: Idea, linked: set) -> dict:
    """Conversations and posts whose text shares the idea's longer title words (an agent confirms them)."""
    words = [w.strip(".,!?:;\"'()") for w in idea.title.split()]
    words = [w for w in words if len(w) >= 5][:5]
    if not words:
        return {"conversations": [], "posts": []}
    cond = Q()
    for w in words:
        cond |= Q(text__icontains=w)
    messages = Message.objects.filter(cond, direction=Message.Direction.INBOUND).values("conversation_id")[:200]
    conversations = (Conversation.objects.filter(pk__in=messages)
                     .exclude(pk__in=[o for k, o in linked if k == "conversation"]).order_by("-last_activity_at")[:8])
    posts = Post.objects.filter(cond).exclude(pk__in=[o for k, o in linked if k == "post"]).order_by("-pk")[:8]
    return {"conversations": list(conversations), "posts": list(posts)}


@moderator_required
def idea(request, pk: int):
    item = get_object_or_404(Idea.objects.select_related("author", "merged_into"), pk=pk)
    links = list(item.links.all())
    linked = {(link.kind, link.object_id) for link in links}
    return render(request, "community_desk/idea.html", {
        "idea": item, "links": links, "evidence": queries.evidence(item), "statuses": Idea.Status.choices,
        "changes": item.status_changes.select_related("actor")[:20], "suggested": _suggestions(item, linked),
        "may_manage": can(request.user, "ideas.manage"),
        "conversations": {c.pk: c for c in Conversation.objects.filter(
            pk__in=[lk.object_id for lk in links if lk.kind == "conversation"])},
    })


@require_POST
@permission_required("ideas.manage")
def idea_status(request, pk: int):
    item = get_object_or_404(Idea, pk=pk)
    _run(request, actions.set_idea_status, item, status=request.POST.get("status", ""),
         note=request.POST.get("note", ""), actor=request.user)
    return redirect("community_desk:idea", pk=pk)


@require_POST
@moderator_required
def idea_link(request, pk: int):
    item = get_object_or_404(Idea, pk=pk)
    kind, target = request.POST.get("kind", ""), request.POST.get("object_id", "")
    if request.POST.get("remove"):
        link = get_object_or_404(IdeaLink, pk=request.POST["remove"] if request.POST["remove"].isdigit() else 0,
                                 idea=item)
        _run(request, actions.unlink_idea, link, request.user)
        return redirect("community_desk:idea", pk=pk)
    target_id = int(target) if target.isdigit() else 0
    exists = (Conversation if kind == "conversation" else Post).objects.filter(pk=target_id).exists() \
        if kind in ("conversation", "post") else False
    if not exists:
        flash.error(request, _("There is no such conversation or post."))
    else:
        _run(request, actions.link_idea, item, kind=kind, object_id=target_id, actor=request.user)
    return redirect("community_desk:idea", pk=pk)


@require_POST
@permission_required("ideas.manage")
def idea_merge(request, pk: int):
    item = get_object_or_404(Idea, pk=pk)
    into = request.POST.get("into", "")
    keep = Idea.objects.filter(pk=int(into) if into.isdigit() else 0).first()
    if keep is None:
        flash.error(request, _("There is no such idea."))
        return redirect("community_desk:idea", pk=pk)
    _run(request, actions.merge_ideas, keep, item, reason=request.POST.get("reason", ""), actor=request.user)
    return redirect("community_desk:idea", pk=keep.pk)


@moderator_required
def members(request):
    q = (request.GET.get("q") or "").strip()[:100]
    found = Member.objects.filter(is_deleted=False)
    if q:
        found = found.filter(display_name__icontains=q)
    return render(request, "community_desk/members.html", {"members": found.order_by("-reputation")[:100], "q": q})


@moderator_required
def member(request, pk: int):
    shown = get_object_or_404(Member, pk=pk)
    return render(request, "community_desk/member.html", {
        "shown": shown, "events": ReputationEvent.objects.filter(member=shown)[:100],
        "log": ModerationAction.objects.filter(author=shown)[:50], "may_manage": can(request.user, "ideas.manage"),
        "questions": Question.objects.filter(author=shown).count(), "answers": Answer.objects.filter(
            author=shown).count(), "comments": Comment.objects.filter(author=shown).count()})


@require_POST
@moderator_required
def member_action(request, pk: int):
    shown = get_object_or_404(Member, pk=pk)
    what, reason = request.POST.get("what", ""), request.POST.get("reason", "")
    # any moderator takes back (or gives back) the rights of a member's level; making moderators is for managers
    if what in ("promote", "demote") and not can(request.user, "ideas.manage"):
        raise PermissionDenied(denied_message("ideas.manage"))
    if what in ("promote", "demote"):
        _run(request, actions.set_moderator, shown, on=what == "promote", actor=request.user)
    elif what in ("revoke_rights", "restore_rights"):
        _run(request, actions.set_privileges, shown, revoked=what == "revoke_rights", reason=reason,
             actor=request.user)
    elif what == "revoke_points":
        event_id = request.POST.get("event", "")
        event = get_object_or_404(ReputationEvent, pk=int(event_id) if event_id.isdigit() else 0, member=shown)
        _run(request, actions.revoke_points, event, reason=reason, actor=request.user)
    return redirect("community_desk:member", pk=pk)


@moderator_required
def from_conversation(request, pk: int):
    """Preview a solved conversation as a community question with the customer's data removed, then publish."""
    conversation = get_object_or_404(Conversation.objects.select_related("contact"), pk=pk)
    names = [conversation.contact.name, *conversation.contact.identities.values_list("display_name", flat=True)]
    inbound = conversation.messages.filter(direction=Message.Direction.INBOUND).order_by("created_at").first()
    outbound = conversation.messages.filter(direction=Message.Direction.OUTBOUND).order_by("-created_at").first()
    if request.method == "POST":
        item = _run(request, actions.publish_from_conversation, actor=request.user,
                    title=request.POST.get("title", ""), question=request.POST.get("question", ""),
                    answer=request.POST.get("answer", ""), tags=request.POST.get("tags", ""),
                    language=request.POST.get("language", ""))
        if item is not None:
            return redirect(f"/community/q/{item.pk}/")
        form = request.POST
    else:
        form = {"title": scrub(conversation.subject or (inbound.text.splitlines()[0] if inbound else ""), names),
                "question": scrub(inbound.text if inbound else "", names),
                "answer": scrub(outbound.text if outbound else "", names),
                "language": conversation.contact.preferred_language or "de", "tags": ""}
    return render(request, "community_desk/from_conversation.html", {"conversation": conversation, "form": form})
