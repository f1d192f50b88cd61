from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ListeningConfig(AppConfig):
    """Public posts from listening sources (RSS/Atom feeds, later social networks) and the stream agents read."""

    name = "resonanz.listening"
    verbose_name = _("Listening")
