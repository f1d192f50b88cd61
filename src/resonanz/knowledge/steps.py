"""The pipeline step after text understanding: suggestions for agents and the bot's decision.

A batch embeds its messages in one call and syncs the article and reply indexes once. With the fast path on
(RESONANZ_FAST_EMBEDDINGS) the suggestions rank with static vectors; every message whose bot decision
depends on the ranking (it could be answered automatically) is ranked again with the encoder's vectors, in
one call for the batch, so what a customer receives is decided exactly as without the fast path.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction

from resonanz.core.pipeline import timed
from resonanz.inbox import actions as inbox
from resonanz.inbox.models import Message
from resonanz.knowledge import bot
from resonanz.knowledge.embedding import query_vectors
from resonanz.knowledge.models import Suggestion
from resonanz.knowledge.replies import replies
from resonanz.knowledge.search import articles

log = logging.getLogger("resonanz.knowledge")


def suggest_and_answer(messages: list[Message]) -> None:
    inbound = [m for m in messages if m.direction == Message.Direction.INBOUND and not m.is_public]
    done = set(Suggestion.objects.filter(message__in=inbound).values_list("message_id", flat=True))
    todo = [m for m in inbound if m.pk not in done]  # a retried batch neither suggests nor answers twice
    for group in _rounds(todo):
        with timed("suggestions", len(group)):
            plans = _plan(group)
        with timed("answers", len(group)):
            for message, plan in zip(group, plans, strict=True):
                _carry_out(message, *plan)


def _rounds(todo: list[Message]) -> list[list[Message]]:
    """The first message of each conversation, then the second, …: a later message of a conversation is
    decided after the earlier one was answered or handed over, as it would be one at a time."""
    rounds: list[list[Message]] = []
    seen: dict[int, int] = {}
    for message in todo:
        n = seen.get(message.conversation_id, 0)
        seen[message.conversation_id] = n + 1
        if n == len(rounds):
            rounds.append([])
        rounds[n].append(message)
    return rounds


def _plan(todo: list[Message]) -> list[tuple]:
    """(results, best, similar, decision, article, handover) per message, without writing anything."""
    index, reply_index = articles(), replies()
    index.sync()
    reply_index.sync()
    live = index.live_articles()
    vectors, approximate = query_vectors([m.text for m in todo], precise=False)
    plans, again = [], []
    for n, message in enumerate(todo):
        analysis = message.analysis_or_none
        language = analysis.language if analysis and analysis.language in ("de", "en") else None
        vector = vectors[n] if vectors is not None else None
        results, best = index.best_answer(message.text, language=language, vector=vector, approximate=approximate,
                                          synced=True, live=live)
        similar = reply_index.similar(message.text, exclude_conversation=message.conversation_id, vector=vector,
                                      approximate=approximate, synced=True)
        handover = bot.wants_handover(message, analysis)
        if handover:
            decision, article = "handed_over", None
        else:
            decision, article = bot.decide(message, analysis, best, results)
            if approximate and bot.ranking_decides(decision):
                again.append(n)
        plans.append([results, best, similar, decision, article, handover])
    if again:  # the bot may answer these: rank them with the encoder, as without the fast path
        precise, _ = query_vectors([todo[n].text for n in again], precise=True)
        for row, n in enumerate(again):
            message, plan = todo[n], plans[n]
            analysis = message.analysis_or_none
            language = analysis.language if analysis and analysis.language in ("de", "en") else None
            plan[0], plan[1] = index.best_answer(message.text, language=language,
                                                 vector=precise[row] if precise is not None else None,
                                                 synced=True, live=live)
            plan[3], plan[4] = bot.decide(message, analysis, plan[1], plan[0])
    for plan in plans:
        if plan[3] == bot.OUT_OF_SCOPE:
            plan[5] = bot.OUT_OF_SCOPE_REASON
    return plans


@transaction.atomic  # one commit per message, or a savepoint inside the step's transaction
def _carry_out(message: Message, results, best, similar, decision: str, article, handover: str) -> None:
    try:
        with transaction.atomic():
            Suggestion.objects.create(
                message=message, articles=[{"id": r.article.pk, "score": round(r.score, 4)} for r in results[:3]],
                replies=similar, answer_article_id=int(best.doc_id) if best else None,
                answer_confidence=round(best.confidence, 4) if best else None, bot_decision=decision[:40])
    except IntegrityError:
        return  # another worker suggested (and answered) meanwhile: its work stands, nothing failed
    # an open conversation page polls the event log: this event makes its suggestions panel refresh
    inbox.record(message.conversation, "suggested", message_id=message.pk, decision=decision[:40])
    if handover:
        bot.hand_over(message, handover)
    elif article is not None:
        bot.answer(message, article, best.confidence)
