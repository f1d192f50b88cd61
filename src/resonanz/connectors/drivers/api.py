"""The API channel: client systems post messages to the REST API and collect the replies from it."""

from django.utils.translation import gettext_lazy as _

from resonanz.connectors.drivers import register
from resonanz.connectors.drivers.base import Driver, SendResult


@register("api")
class ApiDriver(Driver):
    label = _("API")
    identity_kind = "api"
    recognises_handles = True
    accepts_api = True

    def send(self, message) -> SendResult:
        # Nothing to push: the client system reads replies from /api/conversations/<id>/messages/.
        return SendResult(status="stored", detail="ready for collection through the API")

    def check_connection(self) -> tuple[bool, str]:
        return True, f"accepts messages at /api/channels/{self.channel.pk}/inbound/"
