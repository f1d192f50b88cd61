"""Domain events: published after the transaction that caused them commits.

Subscribers (live updates, later: rules, webhooks) never see a change that was rolled back.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.db import transaction

log = logging.getLogger("resonanz.events")
_subscribers: dict[str, list[Callable[..., Any]]] = defaultdict(list)


def subscribe(event: str, handler: Callable[..., Any]) -> None:
    if handler not in _subscribers[event]:
        _subscribers[event].append(handler)


def publish(event: str, **payload: Any) -> None:
    """Call every subscriber once the current transaction commits (at once when there is none)."""

    def deliver() -> None:
        for handler in list(_subscribers.get(event, ())) + list(_subscribers.get("*", ())):
            try:
                handler(event=event, **payload)
            except Exception:  # a broken subscriber must not break the write that already committed
                log.exception("subscriber %r failed on %s", handler, event)

    transaction.on_commit(deliver)
