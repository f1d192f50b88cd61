"""Template context every agent page needs."""

from django.conf import settings

from resonanz.core.permissions import can, is_admin


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    agent = getattr(user, "agent", None) if user is not None else None
    return {
        "current_agent": agent,
        "is_admin": is_admin(user),
        "can_edit_rules": can(user, "rules.edit"),
        "can_delete_contacts": can(user, "contacts.delete"),
        "can_export_data": can(user, "data.export"),
        "can_read_audit": can(user, "audit.read"),
        "LANGUAGES": settings.LANGUAGES,
    }
