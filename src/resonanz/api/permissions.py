from rest_framework.permissions import SAFE_METHODS, BasePermission


def is_admin(user) -> bool:
    agent = getattr(user, "agent", None)
    return bool(user and user.is_authenticated and (user.is_superuser or (agent and agent.role == "admin")))


class AdminWritesOthersRead(BasePermission):
    """Every agent may look; only administrators change channels, teams and agents."""

    message = "Only administrators can change this."

    def has_permission(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return False
        return request.method in SAFE_METHODS or is_admin(request.user)
