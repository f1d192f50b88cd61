"""The customer's community activity in the agent UI (contact page, conversation's customer panel)."""

from __future__ import annotations

from django import template

from resonanz.community.models import Answer, Idea, Member, Question, Visibility
from resonanz.community.rules import level_for

register = template.Library()


@register.inclusion_tag("community_desk/_panel.html")
def community_panel(contact):
    member = Member.objects.filter(contact=contact).first() if contact is not None else None
    if member is None:
        return {"member": None}
    visible = Visibility.VISIBLE
    activity = sorted(
        [("question", q.created_at, q.title, q.pk, q.pk) for q in
         Question.objects.filter(author=member).order_by("-created_at")[:5]]
        + [("answer", a.created_at, a.question.title, a.question_id, a.pk) for a in
           Answer.objects.filter(author=member).select_related("question").order_by("-created_at")[:5]]
        + [("idea", i.created_at, i.title, i.pk, i.pk) for i in Idea.objects.filter(author=member)
           .order_by("-created_at")[:5]],
        key=lambda row: row[1], reverse=True)[:8]
    return {"member": member, "level": level_for(member.reputation), "activity": activity,
            "counts": {"questions": Question.objects.filter(author=member, visibility=visible).count(),
                       "answers": Answer.objects.filter(author=member, visibility=visible).count()}}


@register.inclusion_tag("community_desk/_publish_link.html")
def community_publish_link(conversation):
    """Offer to publish a solved case in the community (with a preview that removes the customer's data)."""
    return {"conversation": conversation, "solved": conversation.status in ("resolved", "closed")}
