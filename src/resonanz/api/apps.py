from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "resonanz.api"
    verbose_name = "API"

    def ready(self):
        from resonanz.api import strict

        strict.install()  # JSON values of the wrong type are a 400, as the schema says (api/strict.py)
