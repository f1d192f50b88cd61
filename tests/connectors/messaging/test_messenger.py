"""Facebook Messenger and Instagram direct messages against a local server speaking the documented Graph API."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from resonanz.connectors.actions import check_channel
from resonanz.connectors.models import Channel
from resonanz.inbox.actions import send_reply
from resonanz.inbox.delivery import deliver
from resonanz.inbox.models import Conversation, Message
from tests.support.messenger.server import IG_ID, PAGE_ID

pytestmark = pytest.mark.django_db


def post(channel, server, payload, *, signature=None):
    body = json.dumps(payload).encode()
    return Client().post(f"/hooks/{channel.slug}/", data=body, content_type="application/json",
                         HTTP_X_HUB_SIGNATURE_256=signature or server.sign(body))


def now_ms() -> int:
    return int(time.time() * 1000)


def test_handshake_and_signature(fb_channel, messenger):
    url = f"/hooks/{fb_channel.slug}/"
    assert Client().get(url, {"hub.mode": "subscribe", "hub.verify_token": "fb-verify",
                              "hub.challenge": "42"}).content == b"42"
    assert Client().get(url, {"hub.mode": "subscribe", "hub.verify_token": "x", "hub.challenge": "42"}).status_code == 403
    bad = post(fb_channel, messenger, messenger.notification("page_message"), signature="sha256=00")
    assert bad.status_code == 401 and not Message.objects.exists()
    assert post(fb_channel, messenger, {"object": "user", "entry": []}).status_code == 400


def test_messenger_and_instagram_messages_become_private_conversations_once(fb_channel, messenger):
    page = messenger.notification("page_message", text="Habt ihr das Rad in 56 cm?", timestamp=now_ms())
    assert post(fb_channel, messenger, page).json()["created"] == 1
    assert post(fb_channel, messenger, page).json()["created"] == 0  # re-delivered
    insta = messenger.notification("instagram_message", sender="9988776655", text="Und in Grün?", timestamp=now_ms())
    assert post(fb_channel, messenger, insta).json()["created"] == 1
    fb, ig = Message.objects.order_by("id")
    assert fb.author_contact.identities.get().kind == "facebook" and not fb.is_public
    assert ig.author_contact.identities.get().kind == "instagram" and ig.text == "Und in Grün?"
    assert Conversation.objects.count() == 2
    echo = messenger.notification("page_echo")
    assert post(fb_channel, messenger, echo).json()["created"] == 0  # our own message, echoed back


def test_image_attachment_is_stored_and_an_expired_one_is_named(fb_channel, messenger):
    url = messenger.add_file("photo.jpg", b"\xff\xd8fb-image", "image/jpeg")
    post(fb_channel, messenger, messenger.notification("page_attachment", image_url=url, timestamp=now_ms()))
    message = Message.objects.get()
    assert message.attachments.get().file.read() == b"\xff\xd8fb-image"
    post(fb_channel, messenger, messenger.notification("page_attachment", mid="m_gone",
                                                       image_url=messenger.url + "/cdn/expired.jpg"))
    assert "Unsupported content (image (not downloaded" in Message.objects.get(external_id="m_gone").text


def test_replies_use_the_window_then_the_human_agent_tag_and_deliveries_arrive(fb_channel, messenger, agent_user):
    post(fb_channel, messenger, messenger.notification("page_message", timestamp=now_ms()))
    conversation = Conversation.objects.get()
    reply = deliver(send_reply(conversation, agent_user, "Ja, haben wir."))
    assert reply.delivery_status == "sent" and messenger.sent[-1]["messaging_type"] == "RESPONSE"
    assert messenger.sent[-1]["_account"] == PAGE_ID
    post(fb_channel, messenger, messenger.notification("page_delivery", mids=[reply.external_id]))
    assert "delivered" in Message.objects.get(pk=reply.pk).meta["receipts"]
    Message.objects.filter(direction="inbound").update(sent_at=timezone.now() - timedelta(days=2))
    later = deliver(send_reply(Conversation.objects.get(), agent_user, "Noch Fragen?"))
    assert later.delivery_status == "sent" and messenger.sent[-1]["tag"] == "HUMAN_AGENT"
    Message.objects.filter(direction="inbound").update(sent_at=timezone.now() - timedelta(days=8))
    too_late = deliver(send_reply(Conversation.objects.get(), agent_user, "Hallo?"))
    assert too_late.delivery_status == "failed" and "7 days" in too_late.delivery_detail


def test_instagram_replies_go_through_the_instagram_account(fb_channel, messenger, agent_user):
    post(fb_channel, messenger, messenger.notification("instagram_message", sender="9988", timestamp=now_ms()))
    reply = deliver(send_reply(Conversation.objects.get(), agent_user, "Gern!"))
    assert reply.delivery_status == "sent" and messenger.sent[-1]["_account"] == IG_ID
    assert messenger.sent[-1]["recipient"] == {"id": "9988"}


def test_expired_page_token_is_shown(fb_channel, messenger, agent_user):
    assert check_channel(fb_channel)[0]
    post(fb_channel, messenger, messenger.notification("page_message", timestamp=now_ms()))
    messenger.revoke()
    reply = deliver(send_reply(Conversation.objects.get(), agent_user, "Hallo"))
    assert Message.objects.get(pk=reply.pk).delivery_status == "queued"
    channel = Channel.objects.get(pk=fb_channel.pk)
    assert not channel.healthy and "new page token" in channel.last_error
    ok, detail = check_channel(channel)
    assert not ok and "refused" in detail


def test_a_message_of_an_unsupported_kind_is_shown_never_dropped(fb_channel, messenger):
    payload = messenger.notification("page_message", mid="m_sticker", timestamp=now_ms())
    message = payload["entry"][0]["messaging"][0]["message"]
    message.pop("text", None)
    message["reply_to"] = {"story": {"url": "https://example.com/story", "id": "1"}}
    assert post(fb_channel, messenger, payload).json()["created"] == 1
    assert Message.objects.get().text == "Unsupported content (reply_to)"
