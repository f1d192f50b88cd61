"""The Bluesky channel end to end against the real reference PDS + AppView (and the lexicon-shaped chat
service): connect, a customer's mention becomes a conversation, the agent's signed reply is read back as the
customer, the customer's answer threads back; direct messages; long replies as threads posted once;
listening with the author's followers as reach.

Customers act through plain XRPC calls (`bluesky.post`, `bluesky.xrpc`); the company only through Resonanz.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from resonanz.connectors.actions import check_channel, create_channel
from resonanz.connectors.tasks import poll_channel
from resonanz.crm.models import Identity
from resonanz.inbox.actions import send_reply
from resonanz.inbox.delivery import deliver
from resonanz.inbox.models import Message
from resonanz.listening.models import Post
from tests.connectors.social.images import png


def mention_facet(text: str, handle: str, did: str) -> dict:
    start = text.encode().index(f"@{handle}".encode())
    return {"index": {"byteStart": start, "byteEnd": start + len(handle.encode()) + 1},
            "features": [{"$type": "app.bsky.richtext.facet#mention", "did": did}]}


@pytest.fixture(scope="module")
def people(bluesky):
    """The shop's account (name, avatar) and a customer whom the shop follows (so she has a follower)."""
    shop, karla = bluesky.create_account("laden.test"), bluesky.create_account("karla.test")
    blob = bluesky.xrpc("com.atproto.repo.uploadBlob", shop, body=png(), content_type="image/png")["blob"]
    bluesky.xrpc("com.atproto.repo.putRecord", shop, data={
        "repo": shop.did, "collection": "app.bsky.actor.profile", "rkey": "self",
        "record": {"$type": "app.bsky.actor.profile", "displayName": "Fahrradladen", "avatar": blob}})
    bluesky.xrpc("com.atproto.repo.putRecord", karla, data={
        "repo": karla.did, "collection": "app.bsky.actor.profile", "rkey": "self",
        "record": {"$type": "app.bsky.actor.profile", "displayName": "Karla Kunde",
                   "description": "Radfahrerin aus Köln"}})
    bluesky.xrpc("com.atproto.repo.createRecord", shop, data={
        "repo": shop.did, "collection": "app.bsky.graph.follow",
        "record": {"$type": "app.bsky.graph.follow", "subject": karla.did,
                   "createdAt": datetime.now(UTC).isoformat()}})
    return shop, karla


@pytest.fixture
def channel(db, settings, bluesky, people):
    settings.RESONANZ_OUTBOUND_ALLOW = ["127.0.0.1", "localhost"]
    shop, _ = people
    return create_channel(kind="bluesky", name="Laden auf Bluesky",
                          settings={"service_url": bluesky.pds_url, "identifier": "laden.test",
                                    "chat_proxy": bluesky.chat_proxy, "listen": ["Zauberrad"]},
                          credentials={"app_password": shop.password})


def mention(bluesky, people, text: str, **kwargs) -> dict:
    shop, karla = people
    return bluesky.post(karla, text, facets=[mention_facet(text, "laden.test", shop.did)], **kwargs)


def arrived(bluesky, channel, external_id: str) -> Message:
    """Poll the channel until the AppView has indexed the post and Resonanz stored it."""
    def stored():
        poll_channel(channel)
        return Message.objects.filter(channel=channel, external_id=external_id).first()
    return bluesky.wait_for(stored, what=f"{external_id} to arrive")


def own_posts(bluesky, did: str) -> list[dict]:
    return bluesky.xrpc("com.atproto.repo.listRecords", params={
        "repo": did, "collection": "app.bsky.feed.post", "limit": 100})["records"]


def test_check_connection_shows_handle_and_avatar_and_keeps_the_password_encrypted(channel, bluesky, people):
    ok, detail = bluesky.wait_for(lambda: (r := check_channel(channel))[0] and r)
    assert "@laden.test" in detail and "Fahrradladen" in detail
    account = bluesky.wait_for(lambda: check_channel(channel) and channel.driver.connected_account()["avatar_url"]
                               and channel.driver.connected_account())
    assert account["handle"] == "laden.test" and account["avatar_url"].startswith("http")
    assert people[0].password not in channel.credentials_encrypted
    bad = create_channel(kind="bluesky", name="falsch", settings={**channel.settings},
                         credentials={"app_password": "falsch-falsch"})
    ok, detail = check_channel(bad)
    assert not ok and "credentials" in detail.lower()


def test_mention_signed_reply_read_by_the_customer_and_her_answer_threads_back(
        channel, bluesky, people, agent_user, django_capture_on_commit_callbacks):
    shop, karla = people
    question = mention(bluesky, people, "@laden.test Mein Rad quietscht, was tun?", langs=["de"])
    message = arrived(bluesky, channel, question["uri"])
    assert message.is_public and message.meta["cid"] == question["cid"]
    conversation = message.conversation
    identity = Identity.objects.get(contact=conversation.contact, kind="bluesky")
    assert identity.handle == "karla.test" and identity.profile.get("bio") == "Radfahrerin aus Köln"

    with django_capture_on_commit_callbacks(execute=True):
        sent = send_reply(conversation, agent_user, "Etwas Öl auf die Kette, dann ist Ruhe.")
    sent.refresh_from_db()
    assert sent.delivery_status == "sent", sent.delivery_detail
    record = bluesky.xrpc("com.atproto.repo.getRecord", params={
        "repo": shop.did, "collection": "app.bsky.feed.post", "rkey": sent.external_id.rsplit("/", 1)[1]})["value"]
    assert record["text"] == "@karla.test Etwas Öl auf die Kette, dann ist Ruhe. ^BB"
    assert record["reply"]["parent"]["uri"] == question["uri"] == record["reply"]["root"]["uri"]
    assert record["facets"][0]["features"][0]["did"] == karla.did
    # the customer sees it in her notifications, as in her app
    bluesky.wait_for(lambda: [n for n in bluesky.xrpc("app.bsky.notification.listNotifications", karla)
                              ["notifications"] if n["uri"] == sent.external_id])

    answer = bluesky.post(karla, "Danke, hat geholfen!", reply={
        "root": {"uri": question["uri"], "cid": question["cid"]},
        "parent": {"uri": sent.external_id, "cid": bluesky.xrpc("com.atproto.repo.getRecord", params={
            "repo": shop.did, "collection": "app.bsky.feed.post",
            "rkey": sent.external_id.rsplit("/", 1)[1]})["cid"]}})
    threaded = arrived(bluesky, channel, answer["uri"])
    assert threaded.conversation_id == conversation.pk and threaded.in_reply_to == sent.external_id


def test_a_long_reply_is_a_thread_within_300_graphemes_and_a_retry_posts_nothing_twice(
        channel, bluesky, people, agent_user, django_capture_on_commit_callbacks):
    shop, _ = people
    question = mention(bluesky, people, "@laden.test Wie pflege ich mein Rad im Winter?")
    conversation = arrived(bluesky, channel, question["uri"]).conversation
    text = " ".join(["Nach jeder Fahrt durch Salz die Kette abspülen und trocknen lassen."] * 4
                    + ["Einmal im Monat ölen, bei Nässe öfter. Das Licht vor jeder Fahrt prüfen."] * 3)
    before = len(own_posts(bluesky, shop.did))
    with django_capture_on_commit_callbacks(execute=True):
        sent = send_reply(conversation, agent_user, text)
    sent.refresh_from_db()
    assert sent.delivery_status == "sent", sent.delivery_detail
    posts = own_posts(bluesky, shop.did)
    parts = [r["value"]["text"] for r in posts if re.match(r"@karla\.test \d+/\d+ ", r["value"]["text"])]
    assert len(posts) - before == len(parts) >= 2
    assert all(len(p) <= 300 for p in parts)
    assert sum(p.endswith("^BB") for p in parts) == 1
    # the sweep delivers the same message again (as after a timeout): the stored parts are found, none repeated
    Message.objects.filter(pk=sent.pk).update(delivery_status="queued")
    again = deliver(Message.objects.get(pk=sent.pk))
    assert again.delivery_status == "sent" and again.external_id == sent.external_id
    assert len(own_posts(bluesky, shop.did)) == len(posts)


def test_a_direct_message_is_a_private_conversation_answered_in_the_chat(
        channel, bluesky, people, agent_user, django_capture_on_commit_callbacks):
    shop, karla = people
    proxy = {"atproto-proxy": bluesky.chat_proxy}
    poll_channel(channel)
    convo = bluesky.xrpc("chat.bsky.convo.getConvoForMembers", karla, headers=proxy,
                         params={"members": [shop.did]})["convo"]
    bluesky.xrpc("chat.bsky.convo.sendMessage", karla, headers=proxy,
                 data={"convoId": convo["id"], "message": {"text": "Meine Bestellnummer ist 4711"}})
    poll_channel(channel)
    message = Message.objects.get(channel=channel, text="Meine Bestellnummer ist 4711")
    assert not message.is_public and message.meta["convo_id"] == convo["id"]
    with django_capture_on_commit_callbacks(execute=True):
        sent = send_reply(message.conversation, agent_user, "Danke, Ihr Paket ist unterwegs.")
    sent.refresh_from_db()
    assert sent.delivery_status == "sent", sent.delivery_detail
    read = bluesky.xrpc("chat.bsky.convo.getMessages", karla, headers=proxy,
                        params={"convoId": convo["id"]})["messages"]
    assert read[0]["text"] == "Danke, Ihr Paket ist unterwegs. ^BB" and read[0]["sender"]["did"] == shop.did


def test_listening_brings_posts_with_reach_into_the_stream_not_the_inbox(channel, bluesky, people):
    _, karla = people
    post = bluesky.post(karla, "Mein neues Zauberrad fährt wie von selbst", langs=["de"])
    found = bluesky.wait_for(lambda: poll_channel(channel) is not None
                             and Post.objects.filter(channel=channel, external_id=post["uri"]).first())
    assert found.author == "Karla Kunde" and found.author_handle == "karla.test"
    assert found.reach == 1 and found.published_at is not None
    assert found.link.endswith(post["uri"].rsplit("/", 1)[1]) and found.source == "bluesky:Zauberrad"
    assert not Message.objects.filter(channel=channel, external_id=post["uri"]).exists()


def test_an_image_in_the_reply_carries_its_alt_text(
        channel, bluesky, people, agent_user, django_capture_on_commit_callbacks):
    shop, _ = people
    question = mention(bluesky, people, "@laden.test Wo klebe ich das Etikett hin?")
    conversation = arrived(bluesky, channel, question["uri"]).conversation
    with django_capture_on_commit_callbacks(execute=True):
        sent = send_reply(conversation, agent_user, "Oben links, wie hier.", images=[{
            "filename": "etikett.png", "content_type": "image/png", "content": png(8, 6),
            "alt": "Paket mit dem Etikett oben links"}])
    sent.refresh_from_db()
    assert sent.delivery_status == "sent", sent.delivery_detail
    record = bluesky.xrpc("com.atproto.repo.getRecord", params={
        "repo": shop.did, "collection": "app.bsky.feed.post", "rkey": sent.external_id.rsplit("/", 1)[1]})["value"]
    assert record.get("embed", {}).get("images"), (record, sent.delivery_detail, list(sent.attachments.values()))
    assert record["embed"]["images"][0]["alt"] == "Paket mit dem Etikett oben links"


def test_replies_under_two_of_our_posts_are_two_conversations_with_the_root_as_context(
        channel, bluesky, people, agent_user, django_capture_on_commit_callbacks):
    shop, karla = people
    launch = bluesky.post(shop, "Das neue Trekkingrad ist da!")
    hours = bluesky.post(shop, "Neue Öffnungszeiten ab Mai")

    def ref(post: dict) -> dict:
        return {"uri": post["uri"], "cid": post["cid"]}

    def indexed(*posts: dict) -> None:
        """The AppView notifies the author of a post only about replies to posts it has indexed already."""
        bluesky.wait_for(lambda: len(bluesky.xrpc("app.bsky.feed.getPosts", karla, params={
            "uris": [p["uri"] for p in posts]})["posts"]) == len(posts), what="the posts to be indexed")

    indexed(launch, hours)
    price = bluesky.post(karla, "Was kostet es?", reply={"root": ref(launch), "parent": ref(launch)})
    indexed(price)
    color = bluesky.post(karla, "Und in Rot?", reply={"root": ref(launch), "parent": ref(price)})
    sunday = bluesky.post(karla, "Auch sonntags?", reply={"root": ref(hours), "parent": ref(hours)})
    on_hours = arrived(bluesky, channel, sunday["uri"]).conversation
    on_launch = arrived(bluesky, channel, price["uri"]).conversation
    assert arrived(bluesky, channel, color["uri"]).conversation_id == on_launch.pk
    assert on_hours.pk != on_launch.pk and on_hours.contact_id == on_launch.contact_id
    assert (on_launch.thread_key, on_hours.thread_key) == (launch["uri"], hours["uri"])
    context = Message.objects.get(external_id=color["uri"]).meta["post"]
    assert context["text"] == "Das neue Trekkingrad ist da!" and "@laden.test" in context["author"]
    with django_capture_on_commit_callbacks(execute=True):
        sent = send_reply(on_hours, agent_user, "Sonntags geschlossen.")
    sent.refresh_from_db()
    assert sent.delivery_status == "sent", sent.delivery_detail
    record = bluesky.xrpc("com.atproto.repo.getRecord", params={
        "repo": shop.did, "collection": "app.bsky.feed.post", "rkey": sent.external_id.rsplit("/", 1)[1]})["value"]
    assert record["reply"]["parent"]["uri"] == sunday["uri"] and record["reply"]["root"]["uri"] == hours["uri"]
