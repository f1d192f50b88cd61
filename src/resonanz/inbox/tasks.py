"""Celery tasks of the inbox (found by Celery's autodiscovery): delivery of replies, demo data."""

from resonanz.inbox.delivery import deliver_message, deliver_queued
from resonanz.inbox.firstrun import load_demo_data, remove_demo_data

__all__ = ["deliver_message", "deliver_queued", "load_demo_data", "remove_demo_data"]
