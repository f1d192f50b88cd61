"""The launch monitor: the window after a product's start against the same length before it."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from resonanz.inbox.actions import invite_agent
from resonanz.insights import actions, launch
from tests.insights.conftest import add_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def launched(model_dir, feed, admin_user, django_capture_on_commit_callbacks):
    from resonanz.core.pipeline import run_until_empty

    calm = ["Die Barista Pro von Acme ist im Laden.", "Barista Pro im Angebot gesehen.",
            "Wer hat die Barista Pro schon getestet?"]
    after = ["Barista Pro Milchschäumer kaputt, sehr enttäuscht.",
             "Barista Pro Milchschäumer defekt, Schaum wird nicht fest.", "Die neue Barista Pro macht tollen Espresso!"]
    launch_day = timezone.localdate() - timedelta(days=6)
    # days from the launch's local midnight to now: 6 to 7, by the time of day the test runs
    since = (timezone.now() - timezone.make_aware(datetime.combine(launch_day, time()))).total_seconds() / 86400
    for d in range(12):  # the six days before the launch: a few calm mentions a day
        for k in range(4):
            add_post(feed, f"b{d}-{k}", calm[(d + k) % 3], days_ago=since + 0.1 + d / 2 + k / 10)
    for d in range(6):  # after: many, a third about a broken milk frother
        for k in range(10):
            add_post(feed, f"a{d}-{k}", after[k % 3], days_ago=d + 0.05 + k / 50)
    run_until_empty()
    with django_capture_on_commit_callbacks(execute=True):
        return actions.save_query(None, admin_user, name="Barista Pro", expression='"Barista Pro"', tag="product",
                                  launch_at=launch_day)


def test_report_compares_the_window_with_the_baseline_and_names_new_terms(launched):
    data = launch.report(launch.Launch(launched, launched.launch_at, 7))
    assert data["before"]["total"] == 48 and data["after"]["total"] == 60
    assert data["change"] == 0.25
    assert data["after"]["negative_share"] > data["before"]["negative_share"]
    terms = [t["term"] for t in data["terms"]]
    assert any("milchschäumer" in t for t in terms), terms
    assert sum(r["negative"] + r["neutral"] + r["positive"] for r in data["series"]) == 108


def test_launch_page_in_german(launched):
    client = Client()
    client.force_login(invite_agent("pm@example.com", display_name="Pia PM", role="agent", password="pw-pia-12345",
                                    language="de"))
    page = client.get("/insights/launch/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Launch-Monitor: Barista Pro" in page and page.count('<svg class="chart"') == 2
    assert "Erwähnungen seit dem Start" in page and "milchschäumer" in page
    future = (timezone.localdate() + timedelta(days=3)).isoformat()
    assert "Zukunft" in client.get("/insights/launch/", {"query": launched.pk, "start": future}).content.decode()
    assert client.get("/insights/launch/", {"query": "abc", "start": "kaputt", "days": "-3"}).status_code == 200
