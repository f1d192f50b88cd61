"""Beat-driven work of the automation app: SLA warnings and breaches, time rules, rules on public posts."""

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
    from resonanz.automation.actions import run_time_rules as run

    return run()


@shared_task(name="resonanz.automation.tasks.run_post_rules")
def run_post_rules(limit: int = 500) -> int:
    """Rules on public posts once the worker analysed them; a cursor on analyzed_at finds the new ones."""
    from django.apps import apps

    if not apps.is_installed("resonanz.listening"):
        return 0
    from django.db.models import Q
    from django.utils.dateparse import parse_datetime

    from resonanz.automation.actions import run_for_post
    from resonanz.automation.models import AutomationState
    from resonanz.listening.models import Post

    state, _ = AutomationState.objects.get_or_create(key="post_cursor")
    cursor_at, _, cursor_id = (state.value or "").partition("|")
    posts = Post.objects.filter(analyzed_at__isnull=False).select_related("channel")
    if cursor_at:
        at = parse_datetime(cursor_at)
        posts = posts.filter(Q(analyzed_at__gt=at) | Q(analyzed_at=at, id__gt=int(cursor_id or 0)))
    done = 0
    for post in posts.order_by("analyzed_at", "id")[:limit]:
        try:
            run_for_post(post)
        except Exception:
            log.exception("rules on post %s failed", post.pk)
        state.value = f"{post.analyzed_at.isoformat()}|{post.pk}"
        done += 1
    if done:
        state.save(update_fields=["value"])
    return done


@shared_task(name="resonanz.automation.tasks.run_update_rules")
def run_update_rules(conversation_id: int) -> int:
    from resonanz.automation.actions import run_for_update

    return len(run_for_update(conversation_id))


@shared_task(name="resonanz.automation.tasks.send_notification")
def send_notification(kind: str, rule_id: int, data: dict, conversation_id: int | None) -> None:
    from resonanz.automation.actions import deliver_notification

    deliver_notification(kind, rule_id, data, conversation_id)
