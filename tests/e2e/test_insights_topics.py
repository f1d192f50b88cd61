"""Intents and urgency, the products and competitors named most, and the idea clusters on the insights
dashboard, in headless chromium, in German, on a desktop and a phone: each bar opens the items behind it,
each chart saves as a PNG, the ideas load after the page with their trend, and an entity's spike is an alert."""

from __future__ import annotations

from pathlib import Path

import pytest

from resonanz.inbox.actions import ensure_default_teams, invite_agent
from resonanz.insights import alerts, demo
from resonanz.insights.demo_texts import IDEAS
from resonanz.insights.facts import refresh_rollups
from resonanz.insights.models import Fact
from resonanz.understanding.models import Analysis
from tests.e2e.helpers import Watched, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world():
    ensure_default_teams()
    invite_agent("pm@example.com", display_name="Paula Produkt", role="supervisor", password="pw-pm-123456",
                 language="de")
    demo.load(scale=0.5, queries=False)
    # what the engine read as a suggestion is the engine's business (tests/analysis); this page test makes sure
    # every demo idea is one, so the groups are the same whatever model the test run trained
    idea_posts = Fact.objects.filter(post__text__in=[t for _theme, t in IDEAS])
    Analysis.objects.filter(post__fact__in=idea_posts).update(intent_labels=",suggestion,")
    idea_posts.update(intents=",suggestion,")
    refresh_rollups(set(idea_posts.values_list("hour", flat=True)))
    alerts.check()


def dashboard_parts(w: Watched, base: str, width: int) -> None:
    page = w.page
    page.goto(base + "/insights/?days=30")
    assert "Anliegen und Dringlichkeit" in page.locator("#intents h2").inner_text()
    urgency = page.locator("#intents svg.chart").last
    assert "Dringlichkeit" in urgency.get_attribute("aria-label") and urgency.locator("rect.mark").count() >= 1
    entities = page.locator("#entities svg.chart")
    assert entities.count() == 1 and entities.locator("rect.mark").count() >= 3
    text = page.locator("#entities").inner_text()
    assert "Kaffeewerk" in text and "BrühBar" in text and "Wettbewerber" in text
    box = entities.bounding_box()
    assert box and box["x"] + box["width"] <= width + 1
    wait_until(page, "document.querySelector('#ideas .ideas-box').dataset.loaded === '1'", timeout=60000)
    first = page.locator("#ideas li.idea-cluster").first
    assert "hafermilch" in first.inner_text().lower() and first.locator("svg.sparkline rect").count() >= 4
    assert "Einträge" in first.inner_text() and "Daraus eine Community-Idee machen" in first.inner_text()


def test_topics_and_ideas_on_the_dashboard(live_server, browser, world):
    base = live_server.url
    w = Watched(browser, "desktop")
    w.login(base, "pm@example.com", "pw-pm-123456", path="/insights/")
    page = w.page
    dashboard_parts(w, base, 1280)
    with page.expect_download() as got:  # the entities chart saves as a PNG image like every chart
        page.click("#entities button.png-export")
    assert got.value.suggested_filename == "resonanz-entities.png"
    assert Path(got.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    w.check("insights-topics")
    # a bar opens its items: the competitor's posts, and nothing else
    page.locator("#entities svg.chart a").filter(has_text="BrühBar").first.click()
    page.wait_for_load_state()
    assert "entity=competitor%3ABr" in page.url
    assert "Wettbewerber: BrühBar" in page.locator("h1").inner_text()
    items = page.locator("ol.examples li")
    assert items.count() >= 3 and all("brühbar" in t.lower() for t in items.all_inner_texts())
    w.check("insights-items")
    # the demo's complaint spike names the brand: its entity detector raised an alert, listed on the dashboard
    page.goto(base + "/insights/?days=30")
    assert "Marke „Kaffeewerk“" in page.locator("section.alerts").inner_text()
    w.close()

    phone = Watched(browser, "phone")
    phone.login(base, "pm@example.com", "pw-pm-123456", path="/insights/")
    dashboard_parts(phone, base, 390)
    phone.check("insights-topics")
    phone.page.goto(base + "/insights/items/?days=30&urgency=high")
    assert "hohe Dringlichkeit" in phone.page.locator("h1").inner_text()
    phone.check()
    phone.page.goto(base + "/insights/items/?days=30&entity=competitor:BrühBar")
    assert phone.page.locator("ol.examples li").count() >= 3
    phone.check("insights-items")
    phone.page.goto(base + "/insights/ideas/?days=30")
    assert phone.page.locator("li.idea-cluster").count() >= 2
    phone.check("insights-ideas")
    phone.close()
