"""The import channel: history loaded from CSV or JSONL files with ``resonanz import`` (see connectors/importing.py).

Nothing arrives or leaves by itself: imported conversations are history. Replies written in
Resonanz to an imported conversation are stored, not sent.
"""

from django.utils.translation import gettext_lazy as _

from resonanz.connectors.drivers import register
from resonanz.connectors.drivers.base import Driver, SendResult


@register("import")
class ImportDriver(Driver):
    label = _("Bulk import")
    identity_kind = "other"
    recognises_handles = True
    can_send = False
    settings_help = (
        "Filled by `resonanz import FILE --channel NAME [--mapping FILE]`: "
        '{"layout": "twcs" or "mapping", "identity_kind": "twitter", "public": true, "last_import": {...}}. '
        "identity_kind overrides how senders are recognised (email, phone, twitter, …)."
    )

    def identity_kind_for(self, handle: str) -> str:
        configured = (self.channel.settings or {}).get("identity_kind")
        if configured:
            return configured
        return super().identity_kind_for(handle)

    def send(self, message) -> SendResult:
        return SendResult(status="stored", detail="imported history: replies are kept, not sent")

    def check_connection(self) -> tuple[bool, str]:
        last = (self.channel.settings or {}).get("last_import") or {}
        detail = f"{self.channel.messages.count()} imported messages"
        if last:
            detail += f"; last import of {last.get('file', '?')} at {last.get('finished_at', '?')}"
        return True, detail
