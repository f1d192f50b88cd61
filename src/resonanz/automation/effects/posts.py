"""Public posts: a rule on a post can turn it into a conversation, and later actions then act on that."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from resonanz.automation.effects import Act, Effect, register
from resonanz.automation.models import Rule
from resonanz.core.errors import ActionError
from resonanz.listening.actions import turn_into_conversation


@register
class CreateConversation(Effect):
    kind, label, order = "create_conversation", _("turn the post into a conversation"), 130
    needs_conversation = False

    def clean(self, action: dict, trigger: str) -> dict:
        if trigger != Rule.Trigger.POST_RECEIVED:
            raise ActionError("Only rules on public posts can turn a post into a conversation.", "actions")
        return {}

    def perform(self, action: dict, act: Act) -> list[str]:
        conversation = turn_into_conversation(act.event.post)
        act.event.conversation = conversation
        act.snapshot.update({"conversation.id": conversation.pk, "conversation.team": conversation.team_id,
                             "conversation.status": conversation.status})
        return ["turned into a conversation"]
