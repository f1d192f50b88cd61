"""A team lead's and a product manager's pages in chromium, German, at 390 px (and the dashboard also at desktop
width): the launch monitor on the demo's Barista Pro launch, the dashboard filtered to a team with its per-agent
table and the new KPIs, where alerts go (a signed webhook added through the form), the bell with an early
warning, and the customer's NPS question after the rating. Each page: charts drawn, no console error, nothing
wider than the screen, a screenshot to look at."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from resonanz.connectors.actions import create_channel
from resonanz.inbox.actions import ensure_default_teams, ingest, invite_agent, send_reply, update_conversation
from resonanz.inbox.models import Team
from resonanz.insights import delivery, demo
from resonanz.insights.models import Alert, AlertChannel, Notification, Survey
from tests.conftest import inbound
from tests.e2e.helpers import Watched

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def charts_drawn(page, at_least: int) -> None:
    charts = page.locator("svg.chart")
    assert charts.count() >= at_least
    width = page.viewport_size["width"]
    for i in range(charts.count()):
        box = charts.nth(i).bounding_box()
        assert box and box["width"] > 100 and box["height"] > 20 and box["x"] + box["width"] <= width + 1
        assert charts.nth(i).locator("rect.mark").count() >= 1


@pytest.fixture
def receiver():
    got = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            got.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/alerts", got
    server.shutdown()


@pytest.fixture
def world(settings):
    settings.RESONANZ_OUTBOUND_ALLOW = ["127.0.0.1"]
    ensure_default_teams()
    support = Team.objects.get(name="Support")
    lead = invite_agent("lead@example.com", display_name="Lena Lead", role="supervisor", teams=[support],
                        password="pw-lead-1234", language="de")
    berta = invite_agent("berta@example.com", display_name="Berta Beispiel", role="agent", teams=[support],
                         password="pw-berta-1234", language="de")
    channel = create_channel(kind="api", name="Shop")
    convs = []
    for n, who in enumerate((lead, berta, berta)):
        conv = ingest(channel, inbound(f"k{n}", f"kunde{n}@example.com", text="Wo bleibt meine Barista Pro?")).conversation
        update_conversation(conv, who, team=support, assignee=who)
        send_reply(conv, who, "Sie ist unterwegs.")
        update_conversation(conv, who, status="resolved")
        convs.append(conv)
    update_conversation(convs[2], berta, status="open")  # came back
    demo.load(scale=0.5)
    return {"lead": lead, "support": support, "convs": convs}


def test_team_lead_and_product_manager_pages_on_a_phone(live_server, browser, world, receiver):
    base = live_server.url
    w = Watched(browser, "phone")
    w.login(base, "lead@example.com", "pw-lead-1234")
    page = w.page

    # the launch monitor opens on the demo's product with a launch date
    page.goto(base + "/insights/launch/")
    assert page.locator("h1").inner_text() == "Launch-Monitor: Barista Pro"
    charts_drawn(page, 2)
    figures = page.locator(".launch-figures").inner_text()
    assert "Erwähnungen seit dem Start" in figures and "ggü. vorher" in figures
    assert page.locator("#launch-terms").is_visible()
    w.check("insights-launch")
    page.select_option("select[name=days]", "7")
    page.click(".dash-filters button[type=submit]")
    page.wait_for_load_state()
    assert "days=7" in page.url
    charts_drawn(page, 2)

    # the dashboard for the Support team: KPIs, one row per agent, then one agent
    page.goto(base + "/insights/")
    page.select_option("select[name=team]", str(world["support"].pk))
    page.click(".dash-filters button[type=submit]")
    page.wait_for_load_state()
    goals = page.locator("#goals").inner_text()
    assert "Servicezielen" in goals or "Serviceziele" in goals
    assert "Wiedereröffnungsquote" in goals and "33 % (1 / 3)" in goals
    assert "Automatisierungsquote" in goals and "Net Promoter Score" in goals
    rows = page.locator("ul.per-agent li")
    assert rows.count() == 2 and "Berta Beispiel" in rows.first.inner_text()
    charts_drawn(page, 4)
    w.check("insights-team")
    rows.filter(has_text="Berta Beispiel").locator("a").click()
    page.wait_for_load_state()
    assert "Serviceziele: Berta Beispiel" in page.locator("#goals h2").inner_text()
    assert "50 % (1 / 2)" in page.locator("#goals").inner_text()
    w.check("insights-agent")

    # where alerts go: a signed webhook through the form; its secret is shown once
    url, got = receiver
    page.goto(base + "/insights/")
    page.click("text=Wohin Warnungen gehen")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Wohin Warnungen gehen"
    page.select_option("select[name=team]", str(world["support"].pk))
    page.select_option("select[name=kind]", "webhook")
    page.fill("input[name=url]", url)
    page.click("main button.primary")
    page.wait_for_load_state()
    hook = AlertChannel.objects.get()
    assert hook.secret in page.locator("p.warning").inner_text()
    assert "Webhook (signiert)" in page.locator("table.list").inner_text()
    w.check("insights-alert-channels")
    page.select_option("select[name=team]", str(world["support"].pk))
    page.select_option("select[name=kind]", "in_app")
    page.click("main button.primary")
    page.wait_for_load_state()

    # an early warning: the webhook receives it, the bell shows it, the page lists it in German
    alert = Alert.objects.filter(key="volume:all").first() or Alert.objects.first()
    assert alert is not None, "the demo's complaint spike raised no alert"
    delivery.deliver(alert, "text")
    assert len(got) == 1 and Notification.objects.filter(user=world["lead"]).count() == 1
    page.goto(base + "/inbox/")
    bell = page.locator(".who .bell")
    assert bell.locator(".count").inner_text() == "1"
    assert bell.bounding_box()["x"] + bell.bounding_box()["width"] <= 391
    w.check("insights-bell")
    bell.click()
    page.wait_for_load_state()
    listing = page.locator("ul.notification-list").inner_text()
    assert "Frühwarnung" in listing and "neu" in listing and "beobachtet / erwartet" in listing
    w.check("insights-notifications")
    page.reload()
    assert page.locator(".who .bell .count").count() == 0

    # the customer rates, then answers the NPS question, on a phone
    survey = Survey.objects.get(conversation=world["convs"][0])
    customer = Watched(browser, "phone")
    phone = customer.page
    phone.goto(base + f"/survey/{survey.token}/?rating=5")
    phone.click("button[value='5']")
    question = phone.locator("form.recommend")
    assert "Wie wahrscheinlich ist es" in question.inner_text()
    assert question.locator("button").count() == 11
    last = question.locator("button[value='10']").bounding_box()
    assert last["x"] + last["width"] <= 391
    customer.check("survey-nps")
    question.locator("button[value='9']").click()
    phone.wait_for_load_state()
    assert phone.locator("form.recommend").count() == 0
    survey.refresh_from_db()
    assert survey.recommend == 9 and survey.rating == 5
    customer.check("survey-nps-answered")
    customer.close()
    page.goto(base + f"/insights/?team={world['support'].pk}")
    assert "100 (1)" in page.locator("#goals").inner_text()  # one promoter: NPS 100
    w.check()
    w.close()


def test_dashboard_with_team_filter_at_desktop_width(live_server, browser, world):
    w = Watched(browser, "desktop")
    w.login(live_server.url, "lead@example.com", "pw-lead-1234", path=f"/insights/?team={world['support'].pk}")
    assert w.page.locator("ul.per-agent li").count() == 2
    charts_drawn(w.page, 4)
    w.check("insights-team")
    w.page.goto(live_server.url + "/insights/launch/")
    charts_drawn(w.page, 2)
    w.check("insights-launch")
    w.close()
