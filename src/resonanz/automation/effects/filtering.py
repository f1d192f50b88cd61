"""The filtered view: a rule takes a notice that is real work out of it, or puts noise into it.

Machine-generated mail (bounces, auto-replies, monitoring notices, lists) starts in the filtered view;
a rule such as "Auto-Submitted notices from the monitoring system go to Operations" routes it with
``assign_team`` and releases it with ``move_to_inbox`` so it waits in that team's inbox.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from resonanz.automation.effects import Act, Effect, register
from resonanz.inbox import actions as inbox


@register
class Unfilter(Effect):
    kind, label, order = "move_to_inbox", _("move out of the filtered view into the inbox"), 35

    def perform(self, action: dict, act: Act) -> list[str]:
        if not act.conversation.filtered:
            return []
        inbox.set_filtered(act.conversation, None, "", reason=act.reason)
        act.conversation.filtered = ""
        act.snapshot["conversation.filtered"] = False
        return ["moved into the inbox"]


@register
class Filter(Effect):
    kind, label, order = "move_to_filtered", _("move into the filtered view"), 36

    def perform(self, action: dict, act: Act) -> list[str]:
        if act.conversation.filtered:
            return []
        inbox.set_filtered(act.conversation, None, "rule", reason=act.reason)
        act.conversation.filtered = "rule"
        act.snapshot["conversation.filtered"] = True
        return ["moved into the filtered view"]
