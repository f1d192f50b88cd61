"""Telegram bot against a local server speaking the documented Bot API."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from resonanz.connectors.actions import check_channel, rejected_requests, update_channel
from resonanz.connectors.drivers.telegram import contact_from_reference, start_reference
from resonanz.connectors.models import Channel, SourceState
from resonanz.connectors.tasks import poll_channel
from resonanz.crm.actions import create_contact
from resonanz.inbox.actions import send_reply
from resonanz.inbox.delivery import deliver
from resonanz.inbox.models import Conversation, Message
from tests.support.telegram.fixtures import SECRET

pytestmark = pytest.mark.django_db


def push(channel, update, *, secret=SECRET, raw: bytes | None = None):
    headers = {} if secret is None else {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": secret}
    body = raw if raw is not None else json.dumps(update).encode()
    return Client().post(f"/hooks/{channel.slug}/", data=body, content_type="application/json", **headers)


def test_private_chat_becomes_a_conversation_once(tg_channel, telegram):
    update = telegram.update(text="Hallo, wo bleibt meine Bestellung?")
    first = push(tg_channel, update)
    assert first.status_code == 200 and first.json()["created"] == 1
    message = Message.objects.get()
    assert message.text == "Hallo, wo bleibt meine Bestellung?" and not message.is_public
    identity = message.author_contact.identities.get()
    assert (identity.kind, identity.handle) == ("telegram", "111222333")
    assert message.author_contact.name == "Karla Kunde"
    assert push(tg_channel, update).json()["created"] == 0  # Telegram re-delivers when we answered late
    assert Message.objects.count() == 1


@pytest.mark.parametrize("secret", [None, "", "falsch", SECRET + "x"])
def test_wrong_or_missing_secret_token_gets_401(tg_channel, telegram, secret):
    response = push(tg_channel, telegram.update(), secret=secret)
    assert response.status_code == 401 and Message.objects.count() == 0
    channel = Channel.objects.get(pk=tg_channel.pk)  # anyone can send this: counted, nothing written
    assert channel.healthy and not channel.last_error
    assert "secret token" in rejected_requests(channel)["reason"]


@pytest.mark.parametrize("raw", [b"{", b"[]", b'{"update_id": "x"}', b'{"update_id": 1, "message": {"text": "x"}}'])
def test_malformed_updates_get_400(tg_channel, raw):
    assert push(tg_channel, None, raw=raw).status_code == 400
    assert Message.objects.count() == 0


def test_photo_and_document_are_downloaded_once(tg_channel, telegram):
    telegram.add_file("AgACAgIAAxkBAAIBlarge", "photos/file_0.jpg", b"\xff\xd8JPEG-large")
    telegram.add_file("BQACAgIAAxkBAAIBdoc", "documents/file_1.pdf", b"%PDF rechnung")
    push(tg_channel, telegram.update("update_photo"))
    push(tg_channel, telegram.update("update_document"))
    photo, document = Message.objects.order_by("id")
    assert photo.text == "So kam das Paket an"
    assert photo.attachments.get().file.read() == b"\xff\xd8JPEG-large"  # the largest size, not the thumbnail
    attachment = document.attachments.get()
    assert attachment.filename == "rechnung.pdf" and attachment.file.read() == b"%PDF rechnung"
    assert [m for m, p in telegram.calls if m == "getFile"] == ["getFile", "getFile"]


def test_unsupported_content_is_shown_with_its_type(tg_channel, telegram):
    push(tg_channel, telegram.update("update_sticker"))
    message = Message.objects.get()
    assert message.text == "Unsupported content (sticker)" and message.meta["telegram"]["unsupported"] == "sticker"


def test_group_messages_only_when_the_channel_says_so(tg_channel, telegram):
    push(tg_channel, telegram.update("update_group"))
    assert Message.objects.count() == 0
    update_channel(tg_channel, settings={**tg_channel.settings, "groups": True})
    push(tg_channel, telegram.update("update_group"))
    message = Message.objects.get()
    assert message.is_public and "kennt ihr das Problem" in message.text


def test_reply_goes_out_as_the_bot_with_the_agents_name_when_asked(tg_channel, telegram, agent_user):
    push(tg_channel, telegram.update())
    conversation = Conversation.objects.get()
    reply = deliver(send_reply(conversation, agent_user, "Sie ist heute unterwegs."))
    assert reply.delivery_status == "sent" and reply.external_id == "111222333:1000"
    assert telegram.sent[-1] == {"chat_id": 111222333, "text": "Sie ist heute unterwegs."}
    update_channel(tg_channel, settings={**tg_channel.settings, "agent_name": True})
    conversation.channel.refresh_from_db()
    deliver(send_reply(Conversation.objects.select_related("channel").get(), agent_user, "Noch etwas?"))
    assert telegram.sent[-1]["text"] == "Berta Beispiel:\nNoch etwas?"


def test_rate_limit_is_retried_and_a_revoked_token_is_shown(tg_channel, telegram, agent_user):
    push(tg_channel, telegram.update())
    telegram.fail("sendMessage", "error_too_many")
    reply = deliver(send_reply(Conversation.objects.get(), agent_user, "Moment bitte."))
    assert Message.objects.get(pk=reply.pk).delivery_status == "queued"
    telegram.revoke()
    deliver(Message.objects.get(pk=reply.pk))
    channel = Channel.objects.get(pk=tg_channel.pk)
    assert not channel.healthy and "@BotFather" in channel.last_error
    update_channel(channel, credentials={"bot_token": telegram.token})
    assert deliver(Message.objects.get(pk=reply.pk)).delivery_status == "sent"


def test_long_polling_continues_from_its_offset(tg_polling, telegram):
    first, second = telegram.update(text="eins"), telegram.update(text="zwei", message_id=30)
    telegram.queue(first, second)
    assert poll_channel(tg_polling) == 2
    state = SourceState.objects.get(channel=tg_polling)
    assert state.cursor == {"offset": second["update_id"] + 1}
    assert poll_channel(tg_polling) == 0  # confirmed by the offset: not fetched again
    telegram.queue(telegram.update(text="drei", message_id=31))
    assert poll_channel(tg_polling) == 1
    assert list(Message.objects.order_by("id").values_list("text", flat=True)) == ["eins", "zwei", "drei"]
    assert Conversation.objects.count() == 1


def test_polling_failure_is_recorded_and_nothing_is_lost(tg_polling, telegram):
    telegram.queue(telegram.update(text="eins"))
    telegram.fail("getUpdates", "error_too_many")
    assert str(poll_channel(tg_polling)).startswith("error")
    assert not Channel.objects.get(pk=tg_polling.pk).healthy
    assert poll_channel(tg_polling) == 1 and Message.objects.get().text == "eins"


def test_check_connection_registers_the_webhook_or_switches_to_polling(tg_channel, tg_polling, telegram):
    update_channel(tg_channel, settings={**tg_channel.settings, "public_url": "http://support.example.com"})
    ok, detail = check_channel(Channel.objects.get(pk=tg_channel.pk))
    assert not ok and "HTTPS" in detail  # Telegram's own refusal
    update_channel(tg_channel, settings={**tg_channel.settings, "public_url": "https://support.example.com"})
    ok, detail = check_channel(Channel.objects.get(pk=tg_channel.pk))
    assert ok and "@firma_support_bot" in detail
    assert telegram.webhook == {"url": f"https://support.example.com/hooks/{tg_channel.slug}/", "secret_token": SECRET}
    ok, detail = check_channel(tg_polling)
    assert ok and "polling" in detail and telegram.webhook == {}
    assert Channel.objects.get(pk=tg_polling.pk).settings["bot_username"] == "firma_support_bot"


def test_start_deep_link_ties_the_chat_to_a_known_contact(tg_channel, telegram):
    known = create_contact(name="Karla Kunde", identities=[("email", "karla@example.com")])
    reference = start_reference(known.pk)
    assert len(reference) <= 64 and contact_from_reference(reference) == known.pk
    assert contact_from_reference(f"c{known.pk}_0000000000000000") is None  # forged
    push(tg_channel, telegram.update(text=f"/start {reference}"))
    message = Message.objects.get()
    assert message.author_contact_id == known.pk
    assert set(known.identities.values_list("kind", flat=True)) == {"email", "telegram"}
    push(tg_channel, telegram.update(text="Und noch eine Frage", message_id=99))
    assert Message.objects.get(external_id="111222333:99").author_contact_id == known.pk


def test_forged_start_reference_ties_nothing(tg_channel, telegram):
    known = create_contact(name="Jemand", identities=[("email", "x@example.com")])
    push(tg_channel, telegram.update(text=f"/start c{known.pk}_ffffffffffffffff"))
    assert Message.objects.get().author_contact_id != known.pk


def test_contact_page_offers_the_deep_link(tg_channel, admin_user):
    known = create_contact(name="Karla Kunde", identities=[("email", "karla@example.com")])
    client = Client()
    client.force_login(admin_user)
    page = client.get(f"/contacts/{known.pk}/").content.decode()
    assert f"https://t.me/firma_support_bot?start={start_reference(known.pk)}" in page

