"""The conversation page of a WhatsApp conversation: when the window closes, and the approved templates."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from resonanz.inbox.models import Conversation, Message
from tests.connectors.messaging.test_whatsapp import receive

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent_client(admin_user):
    client = Client()
    client.force_login(admin_user)  # English UI
    return client


def test_open_window_shows_when_it_closes_and_the_free_reply_box(wa_channel, whatsapp, agent_client):
    receive(wa_channel, whatsapp)
    conversation = Conversation.objects.get()
    page = agent_client.get(f"/inbox/conversations/{conversation.pk}/").content.decode()
    assert "The window closes at" in page and 'id="reply-form"' in page
    assert "order_update" in page and "Hello {{1}}, your order {{2}} has shipped." in page


def test_closed_window_offers_only_templates_and_sends_one(wa_channel, whatsapp, agent_client):
    receive(wa_channel, whatsapp)
    Conversation.objects.update(last_inbound_at=timezone.now() - timedelta(hours=30))
    conversation = Conversation.objects.get()
    url = f"/inbox/conversations/{conversation.pk}/"
    page = agent_client.get(url).content.decode()
    assert "The window for free replies has closed." in page and 'id="reply-form"' not in page
    refused = agent_client.post(url + "reply/", {"text": "Noch da?"}, follow=True).content.decode()
    assert "window for free replies has closed" in refused and not Message.objects.filter(direction="outbound")
    missing = agent_client.post(url + "template/", {"template": "order_update:en_US", "param": ["Kim"]}, follow=True)
    assert "Fill in every placeholder" in missing.content.decode()
    unknown = agent_client.post(url + "template/", {"template": "nope:de", "param": []}, follow=True)
    assert "not (or no longer) approved" in unknown.content.decode()
    agent_client.post(url + "template/", {"template": "order_update:en_US", "param": ["Kim", "A-17"]})
    reply = Message.objects.get(direction="outbound")
    assert reply.text == "Hello Kim, your order A-17 has shipped."
    assert reply.meta["template"] == {"name": "order_update", "language": "en_US", "params": ["Kim", "A-17"]}


def test_templates_that_cannot_load_are_explained_not_a_500(wa_channel, whatsapp, agent_client):
    receive(wa_channel, whatsapp)
    whatsapp.revoke()
    conversation = Conversation.objects.get()
    response = agent_client.get(f"/inbox/conversations/{conversation.pk}/")
    assert response.status_code == 200 and "The templates could not be loaded" in response.content.decode()
