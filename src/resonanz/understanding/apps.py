from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UnderstandingConfig(AppConfig):
    """The Django side of the analysis engine: stores results per message, feeds corrections back."""

    name = "resonanz.understanding"
    verbose_name = _("Text understanding")

    def ready(self) -> None:
        from resonanz.inbox.pipeline import register_step

        register_step("resonanz.understanding.steps.analyze_messages")

    @staticmethod
    def on_setup(stdout) -> None:
        from resonanz.understanding.engine import ensure_model

        version = ensure_model(stdout)
        stdout.write(f"Text understanding model: {version}")
