"""Survey answers of a contact, for the GDPR export (the rows go with the conversation on erasure)."""

from __future__ import annotations

from resonanz.crm.privacy import ExportPart, rows
from resonanz.insights.models import Survey


def anonymise(conversation_ids, message_ids) -> None:
    """Retention anonymised these conversations: facts lose the author, surveys the comment."""
    from resonanz.insights.models import Fact

    Fact.objects.filter(message_id__in=message_ids).update(author="")
    Survey.objects.filter(conversation_id__in=conversation_ids).update(comment="")


def export_part(contact) -> ExportPart:
    surveys = rows(Survey.objects.filter(conversation__contact=contact).order_by("id"), exclude=("token",))
    return ExportPart(sections={"survey_answers": surveys}, counts={"survey_answers": len(surveys)})
