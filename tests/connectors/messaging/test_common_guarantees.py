"""What the issue asks of every platform's webhook, checked on each the same way: a wrong or missing signature
gets 401, is logged and shown on the channel, and stores nothing; markup and scripts in what a customer sends
(text and name) never reach an agent's browser; a message delivered again never downloads its files again; a
token the platform refuses while the driver fetches what a message carries shows on the channel, and the message
is kept."""

from __future__ import annotations

import json
import logging
import time

import pytest
from django.test import Client

from resonanz.connectors.models import Channel
from resonanz.inbox.models import Message
from tests.support.telegram.fixtures import SECRET as TELEGRAM_SECRET
from tests.support.x.server import documented as x_documented

pytestmark = pytest.mark.django_db
HOSTILE = '<script>alert(1)</script><img src=x onerror="alert(2)">Hallo <b>fett</b>'
NAME = '<script>alert(3)</script>Mallory'


def whatsapp_items(server):
    return [server.notification("text_message", text=HOSTILE, profile_name=NAME)]


def telegram_items(server):
    update = server.update(text=HOSTILE)
    update["message"]["from"]["first_name"] = update["message"]["chat"]["first_name"] = NAME
    return [update]


def messenger_items(server):
    return [server.notification("page_message", text=HOSTILE, timestamp=int(time.time() * 1000)),
            server.comment("page", text=HOSTILE, name=NAME)]


def x_items(server):
    mention = x_documented("tweet_create_event")
    mention["tweet_create_events"][0]["text"] = HOSTILE
    mention["tweet_create_events"][0]["user"]["name"] = NAME
    dm = x_documented("direct_message_event")
    dm["direct_message_events"][0]["message_create"]["message_data"]["text"] = HOSTILE
    next(iter(dm["users"].values()))["name"] = NAME
    return [mention, dm]


def signed_headers(kind, server, body: bytes) -> dict:
    if kind == "telegram":
        return {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": TELEGRAM_SECRET}
    return {"HTTP_X_TWITTER_WEBHOOKS_SIGNATURE" if kind == "x" else "HTTP_X_HUB_SIGNATURE_256": server.sign(body)}


def wrong_headers(kind) -> dict:
    return {"whatsapp": {"HTTP_X_HUB_SIGNATURE_256": "sha256=" + "0" * 64},
            "messenger": {"HTTP_X_HUB_SIGNATURE_256": "sha256=" + "0" * 64},
            "telegram": {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": "geraten"},
            "x": {"HTTP_X_TWITTER_WEBHOOKS_SIGNATURE": "sha256=AAAA"}}[kind]


PLATFORMS = {"whatsapp": ("wa_channel", "whatsapp", whatsapp_items),
             "telegram": ("tg_channel", "telegram", telegram_items),
             "messenger": ("fb_channel", "messenger", messenger_items),
             "x": ("x_channel", "xapi", x_items)}


def setup(request, kind):
    channel_fixture, server_fixture, items = PLATFORMS[kind]
    server = request.getfixturevalue(server_fixture)
    return request.getfixturevalue(channel_fixture), server, items(server)


def push(channel, body: bytes, headers: dict):
    return Client().post(f"/hooks/{channel.slug}/", data=body, content_type="application/json", **headers)


@pytest.mark.parametrize("case", ["wrong", "missing"])
@pytest.mark.parametrize("kind", sorted(PLATFORMS))
def test_a_wrong_or_missing_signature_gets_401_is_logged_and_stores_nothing(request, kind, case, caplog):
    channel, server, items = setup(request, kind)
    for item in items:
        body = json.dumps(item).encode()
        with caplog.at_level(logging.WARNING):
            response = push(channel, body, wrong_headers(kind) if case == "wrong" else {})
        assert response.status_code == 401, (kind, response.content)
    assert not Message.objects.exists()
    assert any("rejected" in r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING)
    stored = Channel.objects.get(pk=channel.pk)  # an unauthenticated request writes nothing, not even the health
    assert (stored.healthy, stored.last_error) == (channel.healthy, channel.last_error)


@pytest.mark.parametrize("kind", sorted(PLATFORMS))
def test_markup_and_scripts_never_reach_an_agents_browser(request, kind, agent_user):
    channel, server, items = setup(request, kind)
    for item in items:
        body = json.dumps(item).encode()
        response = push(channel, body, signed_headers(kind, server, body))
        assert response.status_code == 200 and response.json()["created"] == 1, (kind, response.content)
    client = Client()
    client.force_login(agent_user)
    pages = [client.get("/inbox/").content.decode()]
    for message in Message.objects.select_related("conversation"):
        assert "<script" not in message.html and "<img" not in message.html and "Hallo" in message.html
        pages.append(client.get(f"/inbox/conversations/{message.conversation_id}/").content.decode())
        pages.append(client.get(f"/contacts/{message.author_contact_id}/").content.decode())
    for page in pages:
        assert "<script>alert" not in page and "<img src=x" not in page and 'onerror="alert' not in page
    assert any("Hallo" in page for page in pages[1:])


def whatsapp_media(server):
    server.add_media("1003383421387256", b"\xff\xd8\xff\xe0JPEGDATA", "image/jpeg")
    return server.notification("image_message", caption="Kratzer am Gehäuse")


def telegram_media(server):
    server.add_file("AgACAgIAAxkBAAIBlarge", "photos/file_0.jpg", b"\xff\xd8JPEG-large")
    return server.update("update_photo")


def messenger_media(server):
    url = server.add_file("photo.jpg", b"\xff\xd8fb-image", "image/jpeg")
    return server.notification("page_attachment", image_url=url, timestamp=int(time.time() * 1000))


def x_media(server):
    mention = x_documented("tweet_create_event")
    mention["tweet_create_events"][0]["extended_entities"] = {"media": [
        {"type": "photo", "media_url_https": server.add_file("Dx7aBcD.jpg", b"\xff\xd8x-photo", "image/jpeg")}]}
    return mention


MEDIA = {"whatsapp": whatsapp_media, "telegram": telegram_media, "messenger": messenger_media, "x": x_media}


@pytest.mark.parametrize("kind", sorted(PLATFORMS))
def test_a_redelivered_message_never_downloads_its_media_again(request, kind):
    """Platforms deliver a webhook again when unsure we got it (a timeout, a 5xx): the stored message is found
    by its id before anything is fetched, and the redelivery is answered 200 and stores nothing."""
    channel, server, _items = setup(request, kind)
    body = json.dumps(MEDIA[kind](server)).encode()
    first = push(channel, body, signed_headers(kind, server, body))
    assert first.status_code == 200 and first.json()["created"] == 1, (kind, first.content)
    assert len(server.downloads) == 1 and Message.objects.get().attachments.count() == 1
    for _again in range(2):
        again = push(channel, body, signed_headers(kind, server, body))
        assert again.status_code == 200 and again.json()["created"] == 0, (kind, again.content)
    assert len(server.downloads) == 1, (kind, server.downloads)
    assert Message.objects.count() == 1 and Message.objects.get().attachments.count() == 1


def x_reply(server):
    launch = server.add_tweet("Unser neues Trekkingrad ist da!", username="XDevelopers", user_id="2244994945")
    return server.mention_event(server.add_tweet("@XDevelopers Was kostet es?", in_reply_to=launch))


#: a message whose intake needs the token (its file, the post it comments, its chain's root), and what the
#: channel's page tells the administrator to do when the platform refuses the token
REFUSED = {"whatsapp": (whatsapp_media, "Create a new token"),
           "telegram": (telegram_media, "Ask @BotFather for the token"),
           "messenger": (lambda server: server.comment("page", text="Gibt es das in Rot?"), "Create a new page token"),
           "x": (x_reply, "Authorize the account again")}


@pytest.mark.parametrize("kind", sorted(PLATFORMS))
def test_a_token_refused_on_the_way_shows_on_the_channel_and_the_message_is_kept(request, kind, admin_user):
    """The token was revoked or expired (Meta's OAuthException 190, a 401): the message is stored all the same,
    and the channel's health says so with what the administrator should do, as a refused reply does."""
    channel, server, _items = setup(request, kind)
    payload, guidance = REFUSED[kind]
    body = json.dumps(payload(server)).encode()
    server.revoke()
    response = push(channel, body, signed_headers(kind, server, body))
    assert response.status_code == 200 and response.json()["created"] == 1, (kind, response.content)
    assert Message.objects.count() == 1
    stored = Channel.objects.get(pk=channel.pk)
    assert not stored.healthy and "token refused" in stored.last_error and guidance in stored.last_error, \
        (kind, stored.last_error)
    admin = Client()
    admin.force_login(admin_user)
    page = admin.get(f"/inbox/settings/channels/{channel.pk}/").content.decode()
    assert "token refused" in page and guidance in page


def x_direct_message(server, n: int):
    dm = x_documented("direct_message_event")
    dm["direct_message_events"][0]["id"] = f"9{n}"
    return dm


#: a message whose intake needs no call with the channel's token
PLAIN = {"whatsapp": lambda server, n: server.notification("text_message", text=f"Hallo {n}", id=f"wamid.plain{n}"),
         "telegram": lambda server, n: server.update(text=f"Hallo {n}", message_id=7000 + n),
         "messenger": lambda server, n: server.notification("page_message", text=f"Hallo {n}", mid=f"m_plain{n}",
                                                            timestamp=int(time.time() * 1000) + n),
         "x": x_direct_message}


@pytest.mark.parametrize("kind", sorted(PLATFORMS))
def test_a_message_arriving_after_a_refused_token_does_not_hide_the_failure(request, kind):
    """A webhook shows that the platform reaches us, not that our token works: the channel stays failing
    (its replies would fail) until the administrator saves new credentials or a call with the token works."""
    from resonanz.connectors.actions import update_channel

    channel, server, _items = setup(request, kind)
    payload, _guidance = REFUSED[kind]
    body = json.dumps(payload(server)).encode()
    server.revoke()
    assert push(channel, body, signed_headers(kind, server, body)).status_code == 200
    for n in (1, 2):
        body = json.dumps(PLAIN[kind](server, n)).encode()
        response = push(channel, body, signed_headers(kind, server, body))
        assert response.status_code == 200 and response.json()["created"] == 1, (kind, response.content)
        stored = Channel.objects.get(pk=channel.pk)
        assert not stored.healthy and "token refused" in stored.last_error, (kind, n)
    update_channel(stored, credentials=dict(stored.credentials))  # the administrator saves a new token
    body = json.dumps(PLAIN[kind](server, 3)).encode()
    assert push(channel, body, signed_headers(kind, server, body)).json()["created"] == 1
    assert Channel.objects.get(pk=channel.pk).healthy
