"""The getting-started guide of a fresh installation: the steps, the banner in the inbox, loading and removing
the demo data from the browser's button (the task runs eagerly in tests, as the worker would run it)."""

from __future__ import annotations

import pytest
from django.test import Client

from resonanz.connectors.actions import create_channel
from resonanz.inbox.actions import invite_agent
from resonanz.inbox.models import Conversation

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client():
    invite_agent("chefin@example.com", display_name="Chefin", role="admin", password="pw-admin-12345", language="de")
    client = Client()
    client.login(username="chefin@example.com", password="pw-admin-12345")
    return client


def test_fresh_install_shows_the_guide_until_a_channel_and_a_colleague_exist(admin_client):
    inbox = admin_client.get("/inbox/").content.decode()
    assert 'id="start-banner"' in inbox and "Erste Schritte" in inbox
    page = admin_client.get("/inbox/start/").content.decode()
    assert "0 von 3 Schritten erledigt" in page and "Den ersten Kanal verbinden" in page
    assert "/inbox/settings/channels/" in page and "/inbox/settings/agents/" in page
    create_channel(kind="api", name="Shop")
    assert "1 von 3 Schritten erledigt" in admin_client.get("/inbox/start/").content.decode()
    invite_agent("tom@example.com", role="agent")
    page = admin_client.get("/inbox/start/").content.decode()
    assert "2 von 3 Schritten erledigt" in page and "1 Kollegin oder Kollege eingeladen" in page
    assert 'id="start-banner"' not in admin_client.get("/inbox/").content.decode()  # done: no banner


def test_the_guide_can_be_hidden_and_is_for_administrators_only(admin_client):
    admin_client.post("/inbox/start/hide/")
    assert 'id="start-banner"' not in admin_client.get("/inbox/").content.decode()
    invite_agent("tom@example.com", role="agent", password="pw-tom-123456")
    agent = Client()
    agent.login(username="tom@example.com", password="pw-tom-123456")
    assert 'id="start-banner"' not in agent.get("/inbox/").content.decode()
    assert agent.get("/inbox/start/").status_code == 403
    assert agent.post("/inbox/start/demo/").status_code == 403


def test_demo_data_loads_and_goes_again_from_the_guide(admin_client, settings, model_dir):
    settings.RESONANZ_DEMO_CONVERSATIONS = 4
    own = create_channel(kind="api", name="Echter Shop")
    answer = admin_client.post("/inbox/start/demo/")
    assert answer.status_code == 302
    # four customer conversations; the listening stream's rules took a negative post with reach into the inbox
    assert Conversation.objects.filter(is_demo=True).exclude(channel__kind="feed").count() == 4
    total = Conversation.objects.filter(is_demo=True).count()
    page = admin_client.get("/inbox/start/").content.decode()
    assert f"{total} Demo-Konversationen geladen" in page and "Demodaten entfernen" in page
    admin_client.post("/inbox/start/demo/", {"action": "remove"})
    assert not Conversation.objects.filter(is_demo=True).exists()
    assert own.__class__.objects.filter(pk=own.pk).exists()  # the installation's own channel stays
