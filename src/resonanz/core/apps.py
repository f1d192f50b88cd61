from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "resonanz.core"
    verbose_name = "Core"

    def ready(self) -> None:
        # Configure the Celery app in every process that may enqueue work (web, CLI, worker).
        import resonanz.celery  # noqa: F401
        from resonanz.core import converters, signin
        from resonanz.core.addresses import allow_rules

        converters.register()  # before any URLconf is read: <id:pk> in every path
        signin.connect()  # lockouts go to the log and the audit log
        allow_rules()  # a mistyped RESONANZ_OUTBOUND_ALLOW stops every process at start, with the entry named
