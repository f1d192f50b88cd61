"""The agent's everyday flows in a real browser, in German, at desktop and phone width.

Each test checks the rendered page (what is visible and where it sits), not only the database: the defects
these tests guard against (a banner squeezing the conversation into a column, badges grown into blobs,
subjects cut away on a phone, a side panel that only a reload brought up to date) all had a correct database.
"""

from __future__ import annotations

import pytest

from resonanz.automation.defaults import ensure_defaults
from resonanz.automation.models import Rule
from resonanz.connectors.actions import create_channel
from resonanz.core import pipeline
from resonanz.inbox import actions
from resonanz.inbox.models import Team
from tests.conftest import inbound
from tests.e2e.helpers import Watched, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SIZES = ["desktop", "phone"]


@pytest.fixture
def agent():
    actions.ensure_default_teams()
    return actions.invite_agent("anna@example.com", display_name="Anna Agentin", role="supervisor",
                                password="pw-anna-123", language="de")


@pytest.fixture
def conversation(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # the pipeline waits: the tests decide when "the worker" runs
    channel = create_channel(kind="api", name="Web-API")
    first = actions.ingest(channel, inbound("d1", "kim@example.com", subject="Paket beschädigt angekommen",
                                            text="Der Karton war nass und der Inhalt kaputt."))
    actions.ingest(channel, inbound("d2", "lou@example.com", subject="Frage zur Rechnung",
                                    text="Warum wurde zweimal abgebucht?"))
    return first.conversation


@pytest.mark.parametrize("size", SIZES)
def test_confirmation_banner_leaves_the_layout_alone(live_server, browser, agent, conversation, size):
    w = Watched(browser, size)
    w.login(live_server.url, "anna@example.com", "pw-anna-123", f"/inbox/conversations/{conversation.pk}/")
    before = w.box("#messages")
    w.page.fill("#note-text", "Kunde ruft morgen an.")
    w.page.click(".note-box button[type=submit]")
    w.page.wait_for_selector(".flash li")
    assert "Notiz hinzugefügt" in w.page.inner_text(".flash")
    flash, thread = w.box(".flash"), w.box("#messages")
    # the banner spans the page above both columns; the conversation keeps its width and place
    assert abs(thread["width"] - before["width"]) < 2, (before, thread)
    assert abs(thread["x"] - before["x"]) < 2
    assert flash["y"] + flash["height"] <= thread["y"]
    assert flash["width"] >= thread["width"] - 1
    if size == "desktop":
        assert w.box(".side")["x"] > thread["x"] + thread["width"] - 1  # the side panel stays on the right
    w.check("conversation-after-note")
    w.close()


@pytest.mark.parametrize("size", SIZES)
def test_inbox_rows_keep_subjects_and_even_badges(live_server, browser, agent, conversation, size):
    w = Watched(browser, size)
    w.login(live_server.url, "anna@example.com", "pw-anna-123")
    page = w.page
    page.wait_for_selector("#conversation-list .row")
    header = w.box(".topbar")
    assert header["height"] <= 90, f"the header takes {header['height']}px"
    subjects = page.locator("#conversation-list .subject")
    assert subjects.count() == 2
    for i in range(2):
        box = subjects.nth(i).bounding_box()
        assert box["width"] > 150 and box["height"] > 10, box  # a subject is readable, not cut to nothing
    badges = page.locator("#conversation-list .badge.status")
    sizes = [badges.nth(i).bounding_box() for i in range(badges.count())]
    assert all(b["height"] < 26 for b in sizes), sizes  # a badge stays a pill, never a blob
    assert max(b["width"] for b in sizes) - min(b["width"] for b in sizes) < 1  # even widths
    # the shortcut hint is a small key cap, not something that looks like an empty input
    kbd = w.box("label.search kbd")
    assert kbd["width"] < 30
    if size == "phone":
        assert not page.is_visible("select[name=team]")  # the filters fold away ...
        page.click(".filter-toggle")
        assert page.is_visible("select[name=team]")  # ... and come back with one tap
    w.check("inbox")
    w.close()


@pytest.mark.parametrize("size", SIZES)
def test_search_finds_subject_name_email_and_ticket_number(live_server, browser, agent, conversation, size):
    w = Watched(browser, size)
    w.login(live_server.url, "anna@example.com", "pw-anna-123")
    page = w.page
    for query in (conversation.reference, "beschädigt", "kim@example", str(conversation.pk)):
        page.fill("#search", query)
        page.press("#search", "Enter")
        page.wait_for_load_state()
        rows = page.locator("#conversation-list .row")
        assert rows.count() == 1, query
        assert "Paket beschädigt angekommen" in rows.first.inner_text(), query
    page.fill("#search", "Zahnbürste")
    page.press("#search", "Enter")
    page.wait_for_load_state()
    empty = page.inner_text("#conversation-list .empty")
    assert "Zahnbürste" in empty and "beantwortet" not in empty  # not "everything is answered"
    w.check("inbox-search-empty")
    w.close()


@pytest.mark.parametrize("size", SIZES)
def test_existing_rule_shows_and_changes_its_actions(live_server, browser, agent, size):
    ensure_defaults()
    rule = Rule.objects.exclude(actions=[]).order_by("pk").first()
    w = Watched(browser, size)
    w.login(live_server.url, "anna@example.com", "pw-anna-123", f"/automation/rules/{rule.pk}/")
    page = w.page
    page.wait_for_selector("#actions-editor .action-row")
    assert page.locator("#actions-editor .action-row").count() == len(rule.actions)
    page.click("#actions-editor > button")
    assert page.locator("#actions-editor .action-row").count() == len(rule.actions) + 1
    w.check("rule-edit")
    w.close()


def test_guideline_warning_shows_one_send_button(live_server, browser, agent, conversation):
    from resonanz.automation.actions import save_guidelines

    save_guidelines(None, forbidden_words="garantiert", require_signature=False, check_language=False)
    w = Watched(browser, "desktop")
    w.login(live_server.url, "anna@example.com", "pw-anna-123", f"/inbox/conversations/{conversation.pk}/")
    page = w.page
    page.fill("#reply-text", "Das ist garantiert morgen da.")
    page.click("#reply-actions button.primary")
    page.wait_for_selector("#reply-warnings .warnings li")
    visible = [b for b in page.locator("#reply-form button.primary").all() if b.is_visible()]
    assert len(visible) == 1, [b.inner_text() for b in visible]
    page.click("#reply-warnings button:not(.primary)")  # "edit the reply": the normal button comes back
    assert page.is_visible("#reply-actions button.primary") and not page.is_visible("#reply-warnings")
    w.check()
    w.close()


@pytest.mark.parametrize("size", SIZES)
def test_open_conversation_follows_what_the_worker_sets(live_server, browser, agent, conversation, model_dir,
                                                       size):
    w = Watched(browser, size)
    w.login(live_server.url, "anna@example.com", "pw-anna-123", f"/inbox/conversations/{conversation.pk}/")
    page = w.page
    assert "sobald Resonanz" in page.inner_text("#suggestions")  # not read yet
    # the worker reads the message and suggests; a rule (here: the action it calls) routes it
    pipeline.run_until_empty()
    legal = Team.objects.get(name="Legal")
    actions.update_conversation(conversation, None, team=legal, assignee=agent, reason="demo data")
    page.wait_for_selector("#messages .analysis", timeout=30000)
    wait_until(page, "!document.querySelector('#suggestions').innerText.includes('sobald Resonanz')",
                           timeout=30000)
    wait_until(page, "document.querySelector('#conversation-meta').innerText.includes('Legal')", timeout=30000)
    assert "Anna Agentin" in page.inner_text("#conversation-meta")
    assert page.locator("#conversation-card select[name=team]").input_value() == str(legal.pk)
    history = page.inner_text("#history")
    assert "Team geändert" in history and "team_changed" not in history
    w.check("conversation-live")
    w.close()


@pytest.mark.parametrize("size", SIZES)
def test_correcting_what_resonanz_read(live_server, browser, agent, conversation, model_dir, size):
    """The agent corrects the sentiment of an analysed message; the page says so and shows the corrected reading."""
    pipeline.run_until_empty()
    w = Watched(browser, size)
    w.login(live_server.url, "anna@example.com", "pw-anna-123", f"/inbox/conversations/{conversation.pk}/")
    page = w.page
    analysis = page.locator("#messages .analysis").first
    analysis.locator("details.correct summary").click()
    analysis.locator("select[name=sentiment]").select_option("positive")
    analysis.locator("input[name=intents][value=praise]").check()
    analysis.locator("details.correct button[type=submit]").click()
    page.wait_for_selector(".flash li")
    assert "Korrektur ist gespeichert" in page.inner_text(".flash")
    corrected = page.locator("#messages .analysis").first.inner_text()
    assert "korrigiert" in corrected and "positiv" in corrected.lower() and "Lob" in corrected
    assert "Analyse korrigiert" in page.inner_text("#history")
    w.check("conversation-corrected")
    w.close()


@pytest.mark.parametrize("size", SIZES)
def test_macro_by_keyboard_fills_the_reply_and_sets_the_status(live_server, browser, agent, conversation, size):
    actions.save_macro(None, agent, name="Rückerstattung", shared=True, status="pending", tags=["erstattung"],
                       text="Hallo {customer_name}, Ihre Erstattung zu {ticket} ist veranlasst.")
    actions.save_macro(None, agent, name="Danke für das Lob", text="Vielen Dank!")
    w = Watched(browser, size)
    w.login(live_server.url, "anna@example.com", "pw-anna-123", f"/inbox/conversations/{conversation.pk}/")
    page = w.page
    page.keyboard.press("m")
    page.keyboard.type("erstatt")
    page.keyboard.press("Enter")
    wait_until(page, "document.getElementById('reply-text').value.length > 0")
    text = page.input_value("#reply-text")
    assert text == f"Hallo {conversation.contact}, Ihre Erstattung zu {conversation.reference} ist veranlasst."
    assert page.evaluate("document.activeElement.id") == "reply-text"  # ready to read and send
    # the status the macro set shows up on the open page without a reload
    wait_until(page, "document.querySelector('#conversation-meta').innerText.includes('Wartend')",
                           timeout=30000)
    assert "Textbaustein angewendet" in page.inner_text("#history")
    w.check("conversation-macro")
    page.goto(live_server.url + "/inbox/macros/")
    assert "Rückerstattung" in page.inner_text("#macro-table") and "einmal verwendet" in page.inner_text("#macro-table")
    w.check("macros")
    w.close()


@pytest.mark.parametrize("size", SIZES)
def test_bulk_action_on_selected_rows(live_server, browser, agent, conversation, size):
    w = Watched(browser, size)
    w.login(live_server.url, "anna@example.com", "pw-anna-123")
    page = w.page
    assert not page.is_visible("#bulk-form")
    page.locator("#conversation-list .pick").nth(0).check()
    page.locator("#conversation-list .pick").nth(1).check()
    assert page.is_visible("#bulk-form") and page.inner_text("#bulk-count") == "2"
    w.check("inbox-bulk")
    page.select_option("#bulk-form select[name=status]", "resolved")
    page.select_option("#bulk-form select[name=assignee]", "me")
    page.click("#bulk-form button.primary")
    page.wait_for_selector(".flash li")
    assert "2 Konversationen geändert" in page.inner_text(".flash")
    assert "Nichts zu tun" in page.inner_text("#conversation-list")  # both left the to-do list
    page.click("a.tab.status-resolved")
    assert page.locator("#conversation-list .row").count() == 2
    assert "Anna Agentin" in page.inner_text("#conversation-list")
    w.check()
    w.close()


@pytest.mark.parametrize("size", SIZES)
def test_save_the_filters_as_a_view_with_its_count(live_server, browser, agent, conversation, size):
    w = Watched(browser, size)
    w.login(live_server.url, "anna@example.com", "pw-anna-123", "/inbox/?q=Rechnung")
    page = w.page
    if size == "phone":
        page.click(".filter-toggle")
    page.click(".save-view summary")
    page.fill(".save-view input[name=name]", "Rechnungen")
    page.click(".save-view button[type=submit]")
    page.wait_for_selector(".saved-views")
    assert "Ansicht „Rechnungen“ gespeichert" in page.inner_text(".flash")
    item = page.locator(".saved-views li", has_text="Rechnungen")
    assert item.locator(".count").inner_text() == "1"
    page.goto(live_server.url + "/inbox/")
    page.click(".saved-views a:text('Rechnungen')")
    page.wait_for_load_state()
    assert page.locator("#conversation-list .row").count() == 1
    assert "Frage zur Rechnung" in page.inner_text("#conversation-list")
    w.check("inbox-saved-view")
    w.close()


def test_two_agents_on_one_conversation_see_each_other_and_replies_do_not_cross(live_server, browser, agent,
                                                                                 conversation):
    from resonanz.inbox.models import Message

    actions.invite_agent("tom@example.com", display_name="Tom Berger", role="agent", password="pw-tom-12345",
                         language="de")
    url = f"/inbox/conversations/{conversation.pk}/"
    anna, tom = Watched(browser, "desktop"), Watched(browser, "phone")
    anna.login(live_server.url, "anna@example.com", "pw-anna-123", url)
    tom.login(live_server.url, "tom@example.com", "pw-tom-12345", url)
    wait_until(anna.page, "document.getElementById('presence').innerText.includes('Tom Berger')", timeout=30000)
    wait_until(tom.page, "document.getElementById('presence').innerText.includes('Anna Agentin')",
                               timeout=30000)
    tom.page.fill("#reply-text", "Ich schaue mir das an.")
    tom.page.type("#reply-text", " Moment bitte.")
    wait_until(anna.page, "document.getElementById('presence').innerText.includes('schreibt gerade')",
                                timeout=30000)
    # Anna answers first; Tom's reply, written on the page he opened before, would cross hers
    anna.page.fill("#reply-text", "Ersatz ist unterwegs.")
    anna.page.click("#reply-actions button.primary")
    anna.page.wait_for_selector(".flash li")
    tom.page.click("#reply-actions button.primary")
    tom.page.wait_for_selector(".flash li")
    assert "Anna Agentin hat um" in tom.page.inner_text(".flash")
    assert tom.page.input_value("#reply-text") == "Ich schaue mir das an. Moment bitte."  # the draft is kept
    assert "Ersatz ist unterwegs." in tom.page.inner_text("#messages")  # and Anna's reply is on his page
    outbound = Message.objects.filter(conversation=conversation, direction="outbound")
    assert [m.text for m in outbound] == ["Ersatz ist unterwegs."]
    tom.check("conversation-collision")
    with tom.page.expect_navigation():
        tom.page.click("#reply-actions button.primary")  # read it, still fits: now it is sent
    assert "Antwort gesendet" in tom.page.inner_text(".flash")
    assert outbound.all().count() == 2
    anna.check()
    anna.close()
    tom.close()
