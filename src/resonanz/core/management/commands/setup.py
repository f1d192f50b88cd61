"""Bring a fresh or existing install up to date: migrate, default teams, first administrator."""

from __future__ import annotations

import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from resonanz.inbox.actions import ensure_agent_profile, ensure_default_teams


class Command(BaseCommand):
    help = "Migrate the database, create the default teams and, on first start, an administrator."

    def handle(self, *args, **options):
        call_command("migrate", interactive=False, verbosity=0)
        ensure_default_teams()
        User = get_user_model()
        if not User.objects.filter(is_superuser=True).exists():
            email = os.environ.get("RESONANZ_ADMIN_EMAIL", "admin@example.com").strip().lower()
            password = os.environ.get("RESONANZ_ADMIN_PASSWORD")
            generated = not password
            password = password or secrets.token_urlsafe(12)
            user = User.objects.create_superuser(username=email, email=email, password=password)
            ensure_agent_profile(user)
            self.stdout.write(self.style.SUCCESS(f"Administrator created: {email}"))
            if generated:
                self.stdout.write(self.style.WARNING(
                    f"Generated password (shown once, change it after logging in): {password}"
                ))
        for user in User.objects.filter(is_superuser=True, agent__isnull=True):
            ensure_agent_profile(user)
        for extra in _setup_hooks():
            extra(self.stdout)
        self.stdout.write("Resonanz is set up.")


def _setup_hooks():
    """Later apps (analysis models, search index) add their first-start work here."""
    from django.apps import apps

    hooks = []
    for config in apps.get_app_configs():
        hook = getattr(config, "on_setup", None)
        if hook:
            hooks.append(hook)
    return hooks
