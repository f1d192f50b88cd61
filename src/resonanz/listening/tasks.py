"""Analysis of new posts, in the worker."""

from __future__ import annotations

import logging

from celery import shared_task

log = logging.getLogger("resonanz.listening")


@shared_task(name="resonanz.listening.tasks.analyze_new_posts")
def analyze_new_posts(limit: int = 500) -> int:
    from resonanz.listening.actions import analyze_posts

    total = 0
    while True:
        done = analyze_posts(limit)
        total += done
        if done < limit:
            return total


def schedule_analysis() -> None:
    """Ask the worker to read new posts; if the broker is down the next poll asks again."""
    try:
        analyze_new_posts.delay()
    except Exception:
        log.exception("could not enqueue analysis of new posts")
