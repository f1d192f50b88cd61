"""The agent UI through Django's test client: inbox, conversation, admin pages, language."""

from __future__ import annotations

import pytest
from django.test import Client

from resonanz.inbox.actions import ingest, update_conversation
from resonanz.inbox.models import Conversation, Message
from tests.conftest import inbound

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent_client(agent_user):
    client = Client()
    assert client.login(username="berta@example.com", password="pw-agent-123")
    return client


@pytest.fixture
def admin_client_(admin_user):
    client = Client()
    assert client.login(username="admin@example.com", password="pw-admin-123")
    return client


def test_pages_require_login(client):
    for url in ("/inbox/", "/contacts/", "/inbox/settings/channels/", "/inbox/updates/"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_inbox_counts_filters_and_search(agent_client, api_channel, agent_user, teams):
    a = ingest(api_channel, inbound("1", "a@example.com", text="Paket beschädigt angekommen", subject="Schaden"))
    b = ingest(api_channel, inbound("2", "b@example.com", text="Frage zur Rechnung", subject="Rechnung"))
    update_conversation(b.conversation, agent_user, status="resolved", assignee=agent_user)
    page = agent_client.get("/inbox/").content.decode()
    assert "Schaden" in page and "Rechnung" not in page  # default view: what still needs work
    assert 'data-count="active">1<' in page and 'data-count="resolved">1<' in page
    assert "Rechnung" in agent_client.get("/inbox/?status=resolved").content.decode()
    mine = agent_client.get("/inbox/?status=resolved&assignee=me").content.decode()
    assert "Rechnung" in mine
    assert "Schaden" not in agent_client.get("/inbox/?assignee=me").content.decode()
    found = agent_client.get("/inbox/?status=all&q=beschädigt").content.decode()
    assert "Schaden" in found and "Rechnung" not in found
    found = agent_client.get("/inbox/?status=all&q=rech").content.decode()  # prefix search
    assert "Rechnung" in found
    assert a.conversation.pk


def test_conversation_view_shows_thread_history_and_sanitized_html(agent_client, api_channel, form_channel):
    old = ingest(form_channel, inbound("f1", "kunde@example.com", text="Alte Frage", subject="Vorgeschichte"))
    update_conversation(old.conversation, None, status="closed")
    new = ingest(api_channel, inbound("m1", "kunde@example.com", text="", html="<b>Neu</b><script>alert('x')</script>"))
    page = agent_client.get(f"/inbox/conversations/{new.conversation.pk}/").content.decode()
    assert "<b>Neu</b>" in page and "alert('x')" not in page
    assert "Vorgeschichte" in page  # the customer's earlier conversation on another channel


def test_reply_note_and_update_through_forms(agent_client, api_channel, teams):
    result = ingest(api_channel, inbound("m1"))
    url = f"/inbox/conversations/{result.conversation.pk}/"
    assert agent_client.post(url + "reply/", {"text": "Antwort", "status": "pending"}).status_code == 302
    assert agent_client.post(url + "note/", {"text": "Notiz"}).status_code == 302
    response = agent_client.post(url + "update/", {"status": "open", "priority": "3", "team": teams["Sales"].pk,
                                                   "assignee": "", "tags": "vip, rückruf"})
    assert response.status_code == 302
    conversation = Conversation.objects.get(pk=result.conversation.pk)
    assert conversation.status == "open" and conversation.priority == 3 and conversation.team == teams["Sales"]
    assert sorted(conversation.tags.values_list("name", flat=True)) == ["rückruf", "vip"]
    assert list(Message.objects.filter(conversation=conversation).values_list("direction", flat=True)) == [
        "inbound", "outbound", "note"]
    empty = agent_client.post(url + "reply/", {"text": ""}, follow=True)
    assert "leer" in empty.content.decode() or "empty" in empty.content.decode()


def test_updates_feed_reports_changed_conversations(agent_client, api_channel):
    start = agent_client.get("/inbox/updates/?after=0").json()["last"]
    result = ingest(api_channel, inbound("m1"))
    data = agent_client.get(f"/inbox/updates/?after={start}").json()
    assert data["conversations"] == [result.conversation.pk] and data["last"] > start
    assert agent_client.get("/inbox/updates/?after=x").status_code == 400


def test_agent_language_is_german(agent_client, api_channel):
    ingest(api_channel, inbound("m1"))
    page = agent_client.get("/inbox/").content.decode()
    assert "Posteingang" in page and 'lang="de"' in page


def test_admin_pages_for_admins_only(agent_client, admin_client_, teams):
    assert agent_client.get("/inbox/settings/channels/").status_code == 403
    response = admin_client_.post("/inbox/settings/channels/", {"kind": "web_form", "name": "Support-Formular",
                                                                "enabled": "on"})
    assert response.status_code == 302
    detail = admin_client_.get(response["Location"]).content.decode()
    assert "/contact/support-formular/" in detail
    invite = admin_client_.post("/inbox/settings/agents/", {"email": "carl@example.com", "role": "agent",
                                                            "language": "en", "teams": [teams["PR"].pk]}, follow=True)
    assert "/accounts/reset/" in invite.content.decode()
    assert admin_client_.post("/inbox/settings/teams/", {"name": "Billing", "is_active": "on"}).status_code == 302
    assert "Billing" in admin_client_.get("/inbox/settings/teams/").content.decode()


def test_deactivated_agent_loses_assignments_and_login(admin_client_, agent_user, api_channel):
    result = ingest(api_channel, inbound("m1"))
    update_conversation(result.conversation, None, assignee=agent_user)
    admin_client_.post(f"/inbox/settings/agents/{agent_user.agent.pk}/active/", {"active": "0"})
    assert Conversation.objects.get(pk=result.conversation.pk).assignee is None
    assert not Client().login(username="berta@example.com", password="pw-agent-123")


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json()["status"] == "ok"


def test_healthz_names_the_broken_broker(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503 and "broker" in response.json()["failing"]


def test_inline_images_show_and_other_attachments_download(agent_client, api_channel):
    from resonanz.connectors.drivers.base import InboundMessage

    png = b"\x89PNG\r\n\x1a\n" + b"0" * 20
    result = ingest(api_channel, InboundMessage(
        external_id="m1", sender_handle="a@example.com", text="Foto anbei",
        html='<p>Foto:</p><img src="cid:foto1@example">',
        attachments=[{"filename": "foto.png", "content_type": "image/png", "content": png, "content_id": "<foto1@example>"},
                     {"filename": "evil.svg", "content_type": "image/svg+xml", "content": b"<svg onload=alert(1)>"}]))
    page = agent_client.get(f"/inbox/conversations/{result.conversation.pk}/").content.decode()
    image, svg = result.message.attachments.order_by("id")
    assert f'src="/inbox/attachments/{image.pk}/?inline=1"' in page
    shown = agent_client.get(f"/inbox/attachments/{image.pk}/?inline=1")
    assert shown["Content-Type"] == "image/png" and "attachment" not in shown.get("Content-Disposition", "")
    forced = agent_client.get(f"/inbox/attachments/{svg.pk}/?inline=1")
    assert forced["Content-Type"] == "application/octet-stream" and "attachment" in forced["Content-Disposition"]


def test_channel_settings_and_credentials_in_the_ui(admin_client_):
    from resonanz.connectors.models import Channel

    response = admin_client_.post("/inbox/settings/channels/", {
        "kind": "email", "name": "Support-Mail", "enabled": "on", "poll_interval": "60",
        "settings": '{"imap_host": "127.0.0.1", "imap_port": 1}', "credentials": '{"imap_password": "geheim-123"}'})
    assert response.status_code == 302, response.content.decode()[:2000]
    channel = Channel.objects.get(name="Support-Mail")
    assert channel.settings["imap_host"] == "127.0.0.1" and channel.credentials["imap_password"] == "geheim-123"
    page = admin_client_.get(response["Location"]).content.decode()
    assert "geheim-123" not in page and "ge••••••23" in page
    # saving without credentials keeps them; broken JSON is refused with a message
    admin_client_.post(response["Location"], {"name": "Support-Mail", "enabled": "on", "poll_interval": "120",
                                              "settings": '{"imap_host": "mail.example.com"}', "credentials": ""})
    channel.refresh_from_db()
    assert channel.credentials["imap_password"] == "geheim-123" and channel.poll_interval == 120
    bad = admin_client_.post(response["Location"], {"name": "Support-Mail", "poll_interval": "60",
                                                    "settings": "{nope"}).content.decode()
    assert "JSON" in bad


def test_webhook_secret_is_shown_once(admin_client_):
    from resonanz.connectors.actions import create_channel

    channel = create_channel(kind="webhook", name="Shop-Hook")
    page = admin_client_.post(f"/inbox/settings/channels/{channel.pk}/secret/", follow=True).content.decode()
    channel.refresh_from_db()
    secret = channel.credentials["secret"]
    assert secret in page
    assert secret not in admin_client_.get(f"/inbox/settings/channels/{channel.pk}/").content.decode()
