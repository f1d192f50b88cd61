"""Beat-driven work of the automation app: SLA warnings and breaches, time rules, rules after a person's change."""

from __future__ import annotations

import logging

from celery import shared_task

log = logging.getLogger("resonanz.automation")


@shared_task(name="resonanz.automation.tasks.check_slas")
def check_slas() -> dict:
    from resonanz.automation.sla import check_due

    return check_due()


@shared_task(name="resonanz.automation.tasks.run_time_rules")
def run_time_rules() -> int:
    from resonanz.automation.runner import run_time_rules as run

    return run()


@shared_task(name="resonanz.automation.tasks.run_update_rules")
def run_update_rules(conversation_id: int) -> int:
    from resonanz.automation.runner import run_for_update

    return len(run_for_update(conversation_id))


@shared_task(name="resonanz.automation.tasks.send_notification")
def send_notification(kind: str, rule_id: int, data: dict, conversation_id: int | None) -> None:
    from resonanz.automation.runner import deliver_notification

    deliver_notification(kind, rule_id, data, conversation_id)
