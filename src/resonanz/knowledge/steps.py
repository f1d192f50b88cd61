"""The pipeline step after text understanding: suggestions for agents and the bot's decision."""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction

from resonanz.inbox import actions as inbox
from resonanz.inbox.models import Message
from resonanz.knowledge import bot
from resonanz.knowledge.models import Suggestion
from resonanz.knowledge.replies import replies
from resonanz.knowledge.search import articles

log = logging.getLogger("resonanz.knowledge")


def suggest_and_answer(messages: list[Message]) -> None:
    inbound = [m for m in messages if m.direction == Message.Direction.INBOUND and not m.is_public]
    done = set(Suggestion.objects.filter(message__in=inbound).values_list("message_id", flat=True))
    for message in inbound:
        if message.pk in done:
            continue  # a retried batch neither suggests nor answers twice
        analysis = message.analysis_or_none
        language = analysis.language if analysis and analysis.language in ("de", "en") else None
        results, best = articles().best_answer(message.text, language=language)
        similar = replies().similar(message.text, exclude_conversation=message.conversation_id)
        handover = bot.wants_handover(message, analysis)
        if handover:
            decision, article = "handed_over", None
        else:
            decision, article = bot.decide(message, analysis, best, results)
            if decision == bot.OUT_OF_SCOPE:
                handover = bot.OUT_OF_SCOPE_REASON
        try:
            with transaction.atomic():
                Suggestion.objects.create(
                    message=message, articles=[{"id": r.article.pk, "score": round(r.score, 4)} for r in results[:3]],
                    replies=similar, answer_article_id=int(best.doc_id) if best else None,
                    answer_confidence=round(best.confidence, 4) if best else None, bot_decision=decision[:40])
        except IntegrityError:
            continue  # another worker suggested (and answered) meanwhile: its work stands, nothing failed
        # an open conversation page polls the event log: this event makes its suggestions panel refresh
        inbox.record(message.conversation, "suggested", message_id=message.pk, decision=decision[:40])
        if handover:
            bot.hand_over(message, handover)
        elif article is not None:
            bot.answer(message, article, best.confidence)
