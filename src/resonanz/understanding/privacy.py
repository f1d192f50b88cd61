"""The analyses and corrections of a contact's messages, for the GDPR export (they go with the messages)."""

from __future__ import annotations

from django.db.models import Q

from resonanz.crm.privacy import ExportPart, rows
from resonanz.understanding.models import Analysis, Correction


def export_part(contact) -> ExportPart:
    of_contact = Q(message__conversation__contact=contact) | Q(message__author_contact=contact)
    analyses = rows(Analysis.objects.filter(of_contact).order_by("id"))
    corrections = rows(Correction.objects.filter(of_contact).order_by("id"), exclude=("agent",))
    return ExportPart(sections={"analyses": analyses, "corrections": corrections},
                      counts={"analyses": len(analyses)})
