"""Supervisors' pages and the /api/rules/ endpoints."""

from __future__ import annotations

import json

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from resonanz.automation.models import Rule

pytestmark = pytest.mark.django_db


@pytest.fixture
def supervisor_api(supervisor):
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=supervisor)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def test_rules_api_create_refuse_and_disable(supervisor_api, api, teams):
    body = {"name": "Outage to Support", "trigger": "message_received",
            "conditions": {"any": [{"field": "analysis.intents", "op": "contains", "value": "outage"},
                                   {"field": "message.text", "op": "words", "value": ["Störung", "down"]}]},
            "actions": [{"type": "assign_team", "team": teams["Support"].pk}, {"type": "set_priority", "priority": 3}]}
    created = supervisor_api.post("/api/rules/", body, format="json")
    assert created.status_code == 201, created.content
    bad = supervisor_api.post("/api/rules/", {**body, "conditions": {"all": [
        {"field": "message.text", "op": "matches", "value": "(("}]}}, format="json")
    assert bad.status_code == 400 and "invalid" in json.dumps(bad.json())
    gone = supervisor_api.post("/api/rules/", {**body, "actions": [{"type": "assign_team", "team": 424242}]},
                               format="json")
    assert gone.status_code == 400 and "does not exist" in json.dumps(gone.json())
    assert api.post("/api/rules/", body, format="json").status_code == 403  # agents read only
    listed = api.get("/api/rules/").json()["results"]
    assert [r["name"] for r in listed] == ["Outage to Support"] and listed[0]["fire_count"] == 0
    rid = created.json()["id"]
    assert supervisor_api.post(f"/api/rules/{rid}/disable/").json()["enabled"] is False
    patched = supervisor_api.patch(f"/api/rules/{rid}/", {"position": 5}, format="json")
    assert patched.status_code == 200 and Rule.objects.get(pk=rid).position == 5


def test_webhook_secret_is_masked_and_kept(supervisor_api, teams):
    body = {"name": "Hook", "trigger": "message_received", "conditions": {},
            "actions": [{"type": "webhook", "url": "https://example.com/h", "secret": "x" * 20}]}
    rid = supervisor_api.post("/api/rules/", body, format="json").json()["id"]
    shown = supervisor_api.get(f"/api/rules/{rid}/").json()
    assert shown["actions"][0]["secret"] == "********"
    supervisor_api.put(f"/api/rules/{rid}/", {**body, "actions": shown["actions"]}, format="json")
    assert Rule.objects.get(pk=rid).actions[0]["secret"] == "x" * 20


def test_rule_editor_pages(client, supervisor, agent_user, teams, defaults):
    client.force_login(agent_user)
    assert client.get("/automation/rules/").status_code == 403
    client.force_login(supervisor)
    page = client.get("/automation/rules/")
    assert page.status_code == 200 and "Legal threats to Legal" in page.content.decode()
    assert client.get("/automation/rules/new/").status_code == 200
    posted = client.post("/automation/rules/new/", {
        "name": "VIP", "trigger": "conversation_created", "enabled": "on",
        "conditions": json.dumps({"all": [{"field": "contact.tags", "op": "contains", "value": "vip"}]}),
        "actions": json.dumps([{"type": "set_priority", "priority": 4}])})
    assert posted.status_code == 302
    refused = client.post("/automation/rules/new/", {
        "name": "Bad", "trigger": "message_received",
        "conditions": json.dumps({"all": [{"field": "message.text", "op": "matches", "value": "[x"}]}),
        "actions": json.dumps([{"type": "stop"}])})
    assert refused.status_code == 200 and "is invalid" in refused.content.decode()
    for url in ("/automation/slas/", "/automation/approvals/", "/automation/guidelines/"):
        assert client.get(url).status_code == 200, url


def test_conversation_page_shows_sla_rules_and_check(client, agent_user, api_channel, teams, defaults,
                                                     django_capture_on_commit_callbacks):
    from resonanz.automation.runner import run_for_message
    from resonanz.inbox.actions import ingest
    from tests.conftest import inbound

    with django_capture_on_commit_callbacks(execute=True):
        result = ingest(api_channel, inbound("v1"))
        from resonanz.automation import sla

        sla.refresh(result.conversation)
        run_for_message(result.message, is_new=True)
    client.force_login(agent_user)
    html = client.get(f"/inbox/conversations/{result.conversation.pk}/").content.decode()
    # the agent works in German
    assert "Regeln, die gewirkt haben" in html and "Alles Übrige an Support" in html and "Service-Level" in html
    inbox = client.get("/inbox/").content.decode()
    assert "sla-ok" in inbox
    check = client.post(f"/automation/conversations/{result.conversation.pk}/check-reply/",
                        {"text": "Buy now with a discount!"}).json()
    assert {w["code"] for w in check["warnings"]} == {"advertising", "language"}  # the customer writes German
