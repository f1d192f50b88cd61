"""Survey answers of a contact, for the GDPR export (the rows go with the conversation on erasure)."""

from __future__ import annotations

from resonanz.crm.privacy import ExportPart, rows
from resonanz.insights.models import Survey


def export_part(contact) -> ExportPart:
    surveys = rows(Survey.objects.filter(conversation__contact=contact).order_by("id"), exclude=("token",))
    return ExportPart(sections={"survey_answers": surveys}, counts={"survey_answers": len(surveys)})
