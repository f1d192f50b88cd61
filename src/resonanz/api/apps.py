from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "resonanz.api"
    verbose_name = "API"
