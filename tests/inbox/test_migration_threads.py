"""Inbox migration 0009: stored public conversations get the thread their first customer message names."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE, AFTER = [("inbox", "0008_early_receipt")], [("inbox", "0009_conversation_thread_key")]
WHEN = datetime(2026, 11, 29, 9, 30, tzinfo=UTC)


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_stored_public_conversations_get_their_post_as_thread():
    old = _migrate(BEFORE)
    Channel = old.get_model("connectors", "Channel")
    Contact = old.get_model("crm", "Contact")
    Conversation = old.get_model("inbox", "Conversation")
    Message = old.get_model("inbox", "Message")
    meta_channel = Channel.objects.create(kind="messenger", name="Seite", slug="seite", settings={})
    sky = Channel.objects.create(kind="bluesky", name="Sky", slug="sky", settings={})
    kim = Contact.objects.create(name="Kim")

    def conversation(channel, public: bool, meta: dict, in_reply_to: str = "") -> int:
        conv = Conversation.objects.create(channel=channel, contact=kim, subject="s", created_at=WHEN,
                                           last_activity_at=WHEN, is_public=public)
        Message.objects.create(conversation=conv, channel=channel, direction="inbound", text="t", sent_at=WHEN,
                               is_public=public, meta=meta, in_reply_to=in_reply_to,
                               external_id=f"e{conv.pk}")
        return conv.pk

    comment = conversation(meta_channel, True, {"meta": {"kind": "comment", "post_id": "204_1029"}})
    private = conversation(meta_channel, False, {"meta": {"platform": "page", "sender_id": "1"}})
    root = conversation(sky, True, {"network": "bluesky", "uri": "at://did:plc:k/app.bsky.feed.post/1"})
    reply = conversation(sky, True, {"network": "bluesky", "uri": "at://did:plc:k/app.bsky.feed.post/2"},
                         in_reply_to="at://did:plc:k/app.bsky.feed.post/1")
    try:
        new = _migrate(AFTER)
        keys = dict(new.get_model("inbox", "Conversation").objects.values_list("pk", "thread_key"))
        assert keys[comment] == "204_1029" and keys[root] == "at://did:plc:k/app.bsky.feed.post/1"
        assert keys[private] == "" and keys[reply] == ""  # a reply's root was not kept: joined by reply links
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
