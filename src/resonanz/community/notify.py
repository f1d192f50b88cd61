"""Emails the community sends (login links, new answers, idea status) in each recipient's language.

Called after the write committed; a mail server that is down is logged and never undoes the write.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.utils import translation
from django.utils.translation import gettext as _

from resonanz.core.errors import ActionError
from resonanz.inbox.actions import send_reply
from resonanz.inbox.models import Conversation

log = logging.getLogger("resonanz.community")


def _base() -> str:
    return settings.RESONANZ_BASE_URL.rstrip("/")


def _send(to: str, language: str, subject_and_body) -> None:
    with translation.override(language if language in ("de", "en") else settings.LANGUAGE_CODE):
        subject, body = subject_and_body()
    try:
        send_mail(subject, body, None, [to], fail_silently=False)
    except Exception:  # noqa: BLE001 - a mail server problem must not break the committed write
        log.exception("could not send community mail %r", subject)


def login_link(email: str, link: str, language: str) -> None:
    _send(email, language, lambda: (
        _("Your login link for the community"),
        _("Hello,\n\nopen this link to log in to the community (it works once, for 30 minutes):\n\n%(link)s\n\n"
          "If you did not ask for it, ignore this email.") % {"link": link}))


def new_answer(recipients: list[tuple[str, str]], question, answer) -> None:
    url = f"{_base()}/community/q/{question.pk}/#a{answer.pk}"
    for email, language in recipients:
        _send(email, language, lambda: (
            _("New answer: %(title)s") % {"title": question.title},
            _("%(name)s answered a question you follow:\n\n%(text)s\n\n%(url)s") % {
                "name": answer.author.name, "text": answer.body[:2000], "url": url}))


def idea_status_text(idea) -> str:
    return _("The idea “%(title)s” is now: %(status)s.\n\n%(note)s\n\n%(url)s") % {
        "title": idea.title, "status": idea.get_status_display(), "note": idea.status_note,
        "url": f"{_base()}/community/ideas/{idea.pk}/"}


def idea_status(idea, voters: list[tuple[str, str]], conversation_ids: list[int], actor) -> None:
    """Voters by email; the customers of linked conversations by a reply in their conversation."""
    for email, language in voters:
        _send(email, language, lambda: (_("Idea update: %(title)s") % {"title": idea.title}, idea_status_text(idea)))
    if not conversation_ids:
        return
    for conversation in Conversation.objects.filter(pk__in=conversation_ids).select_related("channel", "contact"):
        language = getattr(conversation.contact, "preferred_language", "") or settings.LANGUAGE_CODE
        with translation.override(language if language in ("de", "en") else "en"):
            text = idea_status_text(idea)
        try:
            send_reply(conversation, actor, text)
        except ActionError as exc:  # held for approval or refused by a guideline: the agent sees it there
            log.info("idea status reply in conversation %s not sent: %s", conversation.pk, exc)
