"""Moderation on the public pages, for members who moderate without a desk account.

Promoted moderators (and agents, who take part as their staff member) lock, remove, restore and edit posts
from the post's page; mentors (a reputation level, ``rules.LEVELS``) approve or remove new members' held posts
on the queue page. ``community.actions.moderate`` decides what each may do and writes the moderation log,
whose reason the author sees on their profile.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from resonanz.community import actions, queries
from resonanz.core.params import as_int
from resonanz.portal.community.common import act, current_member, member_required, page, rate_limited
from resonanz.portal.community.curation import in_member_language


def may_review(member) -> bool:
    """Moderators and mentors see the queue of held posts."""
    return actions.can_moderate(member, "moderate_new_posts")


@member_required
def queue(request):
    member = current_member(request)
    if not may_review(member):
        raise PermissionDenied(_("Only moderators may do this."))
    return page(request, "community/moderation.html", {"held": queries.held_posts()})


@require_POST
@rate_limited
@member_required
@in_member_language
def moderate(request):
    member = current_member(request)
    if not may_review(member):
        raise PermissionDenied(_("Only moderators may do this."))
    kind = request.POST.get("kind", "")
    target = as_int(request.POST.get("id"), minimum=1) or 0
    model = actions.MODELS.get(kind)
    obj = model.objects.filter(pk=target).first() if model is not None else None
    done = act(request, actions.moderate, kind, target, request.POST.get("action", ""), back="",
               reason=request.POST.get("reason", ""), body=request.POST.get("body", ""), actor_member=member)
    if done is not None:
        messages.success(request, _("Saved."))
    if request.POST.get("from") == "queue" or obj is None:
        return redirect("community:moderation")
    return redirect(queries.post_url(kind, obj))
