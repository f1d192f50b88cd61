"""Satisfaction surveys after resolution: one per conversation, sent by email where the customer has an
address, answered with one click on the public page ``/survey/<token>/`` (portal).

Listening to ``conversation.updated`` (a domain event after commit) keeps the inbox unaware of surveys.
A demo conversation or one resolved again later never gets a second survey.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.utils import translation
from django.utils.translation import gettext as _

from resonanz.crm.models import Identity
from resonanz.inbox.models import Conversation
from resonanz.insights.actions import open_survey
from resonanz.insights.models import Survey

log = logging.getLogger("resonanz.insights")


def survey_url(survey: Survey, rating: int | None = None) -> str:
    url = f"{settings.RESONANZ_BASE_URL.rstrip('/')}/survey/{survey.token}/"
    return f"{url}?rating={rating}" if rating else url


def on_conversation_updated(event: str, conversation_id: int, fields=(), **_payload) -> None:
    if "status" not in (fields or ()):
        return
    conversation = Conversation.objects.select_related("contact").filter(pk=conversation_id).first()
    if conversation is None or conversation.status != Conversation.Status.RESOLVED or conversation.is_demo:
        return
    if Survey.objects.filter(conversation=conversation).exists():
        return
    survey = open_survey(conversation)
    email = (Identity.objects.filter(contact_id=conversation.contact_id, kind="email")
             .values_list("handle", flat=True).first())
    if email:
        send_survey_email(survey, email, conversation.contact.preferred_language or "de")


def send_survey_email(survey: Survey, to: str, language: str) -> None:
    with translation.override(language if language in ("de", "en") else "de"):
        lines = [_("How satisfied were you with our help on “%(subject)s”?")
                 % {"subject": survey.conversation.subject or survey.conversation.reference}, ""]
        labels = {5: _("very satisfied"), 4: _("satisfied"), 3: _("so-so"), 2: _("dissatisfied"),
                  1: _("very dissatisfied")}
        for rating in (5, 4, 3, 2, 1):
            lines.append(f"{rating} – {labels[rating]}: {survey_url(survey, rating)}")
        lines += ["", _("One click is enough. Thank you!")]
        subject = _("Your opinion: %(ref)s") % {"ref": survey.conversation.reference}
    try:
        send_mail(subject, "\n".join(lines), None, [to], fail_silently=False)
    except Exception:
        log.exception("could not send the survey of conversation %s", survey.conversation_id)
