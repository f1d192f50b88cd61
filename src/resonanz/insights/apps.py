from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsightsConfig(AppConfig):
    """Listening queries and mentions, dashboards' rollups, early warning, goals and satisfaction surveys."""

    name = "resonanz.insights"
    verbose_name = _("Insights")

    def ready(self) -> None:
        from resonanz.core import hooks, pipeline
        from resonanz.core.events import subscribe
        from resonanz.insights import alerts, privacy, surveys

        pipeline.register_step("resonanz.insights.steps.record", kinds=("message", "post"))
        subscribe("conversation.updated", surveys.on_conversation_updated)
        hooks.register("contact_exported", privacy.export_part)
        hooks.register("conversations_anonymised", privacy.anonymise)
        hooks.register("topic_rising", alerts.topic_rising)

    @staticmethod
    def on_setup(stdout) -> None:
        """Urgency and entities of facts stored before they were kept, and daily rollups for a database from
        before them or after ``TIME_ZONE`` changed (each with a bar)."""
        from resonanz.core.progress import Progress
        from resonanz.insights import days, topics

        missing = topics.missing()
        if missing:
            with Progress("urgency and entities of older items", missing, unit="items") as bar:
                topics.catch_up(bar)
        if days.ready():
            return
        with Progress(f"daily rollups ({days.company_zone().key})", days.count_days(), unit="days") as bar:
            n = days.rebuild(bar)
        stdout.write(f"Daily rollups built for {n} day(s) in {days.company_zone().key}.\n")
