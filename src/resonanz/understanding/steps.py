"""The pipeline step that reads every inbound message (batched, in the worker)."""

from __future__ import annotations

from resonanz.inbox.models import Message
from resonanz.understanding.actions import store_analyses
from resonanz.understanding.engine import catalog, get_analyzer
from resonanz.understanding.models import MessageAnalysis


def analyze_messages(messages: list[Message]) -> None:
    inbound = [m for m in messages if m.direction == Message.Direction.INBOUND]
    done = set(MessageAnalysis.objects.filter(message__in=inbound).values_list("message_id", flat=True))
    inbound = [m for m in inbound if m.pk not in done]  # a retried batch does not analyse twice
    if not inbound:
        return
    analyzer, entries = get_analyzer(), catalog()
    pairs = []
    for public in (False, True):  # public posts are judged for relevance, messages to us are relevant
        group = [m for m in inbound if m.is_public == public]
        if group:
            results = analyzer.analyze_batch([m.text for m in group], catalog=entries,
                                             kind="post" if public else "message")
            pairs.extend(zip(group, results, strict=True))
    store_analyses(pairs)
