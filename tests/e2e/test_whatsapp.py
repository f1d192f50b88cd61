"""WhatsApp end to end in headless chromium: connect the channel, receive a signed webhook, answer, watch the
delivered and read statuses arrive, and send a template after the 24-hour window closed (German, phone width)."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from resonanz.connectors.models import Channel
from resonanz.inbox.actions import ensure_default_teams, invite_agent
from resonanz.inbox.models import Conversation, Message
from tests.support.whatsapp.server import PHONE_NUMBER_ID, WABA_ID, WhatsAppServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(os.environ.get("RESONANZ_SCREENSHOTS", "/tmp/resonanz-screenshots"))


@pytest.fixture
def whatsapp_server():
    server = WhatsAppServer().start()
    yield server
    server.stop()


def test_whatsapp_conversation_with_window_statuses_and_templates(live_server, page, whatsapp_server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    ensure_default_teams()
    invite_agent("ada@example.com", display_name="Ada Admin", role="admin", password="pw-ada-123", language="de")
    server, base = whatsapp_server, live_server.url
    server.add_template("versand_info", "de", "Hallo {{1}}, Ihre Bestellung {{2}} ist unterwegs.")

    # 1. The administrator connects WhatsApp with the fields Meta issues.
    page.goto(base + "/inbox/settings/channels/")
    page.fill("input[name=username]", "ada@example.com")
    page.fill("input[name=password]", "pw-ada-123")
    page.click("button[type=submit]")
    page.select_option("select[name=kind]", "whatsapp")
    assert page.is_visible("input[name=whatsapp__phone_number_id]")
    assert not page.is_visible("input[name=telegram__bot_token]")  # only the chosen platform's fields
    assert "Telefonnummern-ID" in page.inner_text("form.card")
    page.fill("input[name=name]", "WhatsApp Service")
    page.fill("input[name=whatsapp__phone_number_id]", PHONE_NUMBER_ID)
    page.fill("input[name=whatsapp__business_account_id]", WABA_ID)
    page.fill("input[name=whatsapp__access_token]", server.token)
    page.fill("input[name=whatsapp__app_secret]", server.app_secret)
    page.fill("input[name=whatsapp__verify_token]", "mein-token")
    page.fill("input[name=whatsapp__api_base]", server.api)
    page.click("button.primary[type=submit]")
    page.wait_for_selector("text=Webhook-Adresse")
    channel = Channel.objects.get(kind="whatsapp")
    page.click("text=Verbindung testen")
    page.wait_for_selector("text=Jasper's Market")

    # 2. A customer writes: Meta posts a signed webhook.
    hook = f"{base}/hooks/{channel.slug}/"
    answer = server.deliver(hook, server.notification("text_message", text="Gibt es die Jacke auch in Blau?",
                                                      profile_name="Sheena Nelson"))
    assert answer.status_code == 200, answer.text
    conversation = Conversation.objects.get()
    page.goto(f"{base}/inbox/conversations/{conversation.pk}/")
    window = page.inner_text("#reply-window")
    assert "Das Zeitfenster schließt am" in window and "Vorlage" not in page.inner_text("#reply-form")

    # 3. The agent answers inside the window; delivered and read arrive live.
    page.fill("#reply-text", "Ja, in Blau und in Rot.")
    page.click("#reply-form button.primary")
    page.wait_for_selector("text=Antwort gesendet.")
    reply = Message.objects.get(direction="outbound")
    assert reply.delivery_status == "sent" and server.sent[-1]["text"]["body"].startswith("Ja, in Blau und in Rot.")
    server.deliver(hook, server.notification("status_delivered", id=reply.external_id))
    page.wait_for_selector(f"#m{reply.pk} .receipt-delivered", timeout=30000)
    assert "Zugestellt" in page.inner_text(f"#m{reply.pk} header")
    server.deliver(hook, server.notification("status_read", id=reply.external_id))
    page.wait_for_selector(f"#m{reply.pk} .receipt-read", timeout=30000)
    assert "Gelesen" in page.inner_text(f"#m{reply.pk} header")
    page.screenshot(path=str(SHOTS / "whatsapp-conversation-de-desktop.png"), full_page=True)

    # 4. A day later the window has closed: only templates, with their placeholders.
    Conversation.objects.filter(pk=conversation.pk).update(last_inbound_at=timezone.now() - timedelta(hours=26))
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/inbox/conversations/{conversation.pk}/")
    window = page.inner_text("#reply-window")
    assert "Das Zeitfenster für freie Antworten ist geschlossen." in window
    assert page.locator("#reply-form").count() == 0
    template = page.locator("details.template", has_text="versand_info")
    if not template.get_attribute("open"):
        template.locator("summary").click()
    fields = template.locator("input[name=param]")
    assert fields.count() == 2
    fields.nth(0).fill("Sheena")
    fields.nth(1).fill("4711")
    page.screenshot(path=str(SHOTS / "whatsapp-template-de-phone.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide on a phone"
    template.locator("button.primary").click()
    page.wait_for_selector("text=Vorlage gesendet.")
    sent = server.sent[-1]
    assert sent["type"] == "template" and sent["template"]["name"] == "versand_info"
    assert "Hallo Sheena, Ihre Bestellung 4711 ist unterwegs." in page.inner_text("#messages")
    assert not errors, errors
