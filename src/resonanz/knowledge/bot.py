"""The virtual agent: answers simple factual questions from the knowledge base, hands everything else to people.

Automation for the factual, people for the emotional: the bot answers only when text
understanding calls the message simple and the best article's calibrated confidence
passes the channel's threshold for the message's intent.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from resonanz.connectors.drivers import get_driver
from resonanz.inbox import actions as inbox
from resonanz.inbox.models import Conversation, Message, Team
from resonanz.knowledge.actions import record_feedback
from resonanz.knowledge.models import Article

BOT_USERNAME = "bot@resonanz.invalid"
ANSWERED_TAG = "answered-automatically"
HANDOVER_TAG = "bot-handover"
WANTS_PERSON = re.compile(
    r"\b(mitarbeiter\w*|mensch\w*|menschlich\w*|person|persönlich\w*|echte[nrm]?|berater\w*|sachbearbeiter\w*|"
    r"human|agent|operator|representative|real person|someone real|talk to (a|an|someone))\b", re.I)
NEVER = {"legal_threat", "complaint", "churn_risk", "outage", "spam"}
OUT_OF_SCOPE = "out_of_scope"
OUT_OF_SCOPE_REASON = "the request belongs to none of the intents the bot was taught"
DEFAULTS = {"enabled": True, "threshold": 0.9, "intent_thresholds": {"question": 0.9}, "max_urgency": 0.7}


def channel_policy(channel) -> dict:
    """The channel's automatic-answer settings (Channel.settings["auto_answer"]) over the defaults."""
    policy = {**DEFAULTS, **(channel.settings or {}).get("auto_answer", {})}
    policy["intent_thresholds"] = {**DEFAULTS["intent_thresholds"], **policy.get("intent_thresholds", {})}
    return policy


def bot_user():
    """The virtual agent's account: replies and notes of the bot and of rules carry it."""
    return inbox.ensure_bot_user(BOT_USERNAME, "Resonanz Bot")


def plain(markdown: str) -> str:
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", markdown)
    text = re.sub(r"\[([^\]]+)\]\(([^)]+)\)", r"\1 (\2)", text)
    text = re.sub(r"^#{1,6}\s*", "", text, flags=re.M)
    text = re.sub(r"(\*\*|__|\*|_|`)", "", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def fit_to_channel(article: Article, channel, *, limit_social: int = 240) -> str:
    """The article as a reply: in full for email, API and forms; one short plain paragraph on social channels."""
    link = f"{settings.RESONANZ_BASE_URL.rstrip('/')}/help/{article.language}/{article.pk}-{article.slug}/"
    text = plain(article.body)
    if get_driver(channel).public:
        first = text.split("\n\n")[0].replace("\n", " ")
        if len(first) > limit_social:
            first = first[: limit_social - 1].rsplit(" ", 1)[0] + "…"
        return f"{first} {link}"
    return f"{text}\n\n{link}"


def automatic_answer(article: Article, channel, name: str = "") -> str:
    """What the customer gets from the virtual agent (or a rule's article answer), in the article's language:
    a greeting, the answer, the article's link, and a line that says it was automatic and how to reach a person.
    On public channels the short form keeps only a marker, to stay within the network's length."""
    first_name = (name or "").split()[0] if (name or "").strip() and "@" not in name else ""
    with translation.override(article.language):
        if get_driver(channel).public:
            marker = _("(automatic answer)")
            return f"{fit_to_channel(article, channel, limit_social=240 - len(marker) - 1)} {marker}"
        greeting = _("Hello %(name)s,") % {"name": first_name} if first_name else _("Hello,")
        footer = _("This is an automatic answer from our help center. If it does not help, simply reply to this "
                   "message and a person from our team will take over.")
        return f"{greeting}\n\n{fit_to_channel(article, channel)}\n\n{footer}"


def out_of_scope(analysis) -> bool:
    """The engine's "everything else" signal (resonanz.analysis.outofscope), the one `resonanz eval` measures."""
    if analysis is None:
        return False
    return bool(((analysis.result or {}).get("intents") or {}).get("out_of_scope"))


def decide(message: Message, analysis, answer, results) -> tuple[str, Article | None]:
    """Why the bot answers or not, as a short code shown on the conversation ("answered", "needs_person", …).

    ``OUT_OF_SCOPE`` means the request belongs to no intent the model was taught: the caller hands the
    conversation over (an article that merely resembles the request would be a confident wrong answer)."""
    conversation = message.conversation
    policy = channel_policy(message.channel)
    if not policy["enabled"]:
        return "switched_off", None
    if message.is_public:
        return "public_post", None
    if (message.meta or {}).get("noise"):
        return "noise", None  # auto-replies and notices are never answered: loops
    human_replied = Message.objects.filter(conversation=conversation, direction="outbound").exclude(
        author_user__agent__is_bot=True).exists()
    if human_replied or conversation.tags.filter(name=HANDOVER_TAG).exists():
        return "person_in_charge", None
    if analysis is None:
        return "no_analysis", None
    intents = set(analysis.intents)
    if intents & NEVER:
        return "needs_person:" + ",".join(sorted(intents & NEVER)), None
    if analysis.sentiment == "negative":
        return "needs_person:negative", None
    if analysis.urgency >= policy["max_urgency"]:
        return "needs_person:urgent", None
    if out_of_scope(analysis):
        return OUT_OF_SCOPE, None
    if not analysis.bot_answerable:
        return "needs_person:complex", None
    if answer is None or not results:
        return "no_article", None
    threshold = min([policy["intent_thresholds"].get(i, policy["threshold"]) for i in intents] or
                    [policy["threshold"]])
    if answer.confidence < threshold:
        return f"low_confidence:{answer.confidence:.2f}<{threshold:.2f}", None
    article = next((r.article for r in results if str(r.article.pk) == answer.doc_id), None)
    if article is None or article.visibility != Article.Visibility.PUBLIC:
        return "internal_article", None
    if analysis.language in ("de", "en") and article.language != analysis.language:
        translation = article.translations().filter(language=analysis.language, status="published",
                                                    visibility="public").first()
        if translation is None:
            return "no_article_in_language", None
        article = translation
    return "answered", article


#: decisions ``decide`` reaches only after every check of the message passed: the article ranking made them
RANKED = ("answered", "no_article", "low_confidence", "internal_article", "no_article_in_language")


def ranking_decides(decision: str) -> bool:
    """Did the ranking (not the message, its analysis or the conversation) decide? Then it must be the encoder's."""
    return decision.split(":", 1)[0] in RANKED


def wants_handover(message: Message, analysis) -> str:
    """A reason to hand over when the bot has answered in this conversation before, else ''."""
    bot_answered = Message.objects.filter(conversation=message.conversation, direction="outbound",
                                          author_user__agent__is_bot=True).exists()
    if WANTS_PERSON.search(message.text or ""):
        return "the customer asked for a person"
    if bot_answered and analysis is not None and analysis.sentiment == "negative":
        return "the customer is still unhappy after the automatic answer"
    return ""


def answer(message: Message, article: Article, confidence: float) -> Message:
    contact = message.conversation.contact
    reply = inbox.send_reply(message.conversation, bot_user(),
                             automatic_answer(article, message.channel, contact.name if contact else ""),
                             meta={"auto_answer": {"article_id": article.pk, "confidence": round(confidence, 4)}})
    tags = list(message.conversation.tags.values_list("name", flat=True))
    inbox.update_conversation(message.conversation, None, tags=sorted(set(tags) | {ANSWERED_TAG}),
                              reason=f"answered automatically with “{article.title}” (confidence {confidence:.2f})")
    inbox.record(message.conversation, "auto_answered", message_id=reply.pk, article_id=article.pk,
                 confidence=round(confidence, 4),
                 reason=f"article “{article.title}”, confidence {confidence:.2f}")
    return reply


def hand_over(message: Message, reason: str) -> None:
    """To the conversation's team (or the channel's, or Support), visible with the bot's exchange above it."""
    conversation = Conversation.objects.get(pk=message.conversation_id)
    team = conversation.team or message.channel.default_team or Team.objects.filter(name="Support").first()
    tags = set(conversation.tags.values_list("name", flat=True)) | {HANDOVER_TAG}
    inbox.update_conversation(conversation, None, team=team, status="open", tags=sorted(tags),
                              priority=max(conversation.priority, Conversation.Priority.NORMAL),
                              reason=f"handed over by the bot: {reason}")
    inbox.record(conversation, "handed_over", reason=reason)
    last = (Message.objects.filter(conversation=conversation, direction="outbound", author_user__agent__is_bot=True)
            .order_by("-id").first())
    article_id = (last.meta or {}).get("auto_answer", {}).get("article_id") if last else None
    article = Article.objects.filter(pk=article_id).first() if article_id else None
    if article is not None:
        first_question = (Message.objects.filter(conversation=conversation, direction="inbound")
                          .order_by("id").values_list("text", flat=True).first())
        record_feedback(article, False, query=first_question or "", source="bot_handover")
