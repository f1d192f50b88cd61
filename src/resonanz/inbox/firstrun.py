"""The first run: what a new installation still lacks, for the guide the first administrator sees
(connect a channel, invite the team, try it with demo data), and loading or removing the demo data."""

from __future__ import annotations

import logging
import threading

from celery import shared_task
from django.conf import settings
from django.core.management import call_command

from resonanz.connectors.models import Channel
from resonanz.inbox.models import AgentProfile, Conversation

log = logging.getLogger("resonanz.inbox")


def demo_size() -> int:
    return int(getattr(settings, "RESONANZ_DEMO_CONVERSATIONS", 320))


def progress() -> dict:
    """Each step of the guide and whether it is done; ``complete`` once a real channel and a colleague exist."""
    channels = Channel.objects.filter(is_demo=False).exclude(kind="community").count()
    colleagues = (AgentProfile.objects.filter(is_bot=False, user__is_active=True)
                  .exclude(user__username__endswith="@demo.resonanz.example").count() - 1)
    demo = Conversation.objects.filter(is_demo=True).count()
    return {"channels": channels, "colleagues": max(colleagues, 0), "demo": demo, "demo_size": demo_size(),
            "complete": channels > 0 and colleagues > 0}


@shared_task(name="resonanz.inbox.tasks.load_demo_data")
def load_demo_data(conversations: int | None = None) -> None:
    call_command("demo", conversations=conversations or demo_size())


@shared_task(name="resonanz.inbox.tasks.remove_demo_data")
def remove_demo_data() -> None:
    call_command("demo", remove=True)


def start(task, *args) -> None:
    """Hand the work to the worker; with the broker down, run it in a thread of this process (minutes of work
    must not hold the request, and the button must not fail)."""
    try:
        task.delay(*args)
    except Exception:
        log.warning("broker unavailable: %s runs in the web process", task.name)
        threading.Thread(target=task, args=args, daemon=True).start()
