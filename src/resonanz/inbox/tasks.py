"""Celery tasks of the inbox (found by Celery's autodiscovery): delivery of replies."""

from resonanz.inbox.delivery import deliver_message, deliver_queued

__all__ = ["deliver_message", "deliver_queued"]
