"""The web form channel: a public contact form per channel at /contact/<slug>/.

Senders are known by their email address. Replies are stored until an email channel exists
that can deliver them (see the email issue); the conversation shows them as "stored".
"""

from resonanz.connectors.drivers import register
from resonanz.connectors.drivers.base import Driver, SendResult


@register("web_form")
class WebFormDriver(Driver):
    identity_kind = "email"

    def send(self, message) -> SendResult:
        return SendResult(status="stored", detail="stored until an email channel can deliver replies")

    def check_connection(self) -> tuple[bool, str]:
        return True, f"form at /contact/{self.channel.slug}/"
