"""Worker tasks of insights: the early-warning run (beat, every 5 minutes) and the query backfill."""

from __future__ import annotations

from celery import shared_task

from resonanz.insights import alerts
from resonanz.insights.backfill import backfill_task
from resonanz.insights.delivery import deliver_task

__all__ = ["backfill_task", "check_alerts", "deliver_task"]


@shared_task(name="resonanz.insights.tasks.check_alerts")
def check_alerts() -> int:
    return len(alerts.check())
