"""Every change to analysis results, corrections, the catalog and model versions goes through here."""

from __future__ import annotations

import hashlib

from django.db import IntegrityError, transaction

from resonanz.analysis import AnalysisResult, DataError, Example, ModelFileError, TrainResult, load_examples
from resonanz.core.errors import ActionError
from resonanz.core.events import publish
from resonanz.crm.models import Contact
from resonanz.inbox.eventlog import record
from resonanz.inbox.models import Message
from resonanz.understanding import engine
from resonanz.understanding.models import INTENTS, SENTIMENTS, Analysis, CatalogEntry, Correction

INTENT_VALUES = [value for value, _ in INTENTS]
SENTIMENT_VALUES = [value for value, _ in SENTIMENTS]


def _fields(result: AnalysisResult) -> dict:
    return {
        "language": result.language.code,
        "sentiment": result.sentiment.label,
        "sentiment_score": result.sentiment.score,
        "sentiment_confidence": result.sentiment.confidence,
        "intent_labels": "," + ",".join(result.intents.labels) + "," if result.intents.labels else "",
        "urgency": result.urgency,
        "complexity": result.complexity.label,
        "bot_answerable": result.complexity.bot_answerable,
        "relevance": result.relevance,
        "result": result.to_dict(),
        "model_version": result.model_version,
    }


def store_analyses(pairs: list[tuple[object, AnalysisResult]]) -> None:
    """Store one result per message or post in one transaction. A message is read once (a second worker's
    result is dropped); a post changed at its source gets its new reading. The contact learns its language."""
    with transaction.atomic():
        for item, result in pairs:
            kind = item.pipeline_kind
            fields = {**_fields(result), "text_hash": hashlib.sha1(item.analysis_text.encode("utf-8", "replace"))
                      .hexdigest()}
            if kind == "post":
                try:
                    with transaction.atomic():
                        Analysis.objects.update_or_create(post=item, defaults=fields)
                except IntegrityError:  # created meanwhile by another worker: update that row
                    Analysis.objects.filter(post=item).update(**fields)
                continue
            try:
                with transaction.atomic():
                    Analysis.objects.create(message=item, **fields)
            except IntegrityError:  # analysed meanwhile by another worker: that one stands
                continue
            if result.language.code in ("de", "en") and result.language.confidence >= 0.8 and item.author_contact_id:
                Contact.objects.filter(pk=item.author_contact_id, preferred_language="").update(
                    preferred_language=result.language.code)
            record(item.conversation, "analysed", message_id=item.pk, sentiment=result.sentiment.label,
                   intents=result.intents.labels, model=result.model_version)
    for item, _ in pairs:
        if item.pipeline_kind == "post":
            publish("post.analysed", post_id=item.pk)
        else:
            publish("message.analysed", message_id=item.pk, conversation_id=item.conversation_id)


def correct(message: Message, agent, *, sentiment: str | None = None, intents: list[str] | None = None,
            language: str | None = None) -> Analysis:
    """An agent fixes what the engine read; the fix shows at once and trains the next model version."""
    if message.direction != Message.Direction.INBOUND:
        raise ActionError("Only messages from customers are analysed and can be corrected.", "message")
    if sentiment is not None and sentiment not in SENTIMENT_VALUES:
        raise ActionError(f"Sentiment must be one of {', '.join(SENTIMENT_VALUES)}.", "sentiment")
    if intents is not None:
        unknown = [i for i in intents if i not in INTENT_VALUES]
        if unknown:
            raise ActionError(f"Unknown intents {', '.join(unknown)}; use {', '.join(INTENT_VALUES)}.", "intents")
    if language is not None and language not in ("de", "en", "other"):
        raise ActionError("Language must be de, en or other.", "language")
    if sentiment is None and intents is None and language is None:
        raise ActionError("Nothing to correct: give sentiment, intents or language.")
    with transaction.atomic():
        analysis = Analysis.objects.select_for_update().filter(message=message).first()
        if analysis is None:
            raise ActionError("This message has not been analysed yet; try again in a moment.", "message")
        changes = []
        if sentiment is not None and sentiment != analysis.sentiment:
            changes.append(("sentiment", analysis.sentiment, sentiment))
            analysis.sentiment = sentiment
            analysis.sentiment_score = {"negative": -1.0, "neutral": 0.0, "positive": 1.0}[sentiment]
            analysis.sentiment_confidence = 1.0
        if intents is not None and sorted(intents) != sorted(analysis.intents):
            changes.append(("intents", analysis.intents, sorted(set(intents))))
            analysis.intent_labels = "," + ",".join(sorted(set(intents))) + "," if intents else ""
        if language is not None and language != analysis.language:
            changes.append(("language", analysis.language, language))
            analysis.language = language
        if not changes:
            return analysis
        analysis.corrected = True
        analysis.save()
        for field, old, new in changes:
            Correction.objects.create(message=message, agent=agent, field=field, old_value=old, new_value=new)
        record(message.conversation, "analysis_corrected", actor=agent, message_id=message.pk,
               changes={f: n for f, _, n in changes},
               reason="; ".join(f"{f}: {o} → {n}" for f, o, n in changes))
    publish("message.analysis_corrected", message_id=message.pk, conversation_id=message.conversation_id)
    return analysis


def correction_examples() -> list[Example]:
    """Every corrected message as one example carrying the agents' latest labels."""
    examples = []
    for analysis in Analysis.objects.filter(corrected=True, message__isnull=False).select_related("message"):
        fields = set(Correction.objects.filter(message_id=analysis.message_id).values_list("field", flat=True))
        examples.append(Example(
            text=analysis.message.text,
            sentiment=analysis.sentiment if "sentiment" in fields else None,
            intents=analysis.intents if "intents" in fields else None,
            language=analysis.language if "language" in fields else None,
            meta={"message_id": analysis.message_id},
        ))
    return examples


def train(files: list[str] = (), *, use_corrections: bool = True, progress=None) -> TrainResult:
    """Train a new model version from corrections and labelled files; it replaces the active one only if not worse."""
    examples: list[Example] = correction_examples() if use_corrections else []
    for path in files:
        try:
            examples.extend(load_examples(path))
        except DataError as exc:
            raise ActionError(str(exc), "file") from exc
        except OSError as exc:
            raise ActionError(f"Cannot read {path}: {exc.strerror or exc}", "file") from exc
    if not examples:
        raise ActionError("Nothing to learn from: no corrections yet and no labelled file given "
                          "(resonanz train --file FILE.csv).")
    engine.ensure_model()
    try:
        result = engine.store().train(examples, embedder=engine.embedder(), cache=engine.embedding_cache(),
                                      progress=progress)
    except DataError as exc:
        raise ActionError(str(exc)) from exc
    if result.activated:
        Correction.objects.filter(trained_in="").update(trained_in=result.version)
        engine.reset()
    return result


def rollback(version: str) -> str:
    try:
        engine.store().rollback(version)
    except ModelFileError as exc:
        raise ActionError(str(exc), "version") from exc
    engine.reset()
    return version


def save_catalog_entry(*, name: str, kind: str, aliases: str = "", entry: CatalogEntry | None = None) -> CatalogEntry:
    name = (name or "").strip()
    if not name:
        raise ActionError("A catalog entry needs a name.", "name")
    if kind not in CatalogEntry.Kind.values:
        raise ActionError(f"Kind must be one of {', '.join(CatalogEntry.Kind.values)}.", "kind")
    if CatalogEntry.objects.filter(kind=kind, name__iexact=name).exclude(pk=getattr(entry, "pk", None)).exists():
        raise ActionError(f"{name} is in the catalog already.", "name")
    entry = entry or CatalogEntry()
    entry.name, entry.kind, entry.aliases = name, kind, aliases
    entry.save()
    return entry


def delete_catalog_entry(entry: CatalogEntry) -> None:
    entry.delete()
