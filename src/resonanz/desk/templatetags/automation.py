"""Small pieces of automation shown on inbox pages: SLA due times, rules that acted, held replies."""

from __future__ import annotations

from django import template

from resonanz.automation.models import ConversationSLA, PendingReply, RuleRun
from resonanz.automation.sla import state

register = template.Library()


@register.simple_tag
def sla_map(conversations) -> dict:
    """{conversation id: {"first_response": {"due", "status"}, ...}} for a page of the inbox, in one query."""
    items = list(conversations)
    by_id = {c.pk: c for c in items}
    out = {}
    for sla in ConversationSLA.objects.filter(conversation_id__in=list(by_id)):
        current = state(sla, by_id[sla.conversation_id])
        due = [v | {"target": k} for k, v in current.items() if v["status"] in ("ok", "warning", "breached")]
        if due:
            out[sla.conversation_id] = min(due, key=lambda v: v["due"])
    return out


@register.inclusion_tag("automation/_conversation.html", takes_context=True)
def automation_panel(context, conversation):
    sla = ConversationSLA.objects.filter(conversation=conversation).select_related("policy").first()
    user = context.get("user")
    agent = getattr(user, "agent", None)
    return {
        "conversation": conversation, "sla": sla, "sla_state": state(sla, conversation),
        "runs": RuleRun.objects.filter(conversation=conversation).select_related("rule").order_by("-id")[:20],
        "pending": PendingReply.objects.filter(conversation=conversation).exclude(state="sent")
        .select_related("author__agent", "reviewer__agent").order_by("-id")[:10],
        "can_approve": bool(user and (user.is_superuser or (agent and agent.is_supervisor))),
        "csrf_token": context.get("csrf_token"), "request": context.get("request"),
    }
