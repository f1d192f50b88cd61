"""Template context of the desk's header that needs higher apps than core: the unread notifications."""

from resonanz.insights.models import Notification


def notifications(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": Notification.objects.filter(user=user, read_at__isnull=True).count()}
