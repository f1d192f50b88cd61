"""Polling of channels that fetch messages, on the worker's schedule. A failing channel never stops the others."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from resonanz.connectors.actions import check_channel, record_health
from resonanz.connectors.drivers import get_driver
from resonanz.connectors.models import Channel

log = logging.getLogger("resonanz.connectors")


@shared_task(name="resonanz.connectors.tasks.check_channel")
def check_channel_task(channel_id: int) -> bool:
    """A connection check an administrator asked for (desk or API), run here rather than in the web request."""
    channel = Channel.objects.filter(pk=channel_id).first()
    return channel is not None and check_channel(channel)[0]


@shared_task(name="resonanz.connectors.tasks.poll_due_channels")
def poll_due_channels() -> dict[str, int | str]:
    """Poll every enabled channel whose interval has passed; each in its own try."""
    now = timezone.now()
    outcome: dict[str, int | str] = {}
    for channel in Channel.objects.filter(enabled=True):
        driver = get_driver(channel)
        if not driver.polls:
            continue
        if channel.last_poll_at and channel.last_poll_at + timedelta(seconds=channel.poll_interval) > now:
            continue
        outcome[channel.name] = poll_channel(channel)
    return outcome


def poll_channel(channel: Channel) -> int | str:
    Channel.objects.filter(pk=channel.pk).update(last_poll_at=timezone.now())
    try:
        new = get_driver(channel).poll()
    except Exception as exc:
        log.warning("polling %s failed: %s", channel, exc, exc_info=True)
        record_health(channel, False, f"{exc.__class__.__name__}: {exc}")
        return f"error: {exc}"
    record_health(channel, True)
    return new
