"""SLA policies, business calendars, guidelines and approval requirements change only through actions:
the supervisors' pages and the API give the same results and the same refusals."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from resonanz.automation import actions
from resonanz.automation.models import ApprovalRequirement, BusinessCalendar, Guidelines, SLAPolicy
from resonanz.core.errors import ActionError

pytestmark = pytest.mark.django_db


@pytest.fixture
def supervisor_api(supervisor):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=supervisor)[0].key}")
    return client


@pytest.fixture
def desk(client, supervisor):
    client.force_login(supervisor)
    return client


def test_sla_policy_pages_create_edit_and_delete(desk, teams):
    created = desk.post("/automation/slas/", {
        "form": "policy", "name": "Support fast", "team": teams["Support"].pk, "priority": "4",
        "first_response_minutes": "30", "resolution_minutes": "480", "warn_before_minutes": "10", "enabled": "on"})
    assert created.status_code == 302
    policy = SLAPolicy.objects.get()
    assert (policy.team, policy.priority, policy.first_response_minutes, policy.enabled) == (teams["Support"], 4,
                                                                                             30, True)
    edited = desk.post(f"/automation/slas/policies/{policy.pk}/", {
        "name": "Support fast", "first_response_minutes": "45", "warn_before_minutes": "10"})
    assert edited.status_code == 302
    policy.refresh_from_db()
    assert (policy.team, policy.priority, policy.first_response_minutes, policy.enabled) == (None, None, 45, False)
    assert desk.post(f"/automation/slas/policies/{policy.pk}/", {"delete": "1"}).status_code == 302
    assert not SLAPolicy.objects.exists()


def test_calendar_pages_refuse_a_second_calendar_of_the_same_name_or_team(desk, teams):
    form = {"form": "calendar", "name": "Office", "team": teams["Support"].pk, "timezone": "Europe/Berlin",
            "hours": "mon-fri 09:00-17:00", "holidays": "2025-12-25"}
    assert desk.post("/automation/slas/", form).status_code == 302
    calendar = BusinessCalendar.objects.get()
    assert calendar.hours["4"] == [["09:00", "17:00"]] and calendar.holidays == ["2025-12-25"]
    same_name = desk.post("/automation/slas/", {**form, "team": ""})
    assert same_name.status_code == 200 and "exists already" in same_name.content.decode()
    same_team = desk.post("/automation/slas/", {**form, "name": "Other"})
    assert same_team.status_code == 200 and "already has the calendar" in same_team.content.decode()
    assert BusinessCalendar.objects.count() == 1
    kept = desk.post(f"/automation/slas/calendars/{calendar.pk}/", {**form, "hours": "sat 10:00-14:00"})
    assert kept.status_code == 302  # saving a calendar under its own name and team is no conflict
    calendar.refresh_from_db()
    assert calendar.hours == {"5": [["10:00", "14:00"]]}
    assert desk.post(f"/automation/slas/calendars/{calendar.pk}/", {"delete": "1"}).status_code == 302
    assert not BusinessCalendar.objects.exists()


def test_policies_and_calendars_through_the_api(supervisor_api, api, teams):
    body = {"name": "Office", "team": teams["Sales"].pk, "timezone": "", "holidays": ["2026-01-01"],
            "hours": {"1": [["09:00:00", "12:00"], ["13:00", "17:00"]], "0": [["09:00", "17:00"]]}}
    created = supervisor_api.post("/api/calendars/", body, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["hours"] == {"0": [["09:00", "17:00"]], "1": [["09:00", "12:00"], ["13:00", "17:00"]]}
    empty = supervisor_api.post("/api/calendars/", {**body, "name": "Empty", "team": None, "hours": {}},
                                format="json")
    assert empty.status_code == 400 and "hours" in empty.json()
    assert api.post("/api/calendars/", {**body, "name": "Agent's"}, format="json").status_code == 403
    cid = created.json()["id"]
    patched = supervisor_api.patch(f"/api/calendars/{cid}/", {"holidays": ["2026-12-24", "2026-12-24"]},
                                   format="json")
    assert patched.status_code == 200 and patched.json()["holidays"] == ["2026-12-24"]
    assert BusinessCalendar.objects.get(pk=cid).team == teams["Sales"]  # what the patch left out stays

    policy = supervisor_api.post("/api/sla-policies/", {"name": "Sales", "team": teams["Sales"].pk,
                                                        "calendar": cid, "first_response_minutes": 120},
                                 format="json")
    assert policy.status_code == 201, policy.content
    assert policy.json()["warn_before_minutes"] == 30 and policy.json()["enabled"] is True
    pid = policy.json()["id"]
    assert supervisor_api.patch(f"/api/sla-policies/{pid}/", {"priority": 9}, format="json").status_code == 400
    assert supervisor_api.patch(f"/api/sla-policies/{pid}/", {"priority": 3}, format="json").json()[
        "first_response_minutes"] == 120
    assert supervisor_api.delete(f"/api/calendars/{cid}/").status_code == 204
    assert SLAPolicy.objects.get(pk=pid).calendar is None
    assert supervisor_api.delete(f"/api/sla-policies/{pid}/").status_code == 204
    assert not SLAPolicy.objects.exists()


def test_guidelines_page_keeps_one_row_per_team(desk, teams):
    form = {"form": "guidelines", "advertising_words": "Rabatt\nbuy now", "forbidden_words": "",
            "require_signature": "on", "check_language": "on"}
    assert desk.post("/automation/guidelines/", form).status_code == 302
    assert desk.post("/automation/guidelines/", {**form, "team": teams["Sales"].pk,
                                                  "advertising_words": ""}).status_code == 302
    assert desk.post("/automation/guidelines/", {**form, "forbidden_words": "unmöglich"}).status_code == 302
    rows = {g.team: g for g in Guidelines.objects.all()}
    assert set(rows) == {None, teams["Sales"]}
    assert rows[None].words(rows[None].forbidden_words) == ["unmöglich"]
    assert rows[teams["Sales"]].advertising_words == "" and rows[teams["Sales"]].require_signature


def test_approval_requirement_page_sets_changes_and_removes(desk, agent_user, api_channel):
    post = {"form": "requirement", "agent": agent_user.pk, "note": "trainee"}
    assert desk.post("/automation/guidelines/", post).status_code == 302
    assert desk.post("/automation/guidelines/", {**post, "note": " new in the team "}).status_code == 302
    requirement = ApprovalRequirement.objects.get()
    assert requirement.note == "new in the team"
    refused = desk.post("/automation/guidelines/", {**post, "channel": api_channel.pk}, follow=True)
    assert "either an agent or a channel" in refused.content.decode()
    assert desk.post("/automation/guidelines/", {"form": "remove", "requirement": "x"}).status_code == 302
    assert ApprovalRequirement.objects.count() == 1
    assert desk.post("/automation/guidelines/", {"form": "remove", "requirement": requirement.pk}).status_code == 302
    assert not ApprovalRequirement.objects.exists()


def test_actions_refuse_what_cannot_work(teams, api_channel):
    with pytest.raises(ActionError, match="needs a name"):
        actions.save_sla_policy(None, name="  ")
    with pytest.raises(ActionError, match="whole number") as negative:
        actions.save_sla_policy(None, name="x", first_response_minutes=-5)
    assert negative.value.field == "first_response_minutes"
    with pytest.raises(ActionError, match="Unknown time zone"):
        actions.save_calendar(None, name="x", hours="mon 09:00-17:00", tz="Mars/Olympus")
    with pytest.raises(ActionError, match="Give opening hours"):
        actions.save_calendar(None, name="x", hours="# closed")
    with pytest.raises(ActionError, match="weekdays 0–6"):
        actions.save_calendar(None, name="x", hours={"9": [["09:00", "17:00"]]})
    with pytest.raises(ActionError, match="not a date"):
        actions.save_calendar(None, name="x", hours="mon 09:00-17:00", holidays=["24.12."])
    customer = get_user_model().objects.create_user("customer", "customer@example.com", "pw-123456")
    with pytest.raises(ActionError, match="is not an agent"):
        actions.set_approval_requirement(agent=customer)
    with pytest.raises(ActionError, match="longer than 200"):
        actions.set_approval_requirement(channel=api_channel, note="x" * 201)
    assert not (SLAPolicy.objects.exists() or BusinessCalendar.objects.exists()
                or ApprovalRequirement.objects.exists())
