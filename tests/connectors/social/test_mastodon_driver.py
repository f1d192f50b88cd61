"""The Mastodon channel end to end against the local Mastodon API server: connect, mentions into threaded
conversations, direct messages into private ones, signed replies split into threads, listening, backoff.

Customers act through the server's own controls (`mastodon.server.post`, as if they used any app); the
company only through Resonanz: the channel, `poll_channel`, `send_reply`.
"""

from __future__ import annotations

import pytest
from django.utils import translation

from resonanz.connectors.actions import check_channel, create_channel
from resonanz.connectors.models import SourceState
from resonanz.connectors.tasks import poll_channel
from resonanz.core.errors import ActionError
from resonanz.crm.models import Identity
from resonanz.inbox.actions import send_reply
from resonanz.inbox.models import Conversation, Message
from resonanz.listening.models import Post


@pytest.fixture
def local_servers(settings):
    settings.RESONANZ_OUTBOUND_ALLOW = ["127.0.0.1", "localhost"]


@pytest.fixture
def channel(db, mastodon, local_servers):
    return create_channel(kind="mastodon", name="Firma auf Mastodon",
                          settings={"server_url": mastodon.url, "listen": ["#fahrrad", "Lieferung"]},
                          credentials={"access_token": mastodon.firma_token})


def statuses_by(mastodon, username: str) -> list[dict]:
    return sorted((s for s in mastodon.server.statuses.values() if s["account"]["username"] == username),
                  key=lambda s: int(s["id"]))


def reply(conversation, agent, text: str, capture, **kwargs) -> Message:
    with capture(execute=True):  # delivery runs once the reply is committed
        message = send_reply(conversation, agent, text, **kwargs)
    message.refresh_from_db()
    return message


def test_check_connection_shows_the_account_and_learns_the_length_limit(channel, mastodon):
    mastodon.server.max_characters = 1000
    ok, detail = check_channel(channel)
    assert ok, detail
    assert "@firma@social.example" in detail and "Firma GmbH" in detail
    account = channel.driver.connected_account()
    assert account["handle"] == "firma@social.example" and account["avatar_url"].startswith("https://")
    assert channel.driver.reply_limit == 1000
    mastodon.server.revoke(mastodon.firma_token)
    ok, detail = check_channel(channel)
    assert not ok and "access token" in detail
    channel.refresh_from_db()
    assert not channel.healthy


def test_the_token_is_stored_encrypted(channel, mastodon):
    assert mastodon.firma_token not in channel.credentials_encrypted
    assert channel.credentials == {"access_token": mastodon.firma_token}


def test_mention_reply_and_the_customers_answer_share_one_conversation(
        channel, mastodon, agent_user, django_capture_on_commit_callbacks):
    server = mastodon.server
    assert poll_channel(channel) == 0  # nothing yet; the cursor is set
    mention = server.post(mastodon.kunde_token, "@firma mein Paket ist nicht angekommen! <script>alert(1)</script>")
    assert poll_channel(channel) == 1
    assert poll_channel(channel) == 0  # read once
    message = Message.objects.get(channel=channel, external_id=mention["id"])
    assert message.is_public and "<script" not in message.html and "Paket" in message.text
    conversation = message.conversation
    identity = Identity.objects.get(contact=conversation.contact, kind="mastodon")
    assert identity.handle == "kunde@social.example"
    assert identity.profile["followers"] == 87 and identity.profile["bio"] == "Radfahrerin aus Köln"

    sent = reply(conversation, agent_user, "Das tut uns leid, wir kümmern uns sofort darum.",
                 django_capture_on_commit_callbacks)
    assert sent.delivery_status == "sent", sent.delivery_detail
    ours = statuses_by(mastodon, "firma")
    assert len(ours) == 1
    assert ours[0]["in_reply_to_id"] == mention["id"] and ours[0]["visibility"] == "public"
    assert "@kunde" in ours[0]["content"] and ours[0]["content"].endswith("^BB</p>")  # signed by Berta
    assert sent.external_id == ours[0]["id"]

    answer = server.post(mastodon.kunde_token, "@firma danke, und wann kommt es?", in_reply_to_id=ours[0]["id"])
    assert poll_channel(channel) == 1
    threaded = Message.objects.get(external_id=answer["id"])
    assert threaded.conversation_id == conversation.pk and threaded.in_reply_to == ours[0]["id"]


def test_a_long_reply_becomes_a_numbered_thread_that_the_customers_answer_still_finds(
        channel, mastodon, agent_user, django_capture_on_commit_callbacks):
    server = mastodon.server
    server.max_characters = 120
    check_channel(channel)
    mention = server.post(mastodon.kunde_token, "@firma Wie funktioniert die Rückgabe?")
    poll_channel(channel)
    conversation = Message.objects.get(external_id=mention["id"]).conversation
    text = ("Sie können jede Bestellung innerhalb von 30 Tagen zurückgeben. Drucken Sie dazu das Etikett aus "
            "Ihrem Kundenkonto aus. Kleben Sie es auf das Paket und bringen Sie es zur Post. Das Geld ist nach "
            "der Prüfung in wenigen Tagen wieder auf Ihrem Konto.")
    sent = reply(conversation, agent_user, text, django_capture_on_commit_callbacks)
    assert sent.delivery_status == "sent", sent.delivery_detail
    parts = statuses_by(mastodon, "firma")
    assert len(parts) >= 3 and "posted as" in sent.delivery_detail
    texts = [p["content"] for p in parts]
    assert all(f"{i}/{len(parts)}" in t for i, t in enumerate(texts, 1))
    assert texts[-1].endswith("^BB</p>") and not any("^BB" in t for t in texts[:-1])
    assert parts[0]["in_reply_to_id"] == mention["id"]
    assert [p["in_reply_to_id"] for p in parts[1:]] == [p["id"] for p in parts[:-1]]
    # the customer answers the middle part of the thread: it still joins the conversation
    answer = server.post(mastodon.kunde_token, "@firma Und wer zahlt das Porto?", in_reply_to_id=parts[1]["id"])
    poll_channel(channel)
    assert Message.objects.get(external_id=answer["id"]).conversation_id == conversation.pk


def test_a_channel_set_to_refuse_long_replies_refuses_before_queueing(channel, mastodon, agent_user):
    channel.settings = {**channel.settings, "long_replies": "refuse", "max_characters": 80}
    channel.save()
    mention = mastodon.server.post(mastodon.kunde_token, "@firma Hallo?")
    poll_channel(channel)
    conversation = Message.objects.get(external_id=mention["id"]).conversation
    with pytest.raises(ActionError, match="allows 80"):
        send_reply(conversation, agent_user, "Ein Satz. " * 12)
    assert not Message.objects.filter(conversation=conversation, direction="outbound").exists()


def test_a_direct_message_is_a_private_conversation_answered_privately(
        channel, mastodon, agent_user, django_capture_on_commit_callbacks):
    poll_channel(channel)
    dm = mastodon.server.post(mastodon.kunde_token, "@firma meine Kundennummer ist 4711", visibility="direct")
    assert poll_channel(channel) == 1
    message = Message.objects.get(external_id=dm["id"])
    assert not message.is_public and message.meta["visibility"] == "direct"
    sent = reply(message.conversation, agent_user, "Danke, wir sehen nach.", django_capture_on_commit_callbacks)
    assert sent.delivery_status == "sent"
    ours = statuses_by(mastodon, "firma")[-1]
    assert ours["visibility"] == "direct" and ours["in_reply_to_id"] == dm["id"]
    assert [m["username"] for m in ours["mentions"]] == ["kunde"]


def test_an_agents_private_reply_to_a_public_mention_goes_out_as_a_direct_message(
        channel, mastodon, agent_user, django_capture_on_commit_callbacks):
    poll_channel(channel)
    mention = mastodon.server.post(mastodon.kunde_token, "@firma meine Adresse stimmt nicht")
    poll_channel(channel)
    conversation = Message.objects.get(external_id=mention["id"]).conversation
    sent = reply(conversation, agent_user, "Schicken Sie uns bitte Ihre Adresse.", django_capture_on_commit_callbacks,
                 is_public=False)
    assert sent.delivery_status == "sent"
    assert statuses_by(mastodon, "firma")[-1]["visibility"] == "direct"


def test_a_timeout_after_posting_never_posts_the_reply_twice(
        channel, mastodon, agent_user, django_capture_on_commit_callbacks):
    from resonanz.inbox.delivery import deliver

    poll_channel(channel)
    mention = mastodon.server.post(mastodon.kunde_token, "@firma Hallo")
    poll_channel(channel)
    conversation = Message.objects.get(external_id=mention["id"]).conversation
    # every try of this delivery loses the answer after the server posted
    mastodon.server.fail("/api/v1/statuses", "drop-after", times=3)
    sent = reply(conversation, agent_user, "Guten Tag!", django_capture_on_commit_callbacks)
    assert sent.delivery_status == "queued" and "will retry" in sent.delivery_detail
    Message.objects.filter(pk=sent.pk).update(delivery_status="queued")
    sent = deliver(Message.objects.get(pk=sent.pk))  # the sweep's next attempt
    assert sent.delivery_status == "sent"
    assert len(statuses_by(mastodon, "firma")) == 1


def test_a_deleted_post_fails_the_reply_with_the_reason(
        channel, mastodon, agent_user, django_capture_on_commit_callbacks):
    poll_channel(channel)
    mention = mastodon.server.post(mastodon.kunde_token, "@firma kurz")
    poll_channel(channel)
    conversation = Message.objects.get(external_id=mention["id"]).conversation
    mastodon.server.delete(mention["id"])
    sent = reply(conversation, agent_user, "Antwort", django_capture_on_commit_callbacks)
    assert sent.delivery_status == "failed" and "gone" in sent.delivery_detail


def test_listening_fills_the_stream_not_the_inbox(channel, mastodon):
    server = mastodon.server
    poll_channel(channel)
    tagged = server.post(mastodon.kunde_token, "Schöne Tour heute #Fahrrad", language="de")
    keyword = server.post(mastodon.kunde_token, "Die Lieferung von Firma war schnell")
    to_us = server.post(mastodon.kunde_token, "@firma Lieferung kaputt #fahrrad")  # inbox only
    assert poll_channel(channel) == 3
    posts = {p.external_id: p for p in Post.objects.filter(channel=channel)}
    assert set(posts) == {tagged["id"], keyword["id"]}
    post = posts[tagged["id"]]
    assert post.author == "Karla Kunde" and post.author_handle == "kunde@social.example"
    assert post.reach == 87 and post.link == tagged["url"] and post.published_at is not None
    assert post.source == "mastodon:#fahrrad"
    assert Message.objects.filter(channel=channel).count() == 1
    assert poll_channel(channel) == 0  # cursors kept in the sources
    states = {s.key: s for s in SourceState.objects.filter(channel=channel)}
    assert {"account", "mentions", "listen:#fahrrad", "listen:Lieferung"} <= set(states)
    assert states["listen:#fahrrad"].cursor["since"] == to_us["id"]  # past what it skipped, too


def test_ignored_accounts_are_ignored(channel, mastodon):
    channel.settings = {**channel.settings, "ignore": ["kunde"]}
    channel.save()
    poll_channel(channel)
    mastodon.server.post(mastodon.kunde_token, "@firma Spam #fahrrad")
    assert poll_channel(channel) == 0
    assert not Conversation.objects.filter(channel=channel).exists()


def test_a_rate_limit_pauses_polling_visibly_until_the_reset(channel, mastodon):
    poll_channel(channel)
    mastodon.server.set_rate_limit(mastodon.firma_token, 0, reset_in=600)
    result = poll_channel(channel)
    assert str(result).startswith("error") and "rate limit" in str(result).lower()
    channel.refresh_from_db()
    assert not channel.healthy and "rate limit" in channel.last_error.lower()
    calls = len(mastodon.server.log)
    assert "waiting until" in str(poll_channel(channel))  # no call while waiting
    assert len(mastodon.server.log) == calls
    state = SourceState.objects.get(channel=channel, key="account")
    assert state.cursor["backoff_until"] and state.cursor["rate"]["remaining"] == 0


def test_a_revoked_token_asks_to_reconnect(channel, mastodon):
    poll_channel(channel)
    mastodon.server.revoke(mastodon.firma_token)
    assert "Re-connect" in str(poll_channel(channel))


def test_an_internal_server_address_is_refused(db, settings, mastodon):
    settings.RESONANZ_OUTBOUND_ALLOW = []
    channel = create_channel(kind="mastodon", name="intern", settings={"server_url": mastodon.url},
                             credentials={"access_token": "x"})
    with translation.override("en"):  # an earlier test's request may have left German active
        ok, detail = check_channel(channel)
    assert not ok and "internal address" in detail


def test_the_stream_brings_mentions_at_once_and_applies_edits_and_deletions(channel, mastodon):
    import threading
    import time

    from resonanz.connectors.intake import SourceChange, submit

    server = mastodon.server
    posted: dict = {}

    def customer():
        while not server.streams:  # the channel's stream is open
            time.sleep(0.05)
        posted["mention"] = server.post(mastodon.kunde_token, "@firma Mein Paket ist weg")
        events = server.streams[0][2]
        while not events.empty():  # the server sends a status as it is when sent: let the mention go first
            time.sleep(0.05)
        time.sleep(0.3)
        server.edit(posted["mention"]["id"], "@firma Mein Paket ist doch da, danke!")
        server.delete(posted["mention"]["id"])

    actor = threading.Thread(target=customer, daemon=True)
    actor.start()
    assert channel.driver.stream(max_events=3) == 3
    actor.join(5)
    message = Message.objects.get(external_id=posted["mention"]["id"])
    assert "doch da" in message.text and message.meta["original_text"].endswith("Mein Paket ist weg")
    assert message.meta["edited_at"] and message.meta["deleted_at"]
    events = list(message.conversation.events.values_list("kind", flat=True))
    assert "message_edited_at_source" in events and "message_deleted_at_source" in events
    # the same change again changes nothing; a listening post is updated and then leaves the stream
    assert submit(channel, [SourceChange(posted["mention"]["id"], "deleted")]) == [0]
    tagged = server.post(mastodon.kunde_token, "Neue Tour #fahrrad")
    poll_channel(channel)
    assert submit(channel, [SourceChange(tagged["id"], "edited", html="<p>Neue lange Tour #fahrrad</p>")]) == [1]
    assert Post.objects.get(external_id=tagged["id"]).text == "Neue lange Tour #fahrrad"
    assert submit(channel, [SourceChange(tagged["id"], "deleted")]) == [1]
    assert not Post.objects.filter(external_id=tagged["id"]).exists()


def test_an_image_goes_out_with_its_alt_text_from_the_reply_form(
        channel, mastodon, agent_user, django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    from tests.connectors.social.images import png

    poll_channel(channel)
    mention = mastodon.server.post(mastodon.kunde_token, "@firma So sieht mein Paket aus")
    poll_channel(channel)
    conversation = Message.objects.get(external_id=mention["id"]).conversation
    desk = Client()
    desk.force_login(agent_user)
    url = f"/inbox/conversations/{conversation.pk}/reply/"
    refused = desk.post(url, {"text": "Hier unser Foto.", "image": SimpleUploadedFile("x.png", png(), "image/png")},
                        follow=True)
    assert "Beschreiben Sie das Bild" in refused.content.decode()  # Berta works in German
    fake = desk.post(url, {"text": "Hier.", "image_alt": "Etikett",
                           "image": SimpleUploadedFile("x.png", b"<svg onload=alert(1)>", "image/png")}, follow=True)
    assert "Nur PNG-, JPEG-, GIF- und WebP-Bilder" in fake.content.decode()
    assert not Message.objects.filter(conversation=conversation, direction="outbound").exists()
    with django_capture_on_commit_callbacks(execute=True):
        desk.post(url, {"text": "So kleben Sie das Etikett auf.", "image_alt": "Paket mit Rücksendeetikett oben links",
                        "image": SimpleUploadedFile("etikett.png", png(8, 6), "image/png")})
    sent = Message.objects.get(conversation=conversation, direction="outbound")
    assert sent.delivery_status == "sent", sent.delivery_detail
    status = mastodon.server.statuses[sent.external_id]
    assert [m["description"] for m in status["media_attachments"]] == ["Paket mit Rücksendeetikett oben links"]
    assert sent.attachments.get().content_type == "image/png"


def test_replies_under_two_of_our_posts_are_two_conversations_each_with_its_post(
        channel, mastodon, agent_user, django_capture_on_commit_callbacks):
    server = mastodon.server
    poll_channel(channel)
    launch = server.post(mastodon.firma_token, "Unser neues Trekkingrad ist da!")
    hours = server.post(mastodon.firma_token, "Neue Öffnungszeiten ab Mai")
    price = server.post(mastodon.kunde_token, "@firma Was kostet es?", in_reply_to_id=launch["id"])
    color = server.post(mastodon.kunde_token, "@firma Gibt es das in Rot?", in_reply_to_id=price["id"])
    sunday = server.post(mastodon.kunde_token, "@firma Auch sonntags?", in_reply_to_id=hours["id"])
    assert poll_channel(channel) == 3
    on_launch = Message.objects.get(external_id=price["id"]).conversation
    assert Message.objects.get(external_id=color["id"]).conversation_id == on_launch.pk
    on_hours = Message.objects.get(external_id=sunday["id"]).conversation
    assert on_hours.pk != on_launch.pk and on_hours.contact_id == on_launch.contact_id
    assert (on_launch.thread_key, on_hours.thread_key) == (launch["id"], hours["id"])
    context = Message.objects.get(external_id=color["id"]).meta["post"]  # the thread's root, two levels up
    assert context["text"] == "Unser neues Trekkingrad ist da!" and context["link"] == launch["url"]
    sent = reply(on_hours, agent_user, "Sonntags geschlossen.", django_capture_on_commit_callbacks)
    assert sent.delivery_status == "sent", sent.delivery_detail
    assert statuses_by(mastodon, "firma")[-1]["in_reply_to_id"] == sunday["id"]
