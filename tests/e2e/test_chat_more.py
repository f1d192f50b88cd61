"""The widget's newer parts in a real browser, in German at 390 px on a host page from another origin: the
proactive invitation, files both ways (with the limits' messages), the queue while waiting for a person,
typing both ways, and the satisfaction question after the chat, feeding the same survey as the emailed one.

Fails on any console error or failed request; screenshots go to var/screenshots/chat-more/ (or
$RESONANZ_SCREENSHOTS)."""

from __future__ import annotations

import functools
import http.server
import os
import threading
from pathlib import Path

import pytest

from resonanz.connectors.actions import create_channel
from resonanz.inbox import typing
from resonanz.inbox.actions import invite_agent, send_reply, update_conversation
from resonanz.inbox.models import Attachment, Conversation
from resonanz.insights.models import Survey
from resonanz.knowledge.bot import HANDOVER_TAG
from tests.chat.test_more import png

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("RESONANZ_SCREENSHOTS") or Path(__file__).resolve().parents[2] / "var" / "screenshots"
             ) / "chat-more"

PAGE = """<!doctype html>
<html lang="de"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Beispiel-Shop: Preise</title><link rel="icon" href="data:,">
<style>body {{ font-family: Georgia, serif; margin: 2rem; }}</style>
</head><body><h1>Unsere Preise</h1><p>Alle Tarife im Überblick.</p>
<script src="{base}/static/resonanz/chat/widget.js" data-resonanz-chat="{slug}" async></script>
</body></html>"""


@pytest.fixture
def host_site(tmp_path):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def until(page, check, seconds: float = 10) -> None:
    """Polls ``check()`` from the test side (the page's CSP refuses Playwright's in-page polling)."""
    for _ in range(int(seconds * 10)):
        if check():
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"timed out after {seconds} s")


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def test_invitation_files_queue_typing_and_rating_in_german_on_a_phone(live_server, browser, host_site, model_dir,
                                                                        tmp_path):
    root, origin = host_site
    agent_user = invite_agent("berta@example.com", display_name="Berta Beispiel", role="agent",
                              password="pw-agent-123", language="de")
    channel = create_channel(kind="chat", name="Beispiel-Shop", settings={
        "allowed_origins": [origin], "max_upload_mb": 1,
        "invitations": [{"message": {"de": "Fragen zu unseren Preisen? Wir helfen gern.", "en": "Questions?"},
                         "url": "*/preise*", "after_seconds": 1}]})
    (root / "preise.html").write_text(PAGE.format(base=live_server.url, slug=channel.slug))
    context = browser.new_context(viewport={"width": 390, "height": 780}, is_mobile=True, locale="de-DE")
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        visit(page, origin, channel, agent_user, tmp_path)
        assert errors == [], errors
    finally:
        context.close()


def visit(page, origin, channel, agent_user, tmp_path):
    page.goto(origin + "/preise.html")
    # 1. The invitation appears beside the button after a second; it opens the chat with its message.
    invitation = page.locator(".invite-text", has_text="Fragen zu unseren Preisen?")
    invitation.wait_for(timeout=15000)
    box = page.locator(".invite").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    shot(page, "1-invitation-de-390")
    invitation.click()
    dialog = page.get_by_role("dialog")
    dialog.wait_for()
    assert dialog.bounding_box()["width"] == 390
    assert "Fragen zu unseren Preisen?" in page.locator(".line.greeting").last.inner_text()

    page.locator("textarea#rz-input").fill("Hallo, ich habe eine Frage zu meiner Rechnung.")
    page.keyboard.press("Enter")
    page.locator(".line.visitor:not(.pending)", has_text="Frage zu meiner Rechnung").wait_for(timeout=60000)
    conversation = Conversation.objects.get(channel=channel)

    # 2. Files: too large and the wrong kind are explained at once; an image arrives and is shown.
    big = tmp_path / "rechnung-gross.pdf"
    big.write_bytes(b"%PDF-" + b"x" * (1100 * 1024))
    page.locator("input.file-input").set_input_files(str(big))
    alert = page.get_by_role("alert")
    alert.filter(has_text="Diese Datei ist zu groß (höchstens").wait_for()
    program = tmp_path / "programm.exe"
    program.write_bytes(b"MZ" + b"\0" * 200)
    page.locator("input.file-input").set_input_files(str(program))
    alert.filter(has_text="Senden können Sie Bilder (PNG, JPEG, GIF, WebP), PDF- und Textdateien.").wait_for()
    shot(page, "2-file-refused-de-390")
    image = tmp_path / "fehlermeldung.png"
    image.write_bytes(png(240, 135, (200, 60, 60)))
    page.locator("input.file-input").set_input_files(str(image))
    shown = page.locator(".line.visitor img[alt='fehlermeldung.png']")
    shown.wait_for(timeout=30000)
    until(page, lambda: shown.evaluate("i => i.complete && i.naturalWidth > 0"))
    assert alert.is_hidden()
    assert Attachment.objects.get(message__conversation=conversation).filename == "fehlermeldung.png"

    # 3. Handed over and nobody has answered yet: the queue position and the expected wait.
    update_conversation(conversation, None, tags=[HANDOVER_TAG])
    page.locator(".status", has_text="Sie sind Nr. 1 in der Warteschlange. Geschätzte Wartezeit: etwa 3 Min."
                 ).wait_for(timeout=15000)
    shot(page, "3-queue-de-390")

    # 4. Typing both ways: the agent sees the visitor typing; the visitor sees the agent typing.
    page.locator("textarea#rz-input").fill("Die Rechnungsnummer ist")
    page.locator("textarea#rz-input").press("Space")
    until(page, lambda: typing.typing(conversation.pk, "customer") is not None)
    typing.note_typing(conversation.pk, "agent", name="Berta Beispiel")
    page.locator(".typing", has_text="Berta Beispiel schreibt…").wait_for(timeout=15000)
    shot(page, "4-agent-typing-de-390")

    # 5. The agent's answer with an image (and its description) reaches the widget.
    send_reply(Conversation.objects.get(pk=conversation.pk), agent_user, "Danke! So finden Sie die Nummer:",
               images=[{"filename": "rechnung.png", "content_type": "image/png", "content": png(),
                        "alt": "Rechnung mit markierter Rechnungsnummer oben rechts"}])
    page.locator(".line.agent img[alt='Rechnung mit markierter Rechnungsnummer oben rechts']").wait_for(
        timeout=15000)
    page.locator(".status", has_text="Berta Beispiel antwortet Ihnen.").wait_for(timeout=15000)
    page.locator(".typing").wait_for(state="hidden", timeout=15000)  # sending ends the agent's typing signal
    assert "Warteschlange" not in page.locator(".status").inner_text()
    shot(page, "5-agent-image-de-390")

    # 6. The chat ends: the satisfaction question; the answer lands in the conversation's survey.
    update_conversation(Conversation.objects.get(pk=conversation.pk), agent_user, status="resolved")
    question = page.get_by_text("Wie zufrieden sind Sie mit diesem Chat?")
    question.wait_for(timeout=15000)
    page.get_by_role("button", name="Bewertung senden").click()
    page.locator(".rating .error", has_text="Bitte wählen Sie eine Bewertung von 1 bis 5.").wait_for()
    page.get_by_role("button", name="4 von 5").click()
    assert page.locator(".rating .error").is_hidden()
    assert page.get_by_role("button", name="4 von 5").get_attribute("aria-pressed") == "true"
    page.get_by_label("Möchten Sie uns noch etwas sagen? (freiwillig)").fill("Schnell und freundlich, danke!")
    shot(page, "6-rating-de-390")
    page.get_by_role("button", name="Bewertung senden").click()
    page.get_by_text("Danke für Ihre Rückmeldung!").wait_for(timeout=15000)
    survey = Survey.objects.get(conversation=conversation)
    assert (survey.rating, survey.comment) == (4, "Schnell und freundlich, danke!")
    shot(page, "7-rated-de-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    # 7. Closed by the visitor: no invitation again on the next page view within the period.
    page.keyboard.press("Escape")  # focus went back to the message box after rating, so Escape closes
    assert page.get_by_role("dialog").is_hidden()
    page.reload()
    page.locator("button.launcher").wait_for()
    page.wait_for_timeout(2000)
    assert page.locator(".invite-text").is_hidden()
    assert page.get_by_text("Wie zufrieden sind Sie mit diesem Chat?").count() == 0  # answered: not asked again
