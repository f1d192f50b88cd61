"""Changing the conversation's own fields: status, priority, tags, and closing spam."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from resonanz.automation.effects import Act, Effect, Param, as_int, register
from resonanz.core.errors import ActionError
from resonanz.inbox import actions as inbox
from resonanz.inbox.models import Conversation

SPAM_TAG = "spam"


@register
class SetStatus(Effect):
    kind, label, order = "set_status", _("set status"), 40
    params = (Param("status", _("status")),)

    def clean(self, action: dict, trigger: str) -> dict:
        if action.get("status") not in Conversation.Status.values:
            raise ActionError(f"Unknown status {action.get('status')!r}.", "actions")
        return {"status": action["status"]}

    def perform(self, action: dict, act: Act) -> list[str]:
        inbox.update_conversation(act.conversation, None, status=action["status"], reason=act.reason)
        act.snapshot["conversation.status"] = action["status"]
        return [f"status {action['status']}"]


@register
class SetPriority(Effect):
    kind, label, order = "set_priority", _("set priority"), 50
    params = (Param("priority", _("priority")),)

    def clean(self, action: dict, trigger: str) -> dict:
        if as_int(action.get("priority")) not in Conversation.Priority.values:
            raise ActionError("Priority must be 1 (low) to 4 (urgent).", "actions")
        return {"priority": as_int(action["priority"])}

    def perform(self, action: dict, act: Act) -> list[str]:
        inbox.update_conversation(act.conversation, None, priority=action["priority"], reason=act.reason)
        act.snapshot["conversation.priority"] = action["priority"]
        return [f"priority {Conversation.Priority(action['priority']).label}"]


class _Tags(Effect):
    params = (Param("tags", _("tags, separated by commas")),)
    verb = ""

    def clean(self, action: dict, trigger: str) -> dict:
        tags = action.get("tags")
        if isinstance(tags, str):
            tags = [t.strip() for t in tags.split(",")]
        tags = [str(t).strip()[:64] for t in tags or [] if str(t).strip()]
        if not tags:
            raise ActionError("Name at least one tag.", "actions")
        return {"tags": tags}

    def perform(self, action: dict, act: Act) -> list[str]:
        current = set(act.conversation.tags.values_list("name", flat=True))
        new = self.combine(current, set(action["tags"]))
        inbox.update_conversation(act.conversation, None, tags=sorted(new), reason=act.reason)
        act.snapshot["conversation.tags"] = tuple(sorted(new))
        return [f"{self.verb} " + ", ".join(action["tags"])]

    def combine(self, current: set[str], tags: set[str]) -> set[str]:
        raise NotImplementedError


@register
class AddTags(_Tags):
    kind, label, order, verb = "add_tags", _("add tags"), 60, "tagged"

    def combine(self, current: set[str], tags: set[str]) -> set[str]:
        return current | tags


@register
class RemoveTags(_Tags):
    kind, label, order, verb = "remove_tags", _("remove tags"), 70, "untagged"

    def combine(self, current: set[str], tags: set[str]) -> set[str]:
        return current - tags


@register
class MarkSpam(Effect):
    kind, label, order = "mark_spam", _("mark as spam"), 140

    def perform(self, action: dict, act: Act) -> list[str]:
        tags = sorted(set(act.conversation.tags.values_list("name", flat=True)) | {SPAM_TAG})
        inbox.update_conversation(act.conversation, None, tags=tags, status="closed", reason=act.reason)
        act.snapshot["conversation.status"], act.snapshot["conversation.tags"] = "closed", tuple(tags)
        return ["marked as spam"]
