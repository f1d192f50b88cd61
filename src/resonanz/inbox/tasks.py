"""Celery tasks of the inbox (found by Celery's autodiscovery): delivery of replies, retention, demo data."""

from celery import shared_task

from resonanz.inbox.delivery import deliver_message, deliver_queued
from resonanz.inbox.firstrun import load_demo_data, remove_demo_data

__all__ = ["apply_retention", "deliver_message", "deliver_queued", "load_demo_data", "remove_demo_data"]


@shared_task(name="resonanz.inbox.tasks.apply_retention", ignore_result=True)
def apply_retention() -> int:
    """Beat runs this every hour: closed conversations past their channel's retention rule go."""
    from resonanz.inbox import retention

    return retention.apply()
