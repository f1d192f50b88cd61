"""Inbox filters on what the engine read, registered into inbox.queries (the inbox does not know analyses)."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet, Subquery

from resonanz.understanding.models import Analysis

SENTIMENT_VALUES = ("negative", "neutral", "positive")


def by_analysis(qs: QuerySet, params) -> QuerySet:
    """Conversations with a customer message of the given sentiment and/or intent (unknown values are ignored)."""
    sentiment, intent = params.get("sentiment"), params.get("intent")
    conditions = {}
    if sentiment in SENTIMENT_VALUES:
        conditions["sentiment"] = sentiment
    if intent and str(intent).replace("_", "").isalpha():
        conditions["intent_labels__contains"] = f",{intent},"
    if not (sentiment or intent):
        return qs
    return qs.filter(Exists(Analysis.objects.filter(message__conversation=OuterRef("pk"), **conditions)))


def with_latest_analysis(qs: QuerySet) -> QuerySet:
    """Annotate each conversation with the sentiment and intents of its latest analysed customer message."""
    latest = Analysis.objects.filter(message__conversation=OuterRef("pk")).order_by("-message_id")
    return qs.annotate(latest_sentiment=Subquery(latest.values("sentiment")[:1]),
                       latest_intents=Subquery(latest.values("intent_labels")[:1]))
