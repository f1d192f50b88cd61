"""A Mastodon conversation end to end in headless chromium: a customer's mention arrives in the open inbox, the
agent answers with a signed public reply that lands threaded under the mention on the server, and the
customer's answer to that reply appears in the same open conversation without a reload."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from resonanz.connectors.actions import create_channel
from resonanz.connectors.tasks import poll_channel
from resonanz.inbox.actions import invite_agent
from resonanz.inbox.models import Message
from tests.connectors.social.images import png
from tests.support.mastodon.fixtures import mastodon  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(os.environ.get("RESONANZ_SCREENSHOTS", "/tmp/resonanz-screenshots"))


def test_mention_signed_reply_and_the_customers_answer_in_one_open_conversation(
        live_server, browser, settings, mastodon):  # noqa: F811
    settings.RESONANZ_OUTBOUND_ALLOW = ["127.0.0.1"]
    invite_agent("berta@example.com", display_name="Berta Beispiel", role="agent", password="pw-berta-123",
                 language="de")
    channel = create_channel(kind="mastodon", name="Fediverse", settings={"server_url": mastodon.url},
                             credentials={"access_token": mastodon.firma_token})
    assert channel.sign_replies  # Mastodon channels sign public replies by default
    poll_channel(channel)
    server = mastodon.server

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="de-DE")
    page = context.new_page()
    page.route("https://social.example/**", lambda route: route.fulfill(status=200, content_type="image/png",
                                                                       body=png()))
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(live_server.url + "/inbox/")
        page.fill("input[name=username]", "berta@example.com")
        page.fill("input[name=password]", "pw-berta-123")
        page.click("button[type=submit]")
        page.wait_for_selector("#conversation-list")

        # 1. the customer mentions the company on her server; the worker's poll brings it into the open inbox
        mention = server.post(mastodon.kunde_token, "@firma Mein Rad quietscht seit der Reparatur <b>laut</b>!")
        assert poll_channel(channel) == 1
        page.wait_for_selector("text=Mein Rad quietscht", timeout=30000)
        conversation = Message.objects.get(external_id=mention["id"]).conversation
        page.goto(live_server.url + f"/inbox/conversations/{conversation.pk}/")
        assert "Mein Rad quietscht" in page.inner_text("#messages")
        assert page.locator("#messages b").count() == 0 or "laut" in page.inner_text("#messages")

        # 2. the agent answers; the reply goes out signed, threaded under the mention, mentioning her
        page.fill("#reply-text", "Das tut uns leid! Bringen Sie es bitte vorbei, wir sehen es uns an.")
        page.click("#reply-form button.primary")
        page.wait_for_selector("text=Antwort gesendet.")
        ours = [s for s in server.statuses.values() if s["account"]["username"] == "firma"]
        assert len(ours) == 1 and ours[0]["in_reply_to_id"] == mention["id"]
        assert ours[0]["content"].endswith("^BB</p>") and "@<span>kunde</span>" in ours[0]["content"]
        assert "^BB" in page.inner_text("#messages")
        # the message about the sent reply spans the page; the thread keeps its wide column
        assert page.evaluate("document.querySelector('section.thread').getBoundingClientRect().width") > 700

        # 3. she answers the reply; it threads into the same conversation, visible without a reload
        answer = server.post(mastodon.kunde_token, "@firma Super, ich komme morgen vorbei.",
                             in_reply_to_id=ours[0]["id"])
        assert poll_channel(channel) == 1
        page.wait_for_selector("text=ich komme morgen vorbei", timeout=30000)
        assert Message.objects.get(external_id=answer["id"]).conversation_id == conversation.pk
        page.screenshot(path=str(SHOTS / "mastodon-conversation-de-1280.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 900})
        page.screenshot(path=str(SHOTS / "mastodon-conversation-de-390.png"), full_page=True)
        wide = page.evaluate("""() => Array.from(document.querySelectorAll('body *')).filter(e =>
            e.getBoundingClientRect().right > document.documentElement.clientWidth + 1
            && !e.closest('.mainnav')).slice(0, 8)  // the main navigation scrolls sideways on phones
            .map(e => e.tagName + '.' + e.className + ' ' + (e.textContent || '').slice(0, 60))""")
        assert wide == [], f"wider than a phone: {wide}"
        assert errors == []
    finally:
        context.close()
