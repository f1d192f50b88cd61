"""Bring a fresh or existing install up to date: migrate, then every app's first-start work."""

from __future__ import annotations

from django.apps import apps
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Migrate the database and run each app's first-start work (teams, first administrator, rules, model)."

    def handle(self, *args, **options):
        call_command("migrate", interactive=False, verbosity=0)
        for hook in _setup_hooks():
            hook(self.stdout)
        self.stdout.write("Resonanz is set up.")


def _setup_hooks():
    """Each app's ``on_setup(stdout)``, in INSTALLED_APPS order (the inbox makes teams before automation's rules)."""
    return [config.on_setup for config in apps.get_app_configs() if getattr(config, "on_setup", None)]
