"""WhatsApp templates through the REST API: list what the conversation's channel offers, send one with its
placeholders filled (validated), and the window and platform errors as clear 4xx/503 answers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from resonanz.connectors.intake import InboundMessage
from resonanz.inbox.actions import ingest
from resonanz.inbox.delivery import deliver
from resonanz.inbox.models import Conversation, Message
from tests.connectors.messaging.test_whatsapp import receive

pytestmark = pytest.mark.django_db


def test_templates_are_listed_with_the_window(wa_channel, whatsapp, api):
    receive(wa_channel, whatsapp)
    conversation = Conversation.objects.get()
    answer = api.get(f"/api/conversations/{conversation.pk}/templates/").json()
    assert answer["window_open"] is True and answer["window_closes_at"]
    assert answer["templates"] == [{"key": "order_update:en_US", "name": "order_update", "language": "en_US",
                                    "category": "UTILITY", "body": "Hello {{1}}, your order {{2}} has shipped.",
                                    "params": 2}]


def test_a_template_goes_out_after_the_window_closed_and_free_text_is_refused(wa_channel, whatsapp, api):
    receive(wa_channel, whatsapp)
    Conversation.objects.update(last_inbound_at=timezone.now() - timedelta(hours=30))
    conversation = Conversation.objects.get()
    base = f"/api/conversations/{conversation.pk}/"
    assert api.get(base + "templates/").json()["window_open"] is False
    refused = api.post(base + "reply/", {"text": "Noch da?"}, format="json")
    assert refused.status_code == 400 and "window" in str(refused.json())
    sent = api.post(base + "template/", {"template": "order_update:en_US", "params": ["Kim", "A-17"]}, format="json")
    assert sent.status_code == 201, sent.content
    assert sent.json()["text"] == "Hello Kim, your order A-17 has shipped."
    deliver(Message.objects.get(direction="outbound"))  # after commit in production
    request = whatsapp.sent[-1]
    assert request["type"] == "template" and request["template"]["name"] == "order_update"
    assert request["template"]["components"][0]["parameters"] == [{"type": "text", "text": "Kim"},
                                                                  {"type": "text", "text": "A-17"}]
    assert Message.objects.get(direction="outbound").delivery_status == "sent"


@pytest.mark.parametrize(("body", "field"), [
    ({"template": "order_update:en_US", "params": ["Kim"]}, "params"),
    ({"template": "order_update:en_US", "params": ["Kim", "  "]}, "params"),
    ({"template": "order_update:en_US", "params": ["Kim", "x" * 1025]}, "params"),
    ({"template": "nope:de", "params": []}, "template"),
    ({"params": ["a"]}, "template"),
    ({"template": "order_update:en_US", "params": "Kim"}, "params"),
])
def test_bad_template_requests_name_the_field_and_send_nothing(wa_channel, whatsapp, api, body, field):
    receive(wa_channel, whatsapp)
    conversation = Conversation.objects.get()
    answer = api.post(f"/api/conversations/{conversation.pk}/template/", body, format="json")
    assert answer.status_code == 400 and field in answer.json(), answer.content
    assert not Message.objects.filter(direction="outbound").exists() and not whatsapp.sent


def test_platform_down_is_a_503_and_channels_without_templates_say_so(wa_channel, whatsapp, api, api_channel):
    receive(wa_channel, whatsapp)
    conversation = Conversation.objects.get()
    whatsapp.revoke()
    cache.clear()
    down = api.post(f"/api/conversations/{conversation.pk}/template/",
                    {"template": "order_update:en_US", "params": ["a", "b"]}, format="json")
    assert down.status_code == 503 and "could not be loaded" in str(down.json())
    assert api.get(f"/api/conversations/{conversation.pk}/templates/").status_code == 503
    ingest(api_channel, InboundMessage(external_id="x1", sender_handle="kim@example.com", text="Hallo"))
    other = Conversation.objects.exclude(pk=conversation.pk).get()
    listed = api.get(f"/api/conversations/{other.pk}/templates/").json()
    assert listed == {"window_open": None, "window_closes_at": None, "templates": []}
    refused = api.post(f"/api/conversations/{other.pk}/template/", {"template": "a:b"}, format="json")
    assert refused.status_code == 400 and "no approved templates" in str(refused.json())
