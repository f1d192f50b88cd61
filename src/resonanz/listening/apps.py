from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ListeningConfig(AppConfig):
    """Public posts from listening sources (RSS/Atom feeds, social networks) and the stream agents read."""

    name = "resonanz.listening"
    verbose_name = _("Listening")

    def ready(self) -> None:
        from resonanz.connectors import intake
        from resonanz.core import hooks, pipeline
        from resonanz.listening import actions, privacy
        from resonanz.listening.models import Post

        pipeline.register_source("post", Post, select_related=("channel",))
        intake.register(intake.InboundPost, actions.ingest_posts)
        intake.register(intake.SourceChange, actions.apply_source_changes)
        hooks.register("contact_exported", privacy.export_part)
        hooks.register("contact_erased", privacy.erase_contact)
