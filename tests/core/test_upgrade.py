"""A database made by the release before the restructuring migrates forward without losing anything.

The schema is taken back to the migrations that release shipped (connectors 0003, listening 0001,
understanding 0001), filled through the models as they were then (feed states on listening, the analysis
of posts in columns of the post, MessageAnalysis), and migrated forward to today.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

OLD = [("connectors", "0003_channel_kinds_polling"), ("listening", "0001_initial"),
       ("understanding", "0001_initial"), ("inbox", "0002_message_fulltext"), ("crm", "0001_initial")]
WHEN = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_a_database_of_the_previous_release_migrates_forward():
    old = _migrate(OLD)
    Channel = old.get_model("connectors", "Channel")
    FeedState = old.get_model("listening", "FeedState")
    Post = old.get_model("listening", "Post")
    Contact = old.get_model("crm", "Contact")
    Conversation = old.get_model("inbox", "Conversation")
    Message = old.get_model("inbox", "Message")
    MessageAnalysis = old.get_model("understanding", "MessageAnalysis")

    feed = Channel.objects.create(kind="feed", name="Blogs", slug="blogs", settings={})
    api = Channel.objects.create(kind="api", name="Shop", slug="shop", settings={})
    FeedState.objects.create(channel=feed, url="https://blog.example/feed.xml", title="Blog", etag='"v7"',
                             last_modified="Wed, 06 Mar 2024 11:00:00 GMT", entries_seen=12, consecutive_errors=1,
                             last_error="HTTP 503", last_error_at=WHEN)
    read = Post.objects.create(
        channel=feed, external_id="p1", title="Kaputt", text="Der Kocher ist kaputt.", fetched_at=WHEN,
        language="de", sentiment="negative", sentiment_score=-0.8, relevance=0.9, intent_labels="complaint,outage",
        analysis={"sentiment": {"confidence": 0.93}, "urgency": 0.4, "model_version": "seed-1",
                  "complexity": {"label": "simple", "bot_answerable": False}}, analyzed_at=WHEN)
    unread = Post.objects.create(channel=feed, external_id="p2", text="Noch nicht gelesen", fetched_at=WHEN)
    contact = Contact.objects.create(name="Kundin")
    conversation = Conversation.objects.create(channel=api, contact=contact, created_at=WHEN, last_activity_at=WHEN)
    message = Message.objects.create(conversation=conversation, channel=api, direction="inbound", external_id="m1",
                                     text="Hallo", pipeline_state="done")
    MessageAnalysis.objects.create(message=message, language="de", sentiment="neutral", sentiment_score=0.0,
                                   sentiment_confidence=0.7, intent_labels=",question,", urgency=0.1,
                                   complexity="simple", bot_answerable=True, relevance=1.0, result={},
                                   model_version="seed-1")

    new = _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    SourceState = new.get_model("connectors", "SourceState")
    Analysis = new.get_model("understanding", "Analysis")
    NewPost = new.get_model("listening", "Post")
    state = SourceState.objects.get(channel_id=feed.pk)
    assert state.key == "https://blog.example/feed.xml" and state.cursor["etag"] == '"v7"'
    assert state.items_seen == 12 and state.consecutive_errors == 1 and state.last_error == "HTTP 503"
    post_analysis = Analysis.objects.get(post_id=read.pk)
    assert post_analysis.message_id is None and post_analysis.sentiment == "negative"
    assert post_analysis.intent_labels == ",complaint,outage," and post_analysis.relevance == 0.9
    assert post_analysis.sentiment_confidence == 0.93 and post_analysis.model_version == "seed-1"
    assert post_analysis.analyzed_at == WHEN
    assert not Analysis.objects.filter(post_id=unread.pk).exists()
    assert NewPost.objects.get(pk=read.pk).pipeline_state == "done"
    assert NewPost.objects.get(pk=unread.pk).pipeline_state == "pending"  # the pipeline reads it now
    message_analysis = Analysis.objects.get(message_id=message.pk)
    assert message_analysis.intent_labels == ",question," and message_analysis.post_id is None
    assert new.get_model("connectors", "Channel").objects.get(pk=feed.pk).kind == "feed"
