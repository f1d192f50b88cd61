from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "resonanz.core"
    verbose_name = "Core"

    def ready(self) -> None:
        # Configure the Celery app in every process that may enqueue work (web, CLI, worker).
        import resonanz.celery  # noqa: F401
