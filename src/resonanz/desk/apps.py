from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeskConfig(AppConfig):
    """The agent UI: views, forms, templates and static files over the domain apps below it."""

    name = "resonanz.desk"
    verbose_name = _("Agent desk")
