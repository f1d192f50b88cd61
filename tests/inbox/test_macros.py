"""Canned replies and bulk changes through the inbox actions and the API."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from rest_framework.test import APIClient

from resonanz.connectors.actions import create_channel
from resonanz.core.errors import ActionError
from resonanz.crm.actions import update_contact
from resonanz.inbox import actions
from resonanz.inbox.models import Conversation, ConversationEvent, Macro, Team
from tests.conftest import inbound

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    actions.ensure_default_teams()
    lead = actions.invite_agent("lead@example.com", display_name="Lea Lead", role="supervisor", password="pw-x-12345")
    agent = actions.invite_agent("tom@example.com", display_name="Tom Berger", role="agent", password="pw-x-12345")
    return lead, agent


@pytest.fixture
def conversations():
    channel = create_channel(kind="api", name="API")
    first = actions.ingest(channel, inbound("m1", "kim@example.com", subject="Erstattung")).conversation
    update_contact(first.contact, name="Kim Schulz")
    second = actions.ingest(channel, inbound("m2", "lou@example.com", subject="Rechnung")).conversation
    return first, second


def test_macro_fills_placeholders_and_sets_status_tags_team(people, conversations):
    lead, agent = people
    conversation = conversations[0]
    legal = Team.objects.get(name="Legal")
    macro = actions.save_macro(None, lead, name="Erstattung", shared=True, status="pending", tags=["erstattung"],
                               team=legal, text="Hallo {customer_first_name}, {ticket} ist erledigt. {agent_name} {nope}")
    text = actions.apply_macro(conversation, macro, agent)
    assert text == f"Hallo Kim, {conversation.reference} ist erledigt. Tom Berger {{nope}}"
    conversation.refresh_from_db()
    assert (conversation.status, conversation.team) == ("pending", legal)
    assert list(conversation.tags.values_list("name", flat=True)) == ["erstattung"]
    assert ConversationEvent.objects.filter(conversation=conversation, kind="macro_applied").count() == 1
    assert Macro.objects.get(pk=macro.pk).use_count == 1


def test_personal_and_shared_macros_are_kept_by_the_right_people(people, conversations):
    lead, agent = people
    with pytest.raises(PermissionDenied):
        actions.save_macro(None, agent, name="Für alle", text="x", shared=True)
    own = actions.save_macro(None, agent, name="Meins", text="Hallo")
    shared = actions.save_macro(None, lead, name="Geteilt", text="Hallo", shared=True)
    assert set(actions.macros_for(agent)) == {own, shared}
    assert set(actions.macros_for(lead)) == {shared}  # another agent's personal macro stays private
    with pytest.raises(PermissionDenied):
        actions.apply_macro(conversations[0], own, lead)
    with pytest.raises(PermissionDenied):
        actions.delete_macro(shared, agent)
    with pytest.raises(ActionError):
        actions.save_macro(None, agent, name="", text="x")
    with pytest.raises(ActionError):
        actions.save_macro(None, agent, name="Leer")


def test_bulk_update_is_all_or_none(people, conversations):
    lead, agent = people
    a, b = conversations
    assert actions.bulk_update([a.pk, b.pk], lead, status="resolved", assignee=agent, add_tags=["sammel"]) == 2
    for c in Conversation.objects.filter(pk__in=[a.pk, b.pk]):
        assert (c.status, c.assignee) == ("resolved", agent)
        assert "sammel" in c.tags.values_list("name", flat=True)
    inactive = Team.objects.create(name="Alt", is_active=False)
    with pytest.raises(ActionError):
        actions.bulk_update([a.pk, b.pk], lead, status="open", team=inactive)
    assert set(Conversation.objects.values_list("status", flat=True)) == {"resolved"}  # nothing changed
    with pytest.raises(ActionError):
        actions.bulk_update([a.pk, 999999], lead, status="open")
    with pytest.raises(ActionError):
        actions.bulk_update([a.pk], lead)


def test_bulk_changes_are_for_supervisors_and_audit_logged(people, conversations):
    """Issue 16: destructive actions (bulk changes among them) are for supervisors and admins and in the
    audit log."""
    from resonanz.core.models import AuditEntry

    lead, agent = people
    a, b = conversations
    with pytest.raises(PermissionDenied):
        actions.bulk_update([a.pk], agent, status="closed")
    assert actions.bulk_update([a.pk, b.pk], lead, status="closed") == 2
    entry = AuditEntry.objects.get(action="conversation.bulk_update")
    assert entry.actor == lead and entry.detail["ids"] == sorted([a.pk, b.pk]) and entry.detail["status"] == "closed"


def test_macros_and_bulk_through_the_api(people, conversations):
    lead, agent = people
    a, b = conversations
    api = APIClient()
    api.force_authenticate(agent)
    r = api.post("/api/macros/", {"name": "Danke", "text": "Danke, {customer_name}!", "status": "resolved"},
                 format="json")
    assert r.status_code == 201, r.content
    assert r.json()["shared"] is False
    assert api.post("/api/macros/", {"name": "Alle", "text": "x", "shared": True}, format="json").status_code == 403
    assert api.post("/api/macros/", {"name": "", "text": "x"}, format="json").status_code == 400
    r = api.post(f"/api/conversations/{a.pk}/apply-macro/", {"macro": r.json()["id"]}, format="json")
    assert r.status_code == 200 and r.json()["text"] == "Danke, Kim Schulz!"
    assert Conversation.objects.get(pk=a.pk).status == "resolved"
    r = api.post("/api/conversations/bulk/", {"conversations": [a.pk, b.pk], "status": "closed"}, format="json")
    assert r.status_code == 403  # bulk changes are for supervisors
    api.force_authenticate(lead)
    r = api.post("/api/conversations/bulk/", {"conversations": [a.pk, b.pk], "status": "closed"}, format="json")
    assert r.status_code == 200 and r.json() == {"changed": 2}
    assert api.post("/api/conversations/bulk/", {"conversations": []}, format="json").status_code == 400
    assert api.post("/api/conversations/bulk/", {"conversations": [a.pk]}, format="json").status_code == 400
    # search finds a ticket number, a name and an email address
    for q in (a.reference, "Kim Schulz", "kim@example"):
        ids = [c["id"] for c in api.get("/api/conversations/", {"q": q, "status": "closed"}).json()["results"]]
        assert ids == [a.pk], q


def test_saved_views_keep_filters_and_count(people, conversations):
    lead, agent = people
    a, b = conversations
    actions.update_conversation(a, agent, status="pending", tags=["vip"])
    mine = actions.save_view(None, agent, name="Meine VIPs", params={"tag": "vip", "status": "pending",
                                                                    "evil": "x", "q": ""})
    assert mine.params == {"tag": "vip", "status": "pending"}  # unknown and empty parameters are dropped
    with pytest.raises(PermissionDenied):
        actions.save_view(None, agent, name="Für alle", params={}, shared=True)
    shared = actions.save_view(None, lead, name="Neu", params={"status": "new"}, shared=True)
    assert set(actions.views_for(agent)) == {mine, shared} and set(actions.views_for(lead)) == {shared}
    with pytest.raises(PermissionDenied):
        actions.delete_view(shared, agent)
    api = APIClient()
    api.force_authenticate(agent)
    rows = {v["name"]: v for v in api.get("/api/views/").json()["results"]}
    assert rows["Meine VIPs"]["count"] == 1 and rows["Neu"]["count"] == 1 and rows["Neu"]["shared"] is True
    r = api.post("/api/views/", {"name": "Offen", "params": {"status": "open"}}, format="json")
    assert r.status_code == 201 and r.json()["count"] == 0
    assert api.post("/api/views/", {"name": "X", "params": {}, "shared": True}, format="json").status_code == 403
    assert api.delete(f"/api/views/{shared.pk}/").status_code == 403
    assert api.delete(f"/api/views/{r.json()['id']}/").status_code == 204
