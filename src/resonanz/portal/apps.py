from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    """Public pages for customers: the help center and contact forms (later the community)."""

    name = "resonanz.portal"
    verbose_name = _("Public pages")
