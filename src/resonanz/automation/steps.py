"""The pipeline step after text understanding and before the bot: rules on every inbound message.

Rules run before the knowledge step on purpose: routing (legal threats to Legal, spam closed,
a "stop" on sensitive topics) is decided before the bot may answer, and the bot then sees the
team, tags and status the rules set. A legal threat is never bot-answered in any case (the bot
refuses legal_threat itself), and the default legal rule also tags the conversation
``bot-handover`` so the bot keeps out of it.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import Min

from resonanz.automation import ruleset, runner, sla
from resonanz.inbox.models import Message

log = logging.getLogger("resonanz.automation")


def apply_rules(items: list) -> None:
    """Rules on every new customer message, and "post received" rules on every public post read."""
    if items and items[0].pipeline_kind == "post":
        for post in items:
            try:
                with transaction.atomic():  # a savepoint inside the step's transaction
                    runner.run_for_post(post)
            except Exception:  # never block the pipeline; failing rules switch themselves off
                log.exception("rules on post %s failed", post.pk)
        return
    messages = items
    inbound = [m for m in messages if m.direction == Message.Direction.INBOUND]
    if not inbound:
        return
    first_ids = _first_inbound_ids({m.conversation_id for m in inbound})
    with ruleset.pinned():
        _each(inbound, first_ids)


def _each(inbound: list, first_ids: dict[int, int]) -> None:
    for message in inbound:
        try:
            with transaction.atomic():  # one commit per message (or a savepoint inside the step's transaction)
                is_new = first_ids.get(message.conversation_id) == message.pk
                if is_new:
                    sla.refresh(message.conversation)
                runner.run_for_message(message, is_new=is_new)
        except Exception:  # never block the pipeline; failing rules switch themselves off in run_*
            log.exception("rules on message %s failed", message.pk)


def _first_inbound_ids(conversation_ids: set[int]) -> dict[int, int]:
    rows = (Message.objects.filter(conversation_id__in=conversation_ids, direction=Message.Direction.INBOUND)
            .values("conversation_id").annotate(first=Min("id")))
    return {r["conversation_id"]: r["first"] for r in rows}
