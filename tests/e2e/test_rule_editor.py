"""The rule editor in headless chromium: its action kinds and their parameters come from the effects registry."""

from __future__ import annotations

import pytest

from resonanz.automation import effects
from resonanz.automation.models import Rule
from resonanz.inbox.actions import ensure_default_teams, invite_agent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_supervisor_builds_a_rule_from_the_registered_actions(live_server, page):
    ensure_default_teams()
    invite_agent("lead@example.com", display_name="Lea Lead", role="supervisor", password="pw-lead-123",
                 language="de")
    page.goto(live_server.url + "/automation/rules/new/")
    page.fill("input[name=username]", "lead@example.com")
    page.fill("input[name=password]", "pw-lead-123")
    page.click("button[type=submit]")
    page.wait_for_selector("#actions-editor")
    page.fill("input[name=name]", "Refunds to ops")

    page.click("#actions-editor > button")  # "+ Aktion"
    kind = page.locator("#actions-editor .action-row select").first
    options = kind.locator("option")
    assert [options.nth(i).get_attribute("value") for i in range(options.count())] == effects.kinds()
    assert "an ein Team leiten" in options.all_inner_texts()  # the labels are translated
    kind.select_option("notify_email")
    row = page.locator("#actions-editor .action-row").first
    assert row.locator("select").nth(1).locator("option").first.inner_text() == "—"  # the team is optional
    row.locator("input").fill("ops@example.com")

    page.click("#actions-editor > button")
    second = page.locator("#actions-editor .action-row").nth(1)
    second.locator("select").first.select_option("assign_in_team")
    assert "Zuweisung" in second.inner_text()  # its one parameter, labelled from the registry

    page.click("button.primary[type=submit]")
    page.wait_for_url(live_server.url + "/automation/rules/")
    rule = Rule.objects.get(name="Refunds to ops")
    assert rule.actions == [{"type": "notify_email", "to": "ops@example.com", "team": None},
                            {"type": "assign_in_team", "strategy": "least_open"}]
