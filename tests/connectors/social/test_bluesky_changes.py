"""Bluesky against the real PDS + AppView: a customer's deleted (or rewritten) post reaches what Resonanz stored,
and the images of a mention arrive as attachments with their alt text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from resonanz.connectors.actions import create_channel
from resonanz.connectors.models import SourceState
from resonanz.connectors.tasks import poll_channel
from resonanz.inbox.models import Message
from resonanz.listening.models import Post
from tests.connectors.social.images import png


def mention_facet(text: str, handle: str, did: str) -> dict:
    start = text.encode().index(f"@{handle}".encode())
    return {"index": {"byteStart": start, "byteEnd": start + len(handle.encode()) + 1},
            "features": [{"$type": "app.bsky.richtext.facet#mention", "did": did}]}


@pytest.fixture(scope="module")
def people(bluesky):
    return bluesky.create_account("werkstatt.test"), bluesky.create_account("emil.test")


@pytest.fixture
def channel(db, settings, bluesky, people):
    settings.RESONANZ_OUTBOUND_ALLOW = ["127.0.0.1", "localhost"]
    shop, _ = people
    return create_channel(kind="bluesky", name="Werkstatt auf Bluesky",
                          settings={"service_url": bluesky.pds_url, "identifier": "werkstatt.test",
                                    "chat_proxy": bluesky.chat_proxy, "listen": ["Speichenbruch"],
                                    "direct_messages": False},
                          credentials={"app_password": shop.password})


def mention(bluesky, people, text: str, **record) -> dict:
    shop, emil = people
    body = {"$type": "app.bsky.feed.post", "text": text, "createdAt": datetime.now(UTC).isoformat(),
            "facets": [mention_facet(text, "werkstatt.test", shop.did)], **record}
    return bluesky.xrpc("com.atproto.repo.createRecord", emil, data={
        "repo": emil.did, "collection": "app.bsky.feed.post", "record": body})


def arrived(bluesky, channel, uri: str) -> Message:
    def stored():
        poll_channel(channel)
        return Message.objects.filter(channel=channel, external_id=uri).first()
    return bluesky.wait_for(stored, what=f"{uri} to arrive")


def test_a_deleted_mention_and_a_deleted_listened_post_reach_resonanz(channel, bluesky, people):
    _, emil = people
    question = mention(bluesky, people, "@werkstatt.test Speiche gebrochen, habt ihr Zeit?")
    message = arrived(bluesky, channel, question["uri"])
    listened = bluesky.post(emil, "Schon wieder Speichenbruch am Hinterrad")
    bluesky.wait_for(lambda: poll_channel(channel) is not None
                     and Post.objects.filter(channel=channel, external_id=listened["uri"]).exists())
    assert "deleted_at" not in (message.meta or {})
    for created in (question, listened):
        bluesky.xrpc("com.atproto.repo.deleteRecord", emil, data={
            "repo": emil.did, "collection": "app.bsky.feed.post", "rkey": created["uri"].rsplit("/", 1)[1]})

    def applied():
        poll_channel(channel)
        message.refresh_from_db()
        return message.meta.get("deleted_at") and not Post.objects.filter(external_id=listened["uri"]).exists()
    bluesky.wait_for(applied, what="the deletions to reach Resonanz")
    events = list(message.conversation.events.values_list("kind", flat=True))
    assert "message_deleted_at_source" in events
    watched = SourceState.objects.get(channel=channel, key="recheck").cursor["since"]["posts"]
    assert question["uri"] not in watched and listened["uri"] not in watched
    poll_channel(channel)  # looking again changes nothing
    assert list(message.conversation.events.values_list("kind", flat=True)).count("message_deleted_at_source") == 1


def test_a_rewritten_post_updates_the_stored_message(channel, bluesky, people):
    _, emil = people
    question = mention(bluesky, people, "@werkstatt.test Termin am Montag?")
    message = arrived(bluesky, channel, question["uri"])
    rkey = question["uri"].rsplit("/", 1)[1]
    text = "@werkstatt.test Termin am Dienstag?"
    bluesky.xrpc("com.atproto.repo.putRecord", emil, data={
        "repo": emil.did, "collection": "app.bsky.feed.post", "rkey": rkey,
        "record": {"$type": "app.bsky.feed.post", "text": text, "createdAt": datetime.now(UTC).isoformat(),
                   "facets": [mention_facet(text, "werkstatt.test", people[0].did)]}})

    def edited():
        poll_channel(channel)
        message.refresh_from_db()
        return "Dienstag" in message.text
    bluesky.wait_for(edited, what="the edit to reach Resonanz")
    assert message.meta["original_text"].endswith("Termin am Montag?")


def test_images_of_a_mention_arrive_with_alt_text(channel, bluesky, people):
    _, emil = people
    blob = bluesky.xrpc("com.atproto.repo.uploadBlob", emil, body=png(5, 5), content_type="image/png")["blob"]
    question = mention(bluesky, people, "@werkstatt.test So sieht die Felge aus", embed={
        "$type": "app.bsky.embed.images", "images": [{"image": blob, "alt": "Verbogene Felge, Vorderrad"}]})
    message = arrived(bluesky, channel, question["uri"])
    attachment = message.attachments.get()
    assert attachment.alt_text == "Verbogene Felge, Vorderrad" and attachment.content_type == "image/png"
    assert not attachment.missing, attachment.missing
    with attachment.file.open("rb") as handle:
        assert handle.read() == png(5, 5)


def test_the_accounts_blocked_on_bluesky_are_read_from_the_appview(channel, bluesky, people):
    shop, _ = people
    rowdy = bluesky.create_account("rempel.test")
    bluesky.xrpc("com.atproto.repo.createRecord", shop, data={
        "repo": shop.did, "collection": "app.bsky.graph.block",
        "record": {"$type": "app.bsky.graph.block", "subject": rowdy.did, "createdAt": datetime.now(UTC).isoformat()}})
    client = channel.driver.client()
    blocked = bluesky.wait_for(lambda: [p for p in client.blocked_and_muted() if p.external_id == rowdy.did],
                               what="the block to be indexed")
    assert blocked[0].handle == "rempel.test"
    driver = channel.driver
    driver.load_blocked(client)
    assert not driver.keep(blocked[0], shop.did)
    assert driver.keep(client.get_profile("emil.test"), shop.did)
