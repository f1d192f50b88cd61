"""The analyses and corrections of a contact's messages, for the GDPR export (they go with the messages)."""

from __future__ import annotations

from django.db.models import Q

from resonanz.crm.privacy import ExportPart, rows
from resonanz.understanding.models import Analysis, Correction


def anonymise(conversation_ids, message_ids) -> None:
    """Retention anonymised these messages: the analysis keeps its numbers, not the entities it found."""
    Analysis.objects.filter(message_id__in=message_ids).update(result={}, text_hash="")


def export_part(contact) -> ExportPart:
    of_contact = Q(message__conversation__contact=contact) | Q(message__author_contact=contact)
    analyses = rows(Analysis.objects.filter(of_contact).order_by("id"))
    corrections = rows(Correction.objects.filter(of_contact).order_by("id"), exclude=("agent",))
    return ExportPart(sections={"analyses": analyses, "corrections": corrections},
                      counts={"analyses": len(analyses)})
