"""The API channel: messages are posted to the REST API, replies are collected from it."""

from resonanz.connectors.drivers import register
from resonanz.connectors.drivers.base import Driver, SendResult


@register("api")
class ApiDriver(Driver):
    identity_kind = "api"

    recognises_handles = True

    def send(self, message) -> SendResult:
        # Nothing to push: the client system reads replies from /api/conversations/<id>/messages/.
        return SendResult(status="stored", detail="ready for collection through the API")

    def check_connection(self) -> tuple[bool, str]:
        return True, "accepts messages at /api/channels/<id>/inbound/"
