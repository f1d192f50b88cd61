"""Posts, the listening stream page and turning a post into a conversation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client

from resonanz.connectors.actions import create_channel
from resonanz.core.errors import ActionError
from resonanz.core.pipeline import run_until_empty
from resonanz.inbox.models import Conversation, Message
from resonanz.listening.actions import InboundPost, ingest_post, turn_into_conversation
from resonanz.listening.models import Post
from resonanz.understanding.models import Analysis

pytestmark = pytest.mark.django_db


@pytest.fixture
def feed(db):
    return create_channel(kind="feed", name="Blogs", settings={"feeds": []})


def add(channel, external_id, text, **kw):
    return ingest_post(channel, InboundPost(external_id=external_id, text=text, source="https://blog.example/feed",
                                            source_title="Blog", **kw)).post


def test_ingest_post_is_idempotent_and_updates_changed_posts(feed):
    first = ingest_post(feed, InboundPost(external_id="e1", title="T", text="Text", published_at=datetime(2024, 1, 1, tzinfo=UTC)))
    assert first.status == "created"
    assert ingest_post(feed, InboundPost(external_id="e1", title="T", text="Text")).status == "unchanged"
    changed = ingest_post(feed, InboundPost(external_id="e1", title="T", text="Neuer Text"))
    assert changed.status == "updated" and changed.post.pk == first.post.pk and changed.post.text == "Neuer Text"
    assert Post.objects.count() == 1
    with pytest.raises(ActionError):
        ingest_post(feed, InboundPost(external_id="e2"))
    with pytest.raises(ActionError):
        ingest_post(feed, InboundPost(external_id=" ", text="x"))


def test_stream_needs_login_and_filters(feed, agent_user):
    bad = add(feed, "a", "Der Kundenservice ist eine Katastrophe, ich bin wütend und enttäuscht.", title="Ärger")
    good = add(feed, "b", "Great kettle, I love it, wonderful and excellent!", title="Lob", author="Ria")
    other = create_channel(kind="feed", name="Foren", settings={})
    add(other, "c", "Neutraler Beitrag über Wasserkocher", title="Forum")
    run_until_empty()
    assert Client().get("/listening/").status_code == 302  # login required
    client = Client()
    client.force_login(agent_user)
    page = client.get("/listening/").content.decode()
    assert "Ärger" in page and "Lob" in page and "Forum" in page
    german = client.get("/listening/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "In Konversation umwandeln" in german and "Beiträge durchsuchen" in german
    assert "Lob" not in client.get("/listening/", {"q": "Kundenservice"}).content.decode()
    assert "Forum" not in client.get("/listening/", {"channel": feed.pk}).content.decode()
    bad.refresh_from_db()
    good.refresh_from_db()
    by_sentiment = client.get("/listening/", {"sentiment": good.analysis.sentiment}).content.decode()
    assert "Lob" in by_sentiment
    if bad.analysis.sentiment != good.analysis.sentiment:
        assert "Ärger" not in by_sentiment
    Analysis.objects.filter(post=good).update(relevance=0.9)
    Analysis.objects.exclude(post=good).update(relevance=0.1)
    relevant = client.get("/listening/", {"relevance": "0.5"}).content.decode()
    assert "Lob" in relevant and "Ärger" not in relevant
    assert client.get("/listening/", {"relevance": "abc", "page": "x"}).status_code == 200


def test_english_ui(feed, admin_user):
    add(feed, "a", "Some text", title="Hello")
    client = Client()
    client.force_login(admin_user)
    page = client.get("/listening/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Turn into conversation" in page and "Listening" in page


def test_turn_into_conversation_creates_a_public_inbound_message_once(feed, agent_user):
    post = add(feed, "a", "Mein Wasserkocher ist kaputt.", title="Kaputt", author="Jana",
               author_handle="https://blog.example/u/jana", link="https://blog.example/p/1")
    client = Client()
    client.force_login(agent_user)
    assert client.get(f"/listening/posts/{post.pk}/convert/").status_code == 405
    response = client.post(f"/listening/posts/{post.pk}/convert/")
    post.refresh_from_db()
    assert post.conversation is not None
    assert response.status_code == 302 and response["Location"] == f"/inbox/conversations/{post.conversation.pk}/"
    message = Message.objects.get(conversation=post.conversation)
    assert message.is_public and message.direction == "inbound" and "kaputt" in message.text
    assert message.meta["link"] == "https://blog.example/p/1"
    assert post.conversation.events.filter(kind="post_turned_into_conversation", actor=agent_user).exists()
    client.post(f"/listening/posts/{post.pk}/convert/")
    assert turn_into_conversation(post, agent_user) == post.conversation
    assert Conversation.objects.count() == 1 and Message.objects.count() == 1
    assert "RZ-" in client.get("/listening/").content.decode()
