"""Beat-driven work of the automation app: SLA warnings and breaches, time rules, rules after a person's change.

Celery finds the tasks here; the notification task lives with the notifications it sends.
"""

from __future__ import annotations

from celery import shared_task

from resonanz.automation import runner
from resonanz.automation.notifications import send_notification

__all__ = ["check_slas", "run_time_rules", "run_update_rules", "send_notification"]


@shared_task(name="resonanz.automation.tasks.check_slas")
def check_slas() -> dict:
    return runner.check_due()


@shared_task(name="resonanz.automation.tasks.run_time_rules")
def run_time_rules() -> int:
    return runner.run_time_rules()


@shared_task(name="resonanz.automation.tasks.run_update_rules")
def run_update_rules(conversation_id: int) -> int:
    return len(runner.run_for_update(conversation_id))
