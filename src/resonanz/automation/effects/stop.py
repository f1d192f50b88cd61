"""Stop: no later rule acts on this event (the rule's own later actions still run)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from resonanz.automation.effects import Act, Effect, register


@register
class Stop(Effect):
    kind, label, order = "stop", _("stop processing further rules"), 150
    needs_conversation = False

    def perform(self, action: dict, act: Act) -> list[str]:
        act.stop = True
        return []
