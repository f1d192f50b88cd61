from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InboxConfig(AppConfig):
    """Teams, agents, conversations and messages: the domain the agent desk and the API work on."""

    name = "resonanz.inbox"
    verbose_name = _("Inbox")

    def ready(self) -> None:
        from resonanz.connectors import intake
        from resonanz.core import hooks, pipeline
        from resonanz.inbox import actions, privacy
        from resonanz.inbox.ingestion import stored_threads
        from resonanz.inbox.models import Message

        pipeline.register_source("message", Message, select_related=("conversation", "channel", "author_contact"))
        intake.register(intake.InboundMessage, actions.ingest_many)
        intake.register(intake.DeliveryUpdate, actions.apply_delivery_updates)
        intake.register(intake.IdentityClaim, actions.apply_identity_claims)
        intake.register(intake.SourceChange, actions.apply_source_changes)
        intake.register_stored(stored_threads)
        hooks.register("contact_merged", actions.move_contact_rows)
        hooks.register("contact_exported", privacy.export_part)
        hooks.register("contact_erased", privacy.erase_contact)

    @staticmethod
    def on_setup(stdout) -> None:
        from resonanz.inbox.setup import ensure_first_administrator

        ensure_first_administrator(stdout)
