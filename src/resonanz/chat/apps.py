from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChatConfig(AppConfig):
    """The website chat: the widget's public endpoints and its static script (beside the portal, on top)."""

    name = "resonanz.chat"
    verbose_name = _("Website chat")
