"""First start: the default teams and the first administrator (``resonanz setup`` calls this)."""

from __future__ import annotations

import os
import secrets

from django.contrib.auth import get_user_model

from resonanz.inbox.actions import ensure_agent_profile, ensure_default_teams


def ensure_first_administrator(stdout) -> None:
    """Create the default teams and, when nobody administers Resonanz yet, an administrator from
    RESONANZ_ADMIN_EMAIL / RESONANZ_ADMIN_PASSWORD or with a generated password shown once."""
    ensure_default_teams()
    User = get_user_model()
    if not User.objects.filter(is_superuser=True).exists():
        email = os.environ.get("RESONANZ_ADMIN_EMAIL", "admin@example.com").strip().lower()
        password = os.environ.get("RESONANZ_ADMIN_PASSWORD")
        generated = not password
        password = password or secrets.token_urlsafe(12)
        user = User.objects.create_superuser(username=email, email=email, password=password)
        ensure_agent_profile(user)
        stdout.write(f"Administrator created: {email}")
        if generated:
            stdout.write(f"Generated password (shown once, change it after logging in): {password}")
    for user in User.objects.filter(is_superuser=True, agent__isnull=True):
        ensure_agent_profile(user)
