from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UnderstandingConfig(AppConfig):
    """The Django side of the analysis engine: stores results per message and post, feeds corrections back."""

    name = "resonanz.understanding"
    verbose_name = _("Text understanding")

    def ready(self) -> None:
        from resonanz.core import hooks, pipeline
        from resonanz.inbox import queries
        from resonanz.understanding import filters, privacy

        pipeline.register_step("resonanz.understanding.steps.analyze", kinds=("message", "post"))
        queries.register_filter(filters.by_analysis)
        hooks.register("contact_exported", privacy.export_part)
        hooks.register("conversations_anonymised", privacy.anonymise)

    @staticmethod
    def on_setup(stdout) -> None:
        from resonanz.understanding.engine import ensure_model

        version = ensure_model(stdout)
        stdout.write(f"Text understanding model: {version}")
