"""The web form channel: a public contact form per channel at /contact/<slug>/ (see portal.contact).

Senders are known by their email address, so replies go out by email: through the email
channel named in settings["reply_channel"] (its id or name), else the first enabled email
channel. Without one, replies are stored and the conversation shows them as "stored".
"""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from resonanz.connectors.drivers import get_driver, register
from resonanz.connectors.drivers.base import Driver, SendResult
from resonanz.connectors.models import Channel
from resonanz.core.params import is_id


@register("web_form")
class WebFormDriver(Driver):
    label = _("Web form")
    identity_kind = "email"
    sends_files = True  # replies go out by email
    has_public_form = True
    settings_help = ('Settings JSON: {"reply_channel": "<name or id of an email channel>"} (optional; default: '
                     "the first enabled email channel sends the replies).")

    def reply_channel(self) -> Channel | None:
        wanted = (self.channel.settings or {}).get("reply_channel")
        email = Channel.objects.filter(kind="email", enabled=True)
        if wanted:
            return (email.filter(pk=wanted).first() if is_id(wanted) else None) or \
                email.filter(name=wanted).first()
        return email.order_by("pk").first()

    def addresses(self) -> list[tuple[str, str]]:
        return [(str(_("Public form")), reverse("contact_form", args=[self.channel.slug]))]

    def send(self, message) -> SendResult:
        outlet = self.reply_channel()
        if outlet is None:
            return SendResult(status="stored", detail="stored until an email channel can deliver replies")
        result = get_driver(outlet).send(message)
        if result.detail or result.status == "sent":
            result.detail = f"by email through {outlet.name}" + (f": {result.detail}" if result.detail else "")
        return result

    def check_connection(self) -> tuple[bool, str]:
        outlet = self.reply_channel()
        where = f"replies go out through the email channel {outlet.name}" if outlet else \
            "no email channel yet: replies are stored"
        return True, f"form at /contact/{self.channel.slug}/; {where}"
