"""The community channel: unanswered community questions reach support as conversations.

The community app hands an escalated question to the intake like any other message (external id
``community-q-<id>``, so escalating twice stores it once). An agent's reply is posted back in the community
as a staff answer: the community app registers that outlet with ``set_outlet`` at start-up, so this driver
never imports an app above it. Without an outlet (the community app not installed) replies are stored.
"""

from __future__ import annotations

from collections.abc import Callable

from django.utils.translation import gettext_lazy as _

from resonanz.connectors.drivers import register
from resonanz.connectors.drivers.base import Driver, DriverError, SendResult

_outlet: Callable[[object], str] | None = None


def set_outlet(outlet: Callable[[object], str] | None) -> None:
    """``outlet(message) -> external id`` posts an agent's reply as a community answer."""
    global _outlet
    _outlet = outlet


@register("community")
class CommunityDriver(Driver):
    label = _("Community")
    identity_kind = "email"
    public = True

    def addresses(self) -> list[tuple[str, str]]:
        return [(str(_("Community forum")), "/community/")]

    def send(self, message) -> SendResult:
        if _outlet is None:
            return SendResult(status="stored", detail="the community app is not installed")
        try:
            return SendResult(status="sent", external_id=_outlet(message), detail="posted as a staff answer")
        except DriverError as exc:
            return SendResult(status="failed", detail=str(exc))

    def check_connection(self) -> tuple[bool, str]:
        if _outlet is None:
            return False, "the community app is not installed"
        return True, "unanswered community questions arrive here; replies are posted as staff answers"
