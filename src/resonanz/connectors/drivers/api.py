"""The API channel: messages are posted to the REST API, replies are collected from it."""

import re

from resonanz.connectors.drivers import register
from resonanz.connectors.drivers.base import Driver, SendResult

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
PHONE = re.compile(r"\+?[0-9][0-9 ()/-]{6,20}")


@register("api")
class ApiDriver(Driver):
    identity_kind = "api"

    def identity_kind_for(self, handle: str) -> str:
        # Client systems usually know the customer's email address or phone number: storing those as
        # email/phone identities joins the customer's history with the other channels.
        handle = handle.strip()
        if EMAIL.fullmatch(handle):
            return "email"
        if PHONE.fullmatch(handle):
            return "phone"
        return self.identity_kind

    def send(self, message) -> SendResult:
        # Nothing to push: the client system reads replies from /api/conversations/<id>/messages/.
        return SendResult(status="stored", detail="ready for collection through the API")

    def check_connection(self) -> tuple[bool, str]:
        return True, "accepts messages at /api/channels/<id>/inbound/"
