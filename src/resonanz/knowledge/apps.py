from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KnowledgeConfig(AppConfig):
    name = "resonanz.knowledge"
    verbose_name = _("Knowledge base")

    def ready(self) -> None:
        from resonanz.core.pipeline import register_step

        # After text understanding: suggestions and automatic answers need its verdict.
        register_step("resonanz.knowledge.steps.suggest_and_answer", kinds=("message",))
