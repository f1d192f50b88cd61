"""In the browser: sign up by a mailed link, ask → answer → accept, escalation to the inbox, and the ideas portal.

Mail goes through Django's SMTP backend to a real aiosmtpd server; pages are checked for visible text, no
console errors and no horizontal overflow, in German at phone width (390 px) and in English on a desktop.
Screenshots land in $RESONANZ_SCREENSHOTS (default: the test's temporary directory).
"""

from __future__ import annotations

import email
import email.policy
import os
import re
import socket
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from resonanz.community import actions
from resonanz.community.models import Idea, Member, Question
from resonanz.community.tasks import escalate_unanswered
from resonanz.connectors.actions import create_channel
from resonanz.inbox.actions import ingest, invite_agent
from resonanz.knowledge.actions import create_article
from tests.conftest import inbound

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


class Inbox:
    """What the SMTP server received, as parsed mails."""

    def __init__(self) -> None:
        self.mails: list = []

    async def handle_DATA(self, smtp, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.mails.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"

    def to(self, address: str) -> list:
        return [m for m in self.mails if address in m["To"]]

    def text(self, mail) -> str:
        return mail.get_body(preferencelist=("plain",)).get_content()


@pytest.fixture
def smtp(settings):
    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.DEFAULT_FROM_EMAIL = "community@resonanz.test"
    yield inbox
    controller.stop()


@pytest.fixture
def shots(tmp_path) -> Path:
    path = Path(os.environ.get("RESONANZ_SCREENSHOTS") or tmp_path)
    path.mkdir(parents=True, exist_ok=True)
    return path


def open_page(browser, viewport: dict):
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.errors = errors
    return context, page


def check_layout(page) -> None:
    assert not page.errors, page.errors
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} is {width}px wide"


def sign_up(page, base: str, smtp: Inbox, address: str, lang: str, next_path: str) -> None:
    page.goto(f"{base}/community/lang/{lang}/?next=/community/login/?next={next_path}")
    page.fill("input[name=email]", address)
    page.click("button[type=submit].primary")
    page.wait_for_selector(".cm-note[role=status]")
    for _ in range(50):
        if smtp.to(address):
            break
        page.wait_for_timeout(100)
    link = re.search(r"https?://\S+/community/login/\S+", smtp.text(smtp.to(address)[-1])).group(0)
    assert link.startswith(base)
    page.goto(link)
    page.click("#confirm-login")
    page.wait_for_url(f"**{next_path}")


def test_ask_answer_accept_and_escalation(browser, live_server, smtp, shots, settings):
    base = live_server.url
    settings.RESONANZ_BASE_URL = base
    settings.RESONANZ_COMMUNITY_ESCALATE_HOURS = 2
    agent = invite_agent("agent@example.com", display_name="Ines Agent", role="agent", password="pw-agent-123",
                         language="de")
    create_article(agent, title="Lieferadresse ändern", body="Öffnen Sie Konto → Adressen.", language="de",
                   status="published")
    old = Member.objects.create(display_name="Frühere Kundin")
    actions.ask_question(old, title="Lieferadresse nachträglich ändern?", body="Geht das nach der Bestellung noch?")

    asker_ctx, asker = open_page(browser, PHONE)
    sign_up(asker, base, smtp, "anna@example.com", "de", "/community/ask/")
    assert "Frage stellen" in asker.inner_text("h1")
    asker.fill("input[name=title]", "Wie kann ich meine Lieferadresse ändern?")
    asker.wait_for_selector("#similar:not([hidden]) #similar-questions a")
    assert "Lieferadresse nachträglich ändern?" in asker.inner_text("#similar-questions")
    assert "Lieferadresse ändern" in asker.inner_text("#similar-articles")
    asker.screenshot(path=str(shots / "community-ask-de-390.png"), full_page=True)
    asker.fill("textarea[name=body]", "Ich bin **umgezogen** und finde die Einstellung nicht.")
    asker.fill("input[name=tags]", "konto lieferung")
    asker.click("form.cm-form button.primary")
    asker.wait_for_selector("article#question h1")
    question = Question.objects.get(title="Wie kann ich meine Lieferadresse ändern?")
    assert asker.inner_text("article#question strong") == "umgezogen"
    check_layout(asker)

    helper_ctx, helper = open_page(browser, DESKTOP)
    sign_up(helper, base, smtp, "bert@example.com", "en", f"/community/q/{question.pk}/")
    helper.fill("#answer-body", "Open *Account → Addresses* and edit the delivery address.")
    helper.click("#answer-form button.primary")
    helper.wait_for_selector(".cm-answer")
    assert "Account → Addresses" in helper.inner_text(".cm-answer .prose")
    assert not helper.query_selector(".cm-answer button.accept")  # only the asker accepts
    check_layout(helper)
    # the asker follows her question and is told of the answer, in the language she joined in
    for _ in range(50):
        if any("Neue Antwort" in m["Subject"] for m in smtp.to("anna@example.com")):
            break
        helper.wait_for_timeout(100)
    assert any("Neue Antwort" in m["Subject"] for m in smtp.to("anna@example.com"))

    asker.reload()
    asker.click(".cm-answer button.accept")
    asker.wait_for_selector(".cm-accepted")
    assert "Akzeptierte Antwort" in asker.inner_text(".cm-answer.accepted")
    check_layout(asker)
    asker.screenshot(path=str(shots / "community-question-de-390.png"), full_page=True)

    bert = Member.objects.get(contact__identities__handle="bert@example.com")
    helper.goto(f"{base}/community/members/{bert.pk}/")
    assert helper.inner_text("#reputation") == "15"
    assert "Problem solver" in helper.inner_text(".cm-badges")
    check_layout(helper)
    helper.screenshot(path=str(shots / "community-profile-en-desktop.png"), full_page=True)

    asker.goto(f"{base}/community/")
    assert "Fragen und Antworten" in asker.inner_text("h1")
    assert "bert" in asker.inner_text(".cm-experts")  # expert of the week (name from the address)
    check_layout(asker)
    asker.screenshot(path=str(shots / "community-home-de-390.png"), full_page=True)

    # an unanswered question reaches the inbox after the time limit
    unanswered = Question.objects.get(title="Lieferadresse nachträglich ändern?")
    Question.objects.filter(pk=unanswered.pk).update(created_at=timezone.now() - timedelta(hours=3))
    assert escalate_unanswered() == 1
    desk_ctx, desk = open_page(browser, DESKTOP)
    desk.goto(f"{base}/inbox/")
    desk.fill("input[name=username]", "agent@example.com")
    desk.fill("input[name=password]", "pw-agent-123")
    desk.click("button[type=submit]")
    desk.wait_for_selector("text=Lieferadresse nachträglich ändern?")
    assert not desk.errors, desk.errors
    for ctx in (asker_ctx, helper_ctx, desk_ctx):
        ctx.close()


def test_ideas_votes_status_and_notification(browser, live_server, smtp, shots, settings):
    base = live_server.url
    settings.RESONANZ_BASE_URL = base
    invite_agent("pm@example.com", display_name="Paula Produkt", role="supervisor", password="pw-pm-12345",
                 language="de")
    channel = create_channel(kind="api", name="Shop API")
    conversations = [ingest(channel, inbound(f"x{i}", f"kunde{i}@example.com", text=text)).conversation
                     for i, text in enumerate(["Gibt es bald einen Dunkelmodus in der App?",
                                               "Bitte baut einen Dunkelmodus ein, abends blendet es."])]

    author_ctx, author = open_page(browser, PHONE)
    sign_up(author, base, smtp, "anna@example.com", "de", "/community/ideas/new/")
    author.fill("input[name=title]", "Dunkelmodus für die App")
    author.fill("textarea[name=description]", "Abends ist die App sehr hell. Ein dunkles Design wäre schön.")
    author.click("form.cm-form button.primary")
    author.wait_for_selector("#idea-votes")
    idea = Idea.objects.get()
    check_layout(author)

    voter_ctx, voter = open_page(browser, PHONE)
    sign_up(voter, base, smtp, "bert@example.com", "de", "/community/ideas/")
    voter.click(f"form[action='/community/ideas/{idea.pk}/vote/'] button")
    voter.wait_for_selector(f"form[action='/community/ideas/{idea.pk}/vote/'] button[aria-pressed=true]")
    assert Idea.objects.get().votes == 2
    check_layout(voter)
    voter.screenshot(path=str(shots / "community-ideas-de-390.png"), full_page=True)

    pm_ctx, pm = open_page(browser, DESKTOP)
    pm.goto(f"{base}/moderation/ideas/{idea.pk}/")
    pm.fill("input[name=username]", "pm@example.com")
    pm.fill("input[name=password]", "pw-pm-12345")
    pm.click("button[type=submit]")
    for conversation in conversations:  # both are suggested by their words; the manager confirms them
        pm.click(f"form:has(input[name=object_id][value='{conversation.pk}']) button")
        pm.wait_for_selector(f"a[href='/inbox/conversations/{conversation.pk}/']")
    pm.select_option("#idea-status", "planned")
    pm.fill("#idea-note", "Kommt im Frühjahr.")
    pm.click("form[action$='/status/'] button.primary")
    pm.wait_for_selector("text=Kommt im Frühjahr.")
    assert not pm.errors, pm.errors
    pm.screenshot(path=str(shots / "community-desk-idea-de.png"), full_page=True)

    for _ in range(50):
        if smtp.to("bert@example.com")[-1:] and "Neuigkeiten" in smtp.to("bert@example.com")[-1]["Subject"]:
            break
        voter.wait_for_timeout(100)
    update = smtp.to("bert@example.com")[-1]
    assert "Neuigkeiten zur Idee" in update["Subject"] and "Kommt im Frühjahr." in smtp.text(update)
    voter.goto(f"{base}/community/ideas/{idea.pk}/")
    text = voter.inner_text("main")
    assert "Geplant" in text and "Kommt im Frühjahr." in text
    assert "2 Stimmen" in text and "2 Kunden haben im Support danach gefragt" in text
    check_layout(voter)
    voter.screenshot(path=str(shots / "community-idea-de-390.png"), full_page=True)
    for ctx in (author_ctx, voter_ctx, pm_ctx):
        ctx.close()


def test_moderation_pages_on_a_phone_in_german(browser, live_server, shots, settings):
    from tests.community.conftest import member_via_link

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    invite_agent("mod@example.com", display_name="Moritz Moderator", role="supervisor", password="pw-mod-12345",
                 language="de")
    newbie = member_via_link("neu@example.com", "Neuling")
    held = actions.ask_question(newbie, title="Super Angebote bei uns ansehen",
                                body="Hier http://spam.example und www.spam.example klicken")
    regular = member_via_link("anna@example.com", "Anna")
    question = actions.ask_question(regular, title="Wie kündige ich mein Abo richtig?", body="Ich finde den Knopf nicht.")
    actions.report(newbie, "question", question.pk, reason="unhöflich")
    context, page = open_page(browser, PHONE)
    page.goto(f"{live_server.url}/moderation/")
    page.fill("input[name=username]", "mod@example.com")
    page.fill("input[name=password]", "pw-mod-12345")
    page.click("button[type=submit]")
    page.wait_for_selector(f"#held-question-{held.pk}")
    assert "Wartende Beiträge" in page.inner_text("main") and "unhöflich" in page.inner_text("main")
    check_layout(page)
    page.screenshot(path=str(shots / "community-desk-queue-de-390.png"), full_page=True)
    page.fill(f"#held-question-{held.pk} input[name=reason]", "Werbung")
    page.click(f"#held-question-{held.pk} button[value=remove]")
    page.wait_for_selector("text=Werbung")
    assert Question.objects.get(pk=held.pk).visibility == "removed"
    for path in ("/moderation/ideas/", "/moderation/members/", f"/moderation/members/{regular.pk}/"):
        page.goto(live_server.url + path)
        check_layout(page)
    page.screenshot(path=str(shots / "community-desk-member-de-390.png"), full_page=True)
    context.close()
