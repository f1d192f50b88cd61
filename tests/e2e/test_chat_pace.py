"""The widget under the chat's time check and under back-pressure, in a real browser (German, 390 px): a line
sent at once after the chat opened, and a line sent while the pipeline is far behind, are refused by the server
(429 "too fast", 503 "busy" with Retry-After); the widget keeps the text in a pending bubble, says so, sends it
again when the server said, and it is stored once.

The only failed requests allowed are those refusals; screenshots go to var/screenshots/chat-pace/ (or
$RESONANZ_SCREENSHOTS)."""

from __future__ import annotations

import functools
import http.server
import os
import re
import threading
from pathlib import Path

import pytest

from resonanz.connectors.actions import create_channel
from resonanz.core import backpressure
from resonanz.inbox.models import Message
from tests.e2e.test_chat_more import PAGE, until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("RESONANZ_SCREENSHOTS") or Path(__file__).resolve().parents[2] / "var" / "screenshots"
             ) / "chat-pace"
REFUSAL = re.compile(r"/chat/[\w-]+/messages/")


@pytest.fixture
def host_site(tmp_path):
    """The customer's own site, another origin than Resonanz."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def test_a_refused_line_stays_and_is_sent_again_when_the_server_says(live_server, browser, host_site, settings,
                                                                     monkeypatch):
    root, origin = host_site
    settings.RESONANZ_CHAT_MIN_SECONDS = 6
    settings.RESONANZ_BACKLOG_RETRY_SECONDS = 2
    monkeypatch.setattr(backpressure, "CHECK_SECONDS", 0)
    backpressure._checked.clear()
    channel = create_channel(kind="chat", name="Beispiel-Shop", settings={"allowed_origins": [origin]})
    (root / "preise.html").write_text(PAGE.format(base=live_server.url, slug=channel.slug))
    context = browser.new_context(viewport={"width": 390, "height": 780}, is_mobile=True, locale="de-DE")
    refusals: list[int] = []
    errors: list[str] = []
    try:
        page = context.new_page()

        def answered(r):
            if r.status in (429, 503) and REFUSAL.search(r.url):
                refusals.append(r.status)
            elif r.status >= 400:
                errors.append(f"{r.status} {r.url}")

        page.on("response", answered)
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" and not re.search(
            r"status of (429|503)", m.text) else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(origin + "/preise.html")
        page.get_by_role("button", name="Chatten Sie mit uns").click()
        page.get_by_role("dialog").wait_for()

        # 1. At once after the chat opened: too fast for a person. The text waits in its bubble.
        page.locator("textarea#rz-input").fill("Gibt es den Tarif auch monatlich?")
        page.keyboard.press("Enter")
        pending = page.locator(".line.visitor.pending", has_text="Gibt es den Tarif auch monatlich?")
        pending.locator(".meta", has_text="Noch nicht gesendet, neuer Versuch").wait_for(timeout=10000)
        shot(page, "1-too-fast-de-390")
        page.locator(".line.visitor:not(.pending)", has_text="Gibt es den Tarif").wait_for(timeout=20000)
        assert 429 in refusals
        assert Message.objects.filter(channel=channel, text="Gibt es den Tarif auch monatlich?").count() == 1

        # 2. The pipeline is far behind: the next line waits with a word why, and goes out once it caught up.
        settings.RESONANZ_BACKLOG_LIMIT = 1
        Message.objects.filter(channel=channel).update(pipeline_state="pending")
        page.locator("textarea#rz-input").fill("Und wie lange läuft der Vertrag?")
        page.keyboard.press("Enter")
        busy = page.locator(".line.visitor.pending", has_text="Und wie lange läuft der Vertrag?")
        busy.locator(".meta", has_text="Gerade schreiben uns sehr viele Menschen").wait_for(timeout=10000)
        shot(page, "2-busy-de-390")
        assert 503 in refusals
        assert not Message.objects.filter(text="Und wie lange läuft der Vertrag?").exists()
        Message.objects.filter(channel=channel).update(pipeline_state="done")  # the worker caught up
        page.locator(".line.visitor:not(.pending)", has_text="Und wie lange").wait_for(timeout=20000)
        until(page, lambda: Message.objects.filter(text="Und wie lange läuft der Vertrag?").count() == 1)
        shot(page, "3-sent-de-390")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the host page scrolls sideways ({width}px)"
        assert errors == [], errors
    finally:
        context.close()
        backpressure._checked.clear()
        backpressure._over.clear()
