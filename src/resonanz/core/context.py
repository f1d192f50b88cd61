"""Template context every agent page needs."""

from django.conf import settings


def navigation(request) -> dict:
    agent = getattr(request.user, "agent", None) if getattr(request, "user", None) else None
    return {
        "current_agent": agent,
        "is_admin": bool(request.user.is_authenticated and (request.user.is_superuser or (agent and agent.role == "admin"))),
        "LANGUAGES": settings.LANGUAGES,
    }
