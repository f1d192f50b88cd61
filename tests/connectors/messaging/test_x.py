"""X: Account Activity webhook (CRC, signature, mentions, DMs) and API v2 replies against a local server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from django.test import Client

from resonanz.connectors.actions import check_channel
from resonanz.connectors.models import Channel
from resonanz.inbox.actions import send_reply
from resonanz.inbox.delivery import deliver
from resonanz.inbox.models import Conversation, Message
from tests.support.x.server import documented

pytestmark = pytest.mark.django_db


def post(channel, server, payload, signature=None):
    body = json.dumps(payload).encode()
    return Client().post(f"/hooks/{channel.slug}/", data=body, content_type="application/json",
                         HTTP_X_TWITTER_WEBHOOKS_SIGNATURE=signature or server.sign(body))


def test_crc_check_answers_with_the_hmac_of_the_token(x_channel, xapi):
    response = Client().get(f"/hooks/{x_channel.slug}/", {"crc_token": "abc123"})
    expected = base64.b64encode(hmac.new(xapi.consumer_secret.encode(), b"abc123", hashlib.sha256).digest()).decode()
    assert response.status_code == 200 and response.json() == {"response_token": f"sha256={expected}"}
    assert Client().get(f"/hooks/{x_channel.slug}/").status_code == 400


def test_bad_signature_401_and_malformed_400(x_channel, xapi):
    assert post(x_channel, xapi, documented("tweet_create_event"), signature="sha256=AAAA").status_code == 401
    assert post(x_channel, xapi, {"no": "for_user_id"}).status_code == 400
    assert Message.objects.count() == 0


def test_mention_and_dm_become_public_and_private_conversations_once(x_channel, xapi):
    mention = documented("tweet_create_event")
    assert post(x_channel, xapi, mention).json()["created"] == 1
    assert post(x_channel, xapi, mention).json()["created"] == 0  # re-delivered
    assert post(x_channel, xapi, documented("direct_message_event")).json()["created"] == 1
    public, private = Message.objects.order_by("id")
    assert public.is_public and public.text == "@XDevelopers Just got my API access!"
    assert public.author_contact.identities.get().handle == "twitterapi"
    assert not private.is_public and private.text == "Hello World!"
    assert private.author_contact.identities.get().handle == "furiouscamper"
    own = documented("tweet_create_event")
    own["tweet_create_events"][0]["user"]["id_str"] = "2244994945"
    own["tweet_create_events"][0]["id_str"] = "1"
    assert post(x_channel, xapi, own).json()["created"] == 0  # our own post is not addressed to us


def test_public_reply_is_signed_threaded_and_split(x_channel, xapi, agent_user):
    post(x_channel, xapi, documented("tweet_create_event"))
    conversation = Conversation.objects.get()
    text = "Danke für die Nachricht. " * 16
    reply = deliver(send_reply(conversation, agent_user, text))
    assert reply.delivery_status == "sent" and "thread of 2" in reply.delivery_detail
    first, second = xapi.tweets
    assert first["reply"] == {"in_reply_to_tweet_id": "1050118621198921728"}
    assert second["reply"] == {"in_reply_to_tweet_id": first["_id"]}  # the thread hangs together
    assert first["text"].startswith("1/2 ") and second["text"].endswith("^BB")  # the agent's initials
    assert reply.external_id == first["_id"]


def test_dm_reply_and_rate_limit_with_the_next_allowed_call(x_channel, xapi, agent_user):
    post(x_channel, xapi, documented("direct_message_event"))
    conversation = Conversation.objects.get()
    reply = deliver(send_reply(conversation, agent_user, "Wir schauen nach."))
    assert reply.delivery_status == "sent" and xapi.dms[-1][0] == "3001969357"
    xapi.remaining = 0
    held = deliver(send_reply(Conversation.objects.get(), agent_user, "Noch da?"))
    assert Message.objects.get(pk=held.pk).delivery_status == "queued"
    channel = Channel.objects.get(pk=x_channel.pk)
    assert not channel.healthy and "next call is allowed at" in channel.last_error


def test_check_connection(x_channel, xapi):
    ok, detail = check_channel(x_channel)
    assert ok and "@TwitterDev" in detail
    xapi.revoked = True
    assert not check_channel(Channel.objects.get(pk=x_channel.pk))[0]


def test_mention_and_dm_of_one_person_are_separate_and_a_private_reply_goes_to_the_dms(x_channel, xapi, agent_user):
    mention = documented("tweet_create_event")
    user = mention["tweet_create_events"][0]["user"]
    dm = documented("direct_message_event")
    dm["direct_message_events"][0]["message_create"]["sender_id"] = user["id_str"]
    dm["users"] = {user["id_str"]: {"id": user["id_str"], "name": user["name"], "screen_name": user["screen_name"]}}
    post(x_channel, xapi, mention)
    post(x_channel, xapi, dm)
    public, private = Message.objects.order_by("id")
    assert public.author_contact_id == private.author_contact_id
    assert public.conversation_id != private.conversation_id
    reply = deliver(send_reply(public.conversation, agent_user, "Schreib uns bitte per DM.", is_public=False))
    assert reply.delivery_status == "sent" and reply.conversation_id == private.conversation_id
    assert xapi.dms[-1][0] == user["id_str"] and not xapi.tweets
    assert Conversation.objects.count() == 2


def test_photos_are_stored_videos_linked_and_expired_or_large_ones_named(x_channel, xapi, settings):
    """Account Activity posts carry their photos in extended_entities.media, direct messages in
    message_data.attachment.media (fetched with the account's token)."""
    photo = xapi.add_file("Dx7aBcD.jpg", b"\xff\xd8x-photo", "image/jpeg")
    mention = documented("tweet_create_event")
    mention["tweet_create_events"][0]["extended_entities"] = {"media": [
        {"id_str": "1", "type": "photo", "media_url_https": photo, "expanded_url": "https://x.com/p/photo/1"},
        {"id_str": "2", "type": "video", "media_url_https": xapi.url + "/media/thumb.jpg",
         "expanded_url": "https://x.com/p/video/2"},
        {"id_str": "3", "type": "photo", "media_url_https": xapi.url + "/media/expired.jpg"}]}
    assert post(x_channel, xapi, mention).json()["created"] == 1
    message = Message.objects.get()
    assert message.attachments.get().file.read() == b"\xff\xd8x-photo"
    assert "[video] https://x.com/p/video/2" in message.text and "[photo] (not downloaded" in message.text
    dm = documented("direct_message_event")
    dm["direct_message_events"][0]["message_create"]["message_data"]["attachment"] = {
        "type": "media", "media": {"type": "photo", "media_url_https": xapi.add_file("dm.png", b"\x89PNGdm",
                                                                                     "image/png", direct=True)}}
    assert post(x_channel, xapi, dm).json()["created"] == 1
    assert Message.objects.get(external_id__startswith="dm:").attachments.get().file.read() == b"\x89PNGdm"
    settings.RESONANZ_SOCIAL_MEDIA_MAX_BYTES = 4
    big = documented("tweet_create_event")
    big["tweet_create_events"][0]["id_str"] = "1050118621198921999"
    big["tweet_create_events"][0]["extended_entities"] = {"media": [
        {"type": "photo", "media_url_https": photo}]}
    post(x_channel, xapi, big)
    large = Message.objects.get(external_id="1050118621198921999")
    assert not large.attachments.exists() and "[photo] (not downloaded" in large.text


def test_a_direct_message_of_an_unsupported_kind_is_shown_never_dropped(x_channel, xapi):
    dm = documented("direct_message_event")
    data = dm["direct_message_events"][0]["message_create"]["message_data"]
    data["text"] = ""
    data["attachment"] = {"type": "location", "location": {"type": "shared_coordinate"}}
    assert post(x_channel, xapi, dm).json()["created"] == 1
    assert Message.objects.get().text == "Unsupported content (location)"
