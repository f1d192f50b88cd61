"""The inbox search in a real browser, in German, at desktop and phone width, when its words are common:
the inbox is walked in its order (``inbox.search``), the tabs show no numbers and the pager no total."""

from __future__ import annotations

import pytest

from resonanz.connectors.actions import create_channel
from resonanz.inbox import actions
from resonanz.inbox import search as search_module
from tests.conftest import inbound
from tests.e2e.helpers import Watched

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def agent():
    actions.ensure_default_teams()
    return actions.invite_agent("anna@example.com", display_name="Anna Agentin", role="supervisor",
                                password="pw-anna-123", language="de")


@pytest.fixture
def inbox():
    channel = create_channel(kind="api", name="Web-API")
    for n, (handle, subject, text) in enumerate([
        ("kim@example.com", "Paket beschädigt angekommen", "Der Karton war nass, das Paket kaputt."),
        ("lou@example.com", "Frage zur Rechnung", "Das Paket kam, die Rechnung fehlt."),
        ("max@example.com", "Kündigung", "Bitte kündigen Sie meinen Vertrag."),
    ]):
        actions.ingest(channel, inbound(f"s{n}", handle, subject=subject, text=text))


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_common_word_pages_through_the_newest_matches(live_server, browser, agent, inbox, size, monkeypatch):
    monkeypatch.setattr(search_module, "EXACT_LIMIT", 0)  # every word counts as common: the walk answers
    monkeypatch.setattr("resonanz.desk.views.paging.PAGE_SIZE", 1)
    w = Watched(browser, size)
    w.login(live_server.url, "anna@example.com", "pw-anna-123")
    page = w.page
    page.fill("#search", "paket")
    page.press("#search", "Enter")
    page.wait_for_load_state()
    rows = page.locator("#conversation-list .row")
    assert rows.count() == 1 and "Frage zur Rechnung" in rows.first.inner_text()  # the newest match first
    assert page.inner_text(".tabs .count[data-count=active]").strip() == ""  # not counted
    pager = page.inner_text(".pager")
    assert "Seite 1" in pager and "von" not in pager and "älter" in pager
    w.check("inbox-search-common")
    page.click(".pager a")
    page.wait_for_load_state()
    rows = page.locator("#conversation-list .row")
    assert rows.count() == 1 and "Paket beschädigt angekommen" in rows.first.inner_text()
    pager = page.inner_text(".pager")
    assert "Seite 2" in pager and "neuer" in pager and "älter" not in pager
    page.fill("#search", "Zahnbürste")
    page.press("#search", "Enter")
    page.wait_for_load_state()
    assert "Zahnbürste" in page.inner_text("#conversation-list .empty")
    w.check()
    w.close()
