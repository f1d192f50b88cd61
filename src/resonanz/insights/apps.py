from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsightsConfig(AppConfig):
    """Listening queries and mentions, dashboards' rollups, early warning, goals and satisfaction surveys."""

    name = "resonanz.insights"
    verbose_name = _("Insights")

    def ready(self) -> None:
        from resonanz.core import hooks, pipeline
        from resonanz.core.events import subscribe
        from resonanz.insights import privacy, surveys

        pipeline.register_step("resonanz.insights.steps.record", kinds=("message", "post"))
        subscribe("conversation.updated", surveys.on_conversation_updated)
        hooks.register("contact_exported", privacy.export_part)
        hooks.register("conversations_anonymised", privacy.anonymise)
