"""The filtered view in a real browser, in German, at desktop and phone width: the tab with its count, the
reason on each row, the banner on the conversation and the button that moves it into the inbox."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from resonanz.connectors.actions import create_channel
from resonanz.inbox.actions import ingest, invite_agent
from resonanz.inbox.models import Conversation
from tests.conftest import inbound

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(os.environ.get("RESONANZ_SCREENSHOTS", "/tmp/resonanz-screenshots"))


@pytest.mark.parametrize("width", [1280, 390])
def test_filtered_view_in_german(live_server, browser, width):
    invite_agent("gefiltert@example.com", display_name="Gerda Filter", role="agent", password="pw-filter-123",
                 language="de")
    channel = create_channel(kind="api", name="Monitoring")
    notice = ingest(channel, inbound(
        "alert-1", "alerts@monitoring.example", "Die Platte von db-2 ist fast voll.",
        subject="Incident: disk /var at 97 % on db-2",
        meta={"noise": {"kind": "auto_generated", "reason": "Auto-Submitted: auto-generated"}})).conversation
    ingest(channel, inbound("h-1", "kunde@example.com", "Wo bleibt meine Bestellung?", subject="Bestellung"))
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="de-DE")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto(live_server.url + "/inbox/")
    page.fill("input[name=username]", "gefiltert@example.com")
    page.fill("input[name=password]", "pw-filter-123")
    page.click("button[type=submit]")
    page.wait_for_selector("#conversation-list")
    tab = page.locator("a.tab-filtered")
    assert tab.is_visible() and "Gefiltert" in tab.inner_text() and "1" in tab.inner_text()
    assert "Incident" not in page.inner_text("#conversation-list")
    tab.click()
    page.wait_for_selector("#conversation-list .row")
    row = page.locator("#conversation-list .row").first
    assert "Incident: disk /var" in row.inner_text() and "Automatische Meldung" in row.inner_text()
    assert "Auto-Submitted: auto-generated" in row.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"filtered-view-de-{width}.png"), full_page=True)
    row.locator("a").click()
    page.wait_for_selector("#filtered-notice")
    assert page.locator("#filtered-notice").is_visible()
    assert "Auto-Submitted: auto-generated" in page.inner_text("#filtered-notice")
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
    page.screenshot(path=str(SHOTS / f"filtered-conversation-de-{width}.png"), full_page=True)
    page.click("#filtered-notice button")
    page.wait_for_selector("text=In den Posteingang verschoben.")
    assert not page.locator("#filtered-notice").count()
    assert Conversation.objects.get(pk=notice.pk).filtered == ""
    context.close()
    assert not errors, errors
