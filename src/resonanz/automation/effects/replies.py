"""Answering the customer as the bot (a template or a published article) and internal notes.

Texts may hold the placeholders {name}, {reference} and {subject}; an unknown placeholder stays as
written, a broken one ("{name") is refused when the rule is saved.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from resonanz.automation.effects import Act, Effect, Param, as_int, register
from resonanz.core.errors import ActionError
from resonanz.inbox import actions as inbox
from resonanz.knowledge.bot import automatic_answer, bot_user
from resonanz.knowledge.models import Article

LANGUAGES = ("de", "en")


class _Placeholders(dict):
    def __missing__(self, key):
        return "{" + key + "}"


def fill(text: str, conversation) -> str:
    contact = conversation.contact
    return text.format_map(_Placeholders({
        "name": contact.name or "", "reference": conversation.reference, "subject": conversation.subject or "",
    }))


def _clean_text(action: dict) -> dict:
    """The text, its optional German and English versions, and every placeholder checked."""
    text = str(action.get("text") or "").strip()
    if not text:
        raise ActionError("The text of the answer or note is empty.", "actions")
    out = {"text": text}
    for lang in LANGUAGES:
        if str(action.get(f"text_{lang}") or "").strip():
            out[f"text_{lang}"] = str(action[f"text_{lang}"]).strip()
    for value in out.values():
        try:
            value.format_map(_Placeholders({}))
        except (ValueError, IndexError) as exc:
            raise ActionError(f"The text has a broken placeholder: {exc}.", "actions") from None
    return out


@register
class ReplyTemplate(Effect):
    kind, label, order = "reply_template", _("answer with a template"), 80
    params = (Param("text", _("text")), Param("text_de", _("German text (optional)"), optional=True),
              Param("text_en", _("English text (optional)"), optional=True))

    def clean(self, action: dict, trigger: str) -> dict:
        return _clean_text(action)

    def perform(self, action: dict, act: Act) -> list[str]:
        text = action.get(f"text_{act.snapshot.get('analysis.language')}") or action["text"]
        inbox.send_reply(act.conversation, bot_user(), fill(text, act.conversation))
        return ["answered with a template"]


@register
class ReplyArticle(Effect):
    kind, label, order = "reply_article", _("answer with an article"), 90
    params = (Param("article", _("article")),)

    def clean(self, action: dict, trigger: str) -> dict:
        article = Article.objects.filter(pk=as_int(action.get("article"))).first()
        if article is None:
            raise ActionError(f"The article {action.get('article')!r} does not exist.", "actions")
        if not article.is_live or article.visibility != Article.Visibility.PUBLIC:
            raise ActionError(f"The article “{article.title}” is not published for customers.", "actions")
        return {"article": article.pk}

    def perform(self, action: dict, act: Act) -> list[str]:
        """In the customer's language when a published translation exists."""
        article = Article.objects.get(pk=action["article"])
        language = act.snapshot.get("analysis.language")
        if language in LANGUAGES and article.language != language:
            translation = article.translations().filter(language=language, status="published",
                                                        visibility="public").first()
            article = translation or article
        if not article.is_live:
            raise ActionError(f"The article “{article.title}” is no longer published.")
        contact = act.conversation.contact
        inbox.send_reply(act.conversation, bot_user(),
                         automatic_answer(article, act.conversation.channel, contact.name if contact else ""))
        return [f"answered with “{article.title}”"]


@register
class Note(Effect):
    kind, label, order = "note", _("add an internal note"), 100
    params = (Param("text", _("text")),)

    def clean(self, action: dict, trigger: str) -> dict:
        return _clean_text(action)

    def perform(self, action: dict, act: Act) -> list[str]:
        inbox.add_note(act.conversation, bot_user(), fill(action["text"], act.conversation))
        return ["internal note"]
