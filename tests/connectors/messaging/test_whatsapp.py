"""WhatsApp Business (Cloud API) against a local server speaking its documented API and webhook shapes."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from resonanz.connectors import intake
from resonanz.connectors.actions import check_channel, rejected_requests, update_channel
from resonanz.connectors.drivers.base import InboundMessage
from resonanz.connectors.models import Channel
from resonanz.core.errors import ActionError
from resonanz.inbox.actions import send_reply
from resonanz.inbox.delivery import deliver
from resonanz.inbox.models import Conversation, EarlyReceipt, Message
from tests.support.whatsapp.fixtures import VERIFY_TOKEN

pytestmark = pytest.mark.django_db
CUSTOMER = "16505551234"


def post(channel, server, payload, *, signature=None, raw: bytes | None = None):
    body = raw if raw is not None else json.dumps(payload).encode()
    headers = {} if signature is False else {"HTTP_X_HUB_SIGNATURE_256": signature or server.sign(body)}
    return Client().post(f"/hooks/{channel.slug}/", data=body, content_type="application/json", **headers)


def receive(channel, server, name="text_message", **fields):
    response = post(channel, server, server.notification(name, **fields))
    assert response.status_code == 200, response.content
    return response.json()


# --- the webhook --------------------------------------------------------------------------------------------

def test_verification_handshake_echoes_the_challenge_only_for_our_token(wa_channel):
    url = f"/hooks/{wa_channel.slug}/"
    ok = Client().get(url, {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"})
    assert ok.status_code == 200 and ok.content == b"1158201444"
    wrong = Client().get(url, {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1158201444"})
    assert wrong.status_code == 403
    assert Client().get(url, {"hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"}).status_code == 403


def test_text_message_becomes_a_conversation_with_a_phone_identity_once(wa_channel, whatsapp):
    payload = whatsapp.notification("text_message", text="Gibt es das auch in Blau?", profile_name="Sheena Nelson")
    first = post(wa_channel, whatsapp, payload)
    assert first.status_code == 200 and first.json()["created"] == 1
    message = Message.objects.get()
    assert message.text == "Gibt es das auch in Blau?" and message.direction == "inbound" and not message.is_public
    identity = message.author_contact.identities.get()
    assert (identity.kind, identity.handle) == ("phone", "+" + CUSTOMER)
    assert message.author_contact.name == "Sheena Nelson"
    assert message.meta["whatsapp"]["wa_id"] == CUSTOMER
    again = post(wa_channel, whatsapp, payload)  # Meta re-delivers when it is unsure we got it
    assert again.status_code == 200 and again.json()["created"] == 0
    assert Message.objects.count() == 1 and Conversation.objects.count() == 1


@pytest.mark.parametrize("case", ["missing", "wrong", "other_secret", "tampered"])
def test_bad_signatures_get_401_and_nothing_is_stored(wa_channel, whatsapp, case):
    payload = whatsapp.notification("text_message")
    body = json.dumps(payload).encode()
    signature = {"missing": False, "wrong": "sha256=" + "0" * 64, "other_secret": whatsapp.sign(body, "guessed"),
                 "tampered": whatsapp.sign(body)}[case]
    if case == "tampered":
        body = body.replace(b"another color", b"another colour")
    response = post(wa_channel, whatsapp, None, raw=body, signature=signature)
    assert response.status_code == 401 and response.json()["error"] == "unauthorized"
    assert Message.objects.count() == 0
    channel = Channel.objects.get(pk=wa_channel.pk)  # anyone can send this: counted, nothing written
    assert channel.healthy and not channel.last_error and rejected_requests(channel)["count"] == 1


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b'{"object": "whatsapp_business_account"}',
                                 b'{"entry": [{"changes": [{"field": "messages", "value": {"messages": [{"id": "x"}]}}]}]}',
                                 b"[" * 5000])
def test_malformed_bodies_get_400(wa_channel, whatsapp, raw):
    response = post(wa_channel, whatsapp, None, raw=raw)
    assert response.status_code == 400
    assert Message.objects.count() == 0


def test_markup_never_reaches_the_agents_browser(wa_channel, whatsapp):
    receive(wa_channel, whatsapp, text='<script>alert(1)</script><img src=x onerror="alert(2)">Hallo')
    message = Message.objects.get()
    assert "<script" not in message.html and "<img" not in message.html and "Hallo" in message.html


# --- message types ------------------------------------------------------------------------------------------

def test_image_is_downloaded_once_and_stored_as_attachment(wa_channel, whatsapp):
    whatsapp.add_media("1003383421387256", b"\xff\xd8\xff\xe0JPEGDATA", "image/jpeg")
    receive(wa_channel, whatsapp, "image_message", caption="Kratzer am Gehäuse")
    message = Message.objects.get()
    assert message.text == "Kratzer am Gehäuse"
    attachment = message.attachments.get()
    assert attachment.content_type == "image/jpeg" and attachment.file.read() == b"\xff\xd8\xff\xe0JPEGDATA"


def test_expired_media_url_is_asked_for_again(wa_channel, whatsapp):
    whatsapp.add_media("1003383421387257", b"%PDF-1.4 invoice", "application/pdf")
    whatsapp.expire_media_urls(1)
    receive(wa_channel, whatsapp, "document_message")
    attachment = Message.objects.get().attachments.get()
    assert attachment.filename == "invoice.pdf" and attachment.file.read() == b"%PDF-1.4 invoice"
    assert sum(1 for m, p in whatsapp.requests if p == "/v21.0/1003383421387257") == 2  # a fresh URL once


def test_media_that_cannot_be_fetched_keeps_the_message_and_says_why(wa_channel, whatsapp):
    receive(wa_channel, whatsapp, "audio_message")  # the server does not know this media id
    message = Message.objects.get()
    assert message.text.startswith("[voice message] (not downloaded") and not message.attachments.exists()
    assert message.meta["whatsapp"]["media_error"]


def test_oversized_media_is_refused_by_size(wa_channel, whatsapp):
    update_channel(wa_channel, settings={**wa_channel.settings, "max_media_bytes": 10})
    whatsapp.add_media("1003383421387256", b"x" * 100, "image/jpeg")
    receive(wa_channel, whatsapp, "image_message")
    message = Message.objects.get()
    assert not message.attachments.exists() and "limit" in message.meta["whatsapp"]["media_error"]


def test_location_contacts_and_unsupported_types_are_shown_never_dropped(wa_channel, whatsapp):
    receive(wa_channel, whatsapp, "location_message", id="wamid.LOC")
    receive(wa_channel, whatsapp, "contacts_message", id="wamid.VCARD")
    receive(wa_channel, whatsapp, "unsupported_message", id="wamid.UNSUP")
    location = Message.objects.get(external_id="wamid.LOC")
    assert "Main Street Beach" in location.text and "mlat=37.483253479004" in location.text
    card = Message.objects.get(external_id="wamid.VCARD")
    assert "Kerry Fitzgerald" in card.text and "+1 (415) 555-0123" in card.text and "kfitz@example.com" in card.text
    unsupported = Message.objects.get(external_id="wamid.UNSUP")
    assert unsupported.text == "Unsupported content (unsupported)"
    assert unsupported.meta["whatsapp"]["unsupported"] == "unsupported"
    assert "131051" in unsupported.meta["whatsapp"]["errors"][0]
    assert Conversation.objects.count() == 1  # all from the same customer


def test_same_person_meets_on_one_contact_across_channels(wa_channel, whatsapp, api_channel):
    intake.submit(api_channel, [InboundMessage(external_id="form-1", sender_handle="+1 650 555 1234",
                                               text="Rückruf bitte")])
    receive(wa_channel, whatsapp)
    contacts = {m.author_contact_id for m in Message.objects.all()}
    assert len(contacts) == 1 and Message.objects.count() == 2


# --- replies, the 24-hour window and statuses ---------------------------------------------------------------

def _reply(agent_user, text="Ja, in Blau und Rot.", **kwargs):
    conversation = Conversation.objects.get()
    message = send_reply(conversation, agent_user, text, **kwargs)
    return deliver(Message.objects.select_related("conversation", "channel").get(pk=message.pk))


def test_free_reply_inside_the_window_then_delivered_and_read_statuses(wa_channel, whatsapp, agent_user):
    receive(wa_channel, whatsapp)
    message = _reply(agent_user)
    assert message.delivery_status == "sent" and message.external_id.startswith("wamid.TEST")
    sent = whatsapp.sent[-1]
    assert sent["to"] == CUSTOMER and sent["type"] == "text" and sent["text"]["body"] == "Ja, in Blau und Rot."
    # read arrives before delivered (the platform does not promise order), and each is re-delivered
    for name in ("status_read", "status_delivered", "status_read", "status_delivered"):
        receive(wa_channel, whatsapp, name, id=message.external_id)
    message.refresh_from_db()
    assert set(message.meta["receipts"]) == {"delivered", "read"}
    kinds = list(message.conversation.events.values_list("kind", flat=True))
    assert kinds.count("delivery_read") == 1 and kinds.count("delivery_delivered") == 1


def test_statuses_that_overtake_the_send_are_applied_when_it_records_the_id(wa_channel, whatsapp, agent_user):
    """Meta promises no order: delivered and read may reach the webhook before the send's answer named the wamid
    to us. They are kept, and applied once the reply has that id; nothing is lost or counted twice."""
    import itertools

    receive(wa_channel, whatsapp)
    upcoming = next(whatsapp.ids)
    whatsapp.ids = itertools.count(upcoming)
    wamid = f"wamid.TEST{upcoming:08d}"  # the id the server will give the reply
    for name in ("status_read", "status_delivered", "status_read"):
        receive(wa_channel, whatsapp, name, id=wamid)
    message = _reply(agent_user)
    assert message.external_id == wamid and message.delivery_status == "sent"
    message.refresh_from_db()
    assert set(message.meta["receipts"]) == {"delivered", "read"}
    kinds = list(message.conversation.events.values_list("kind", flat=True))
    assert kinds.count("delivery_read") == 1 and kinds.count("delivery_delivered") == 1
    assert not EarlyReceipt.objects.exists()


def test_failed_status_marks_the_reply_failed_with_the_reason(wa_channel, whatsapp, agent_user):
    receive(wa_channel, whatsapp)
    message = _reply(agent_user)
    receive(wa_channel, whatsapp, "status_failed", id=message.external_id)
    message.refresh_from_db()
    assert message.delivery_status == "failed" and "131047" in message.delivery_detail
    assert "template" in message.delivery_detail


def test_after_24_hours_only_a_template_goes_out(wa_channel, whatsapp, agent_user):
    whatsapp.add_template("lieferung_info", "de", "Hallo {{1}}, Ihre Bestellung {{2}} ist unterwegs.")
    whatsapp.add_template("pending_one", "de", "Nicht freigegeben", status="PENDING")
    receive(wa_channel, whatsapp)
    Conversation.objects.update(last_inbound_at=timezone.now() - timedelta(hours=25))
    conversation = Conversation.objects.get()
    driver = wa_channel.driver
    assert not driver.window_open(conversation)
    with pytest.raises(ActionError, match="window"):
        send_reply(conversation, agent_user, "Noch da?")
    templates = {t.key: t for t in driver.reply_templates()}
    assert set(templates) == {"order_update:en_US", "lieferung_info:de"}
    template = templates["lieferung_info:de"]
    assert template.params == 2
    text = template.render(["Sheena", "4711"])
    message = _reply(agent_user, text, meta={"template": {"name": template.name, "language": template.language,
                                                           "params": ["Sheena", "4711"]}})
    assert message.delivery_status == "sent" and message.text == "Hallo Sheena, Ihre Bestellung 4711 ist unterwegs."
    sent = whatsapp.sent[-1]
    assert sent["type"] == "template" and sent["template"]["name"] == "lieferung_info"
    assert sent["template"]["language"] == {"code": "de"}
    assert [p["text"] for p in sent["template"]["components"][0]["parameters"]] == ["Sheena", "4711"]


def test_window_closes_24_hours_after_the_customers_last_message(wa_channel, whatsapp):
    receive(wa_channel, whatsapp)
    conversation = Conversation.objects.get()
    closes = wa_channel.driver.window_closes_at(conversation)
    assert closes == conversation.last_inbound_at + timedelta(hours=24)


def test_rate_limit_and_server_errors_are_retried(wa_channel, whatsapp, agent_user):
    receive(wa_channel, whatsapp)
    whatsapp.fail("/v21.0/106540352242922/messages", 429)
    message = _reply(agent_user)
    assert message.delivery_status == "queued" and "rate limit" in Message.objects.get(pk=message.pk).delivery_detail
    whatsapp.fail("/v21.0/106540352242922/messages", 503)
    message = deliver(Message.objects.get(pk=message.pk))
    assert Message.objects.get(pk=message.pk).delivery_status == "queued"
    message = deliver(Message.objects.get(pk=message.pk))
    assert message.delivery_status == "sent" and len(whatsapp.sent) == 1


def test_revoked_token_shows_on_the_channel_and_replies_wait_for_a_new_one(wa_channel, whatsapp, agent_user):
    receive(wa_channel, whatsapp)
    whatsapp.revoke()
    message = _reply(agent_user)
    assert Message.objects.get(pk=message.pk).delivery_status == "queued"
    channel = Channel.objects.get(pk=wa_channel.pk)
    assert not channel.healthy and "new token" in channel.last_error.lower()
    ok, detail = check_channel(channel)
    assert not ok and "refused" in detail
    whatsapp.revoked = False
    whatsapp.token = "EAAG-new-token"
    update_channel(channel, credentials={"access_token": "EAAG-new-token"})
    assert check_channel(Channel.objects.get(pk=channel.pk))[0]
    message = deliver(Message.objects.get(pk=message.pk))
    assert message.delivery_status == "sent"


def test_check_connection_names_the_number(wa_channel):
    ok, detail = check_channel(wa_channel)
    assert ok and "Jasper's Market" in detail and "+1 555-078-3881" in detail
