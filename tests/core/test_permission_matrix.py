"""Every cell of the permission matrix, through the API and the agent UI.

The expected answer of each cell is computed from ``PERMISSIONS`` (the one table the code uses), so
the test proves that the UI and the API enforce exactly that table, for every role.
"""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from resonanz.automation.models import PendingReply
from resonanz.connectors import intake
from resonanz.core.permissions import PERMISSIONS, ROLES, has_role
from resonanz.crm.actions import create_organization
from resonanz.inbox.actions import invite_agent
from tests.conftest import inbound

pytestmark = pytest.mark.django_db

# (method, path, body, capability); {contact}, {other}, {org}, {pending}, {conversation} are filled in.
API = [
    ("post", "/api/listening-queries/", {"name": ""}, "insights.manage"),
    ("post", "/api/community/ideas/999999/status/", {"status": "planned", "note": "x"}, "ideas.manage"),
    ("post", "/api/community/ideas/999999/merge/", {"into": 1, "reason": "doppelt"}, "ideas.manage"),
    ("post", "/api/community/members/999999/moderator/", {"on": True}, "ideas.manage"),
    ("post", "/api/community/questions/999999/move/", {"tags": ["x"], "reason": "weil"}, "community.moderate"),
    ("post", "/api/community/questions/999999/merge/", {"into": 1, "reason": "doppelt"}, "community.moderate"),
    ("patch", "/api/community/tags/999999/", {"name": "neu"}, "community.moderate"),
    ("get", "/api/conversations/", None, "conversations.work"),
    ("get", "/api/conversations/{conversation}/", None, "conversations.work"),
    ("post", "/api/conversations/{conversation}/notes/", {"text": "Notiz"}, "conversations.work"),
    ("post", "/api/contacts/", {"name": "Neu"}, "contacts.edit"),
    ("patch", "/api/contacts/{contact}/", {"notes": "x"}, "contacts.edit"),
    ("post", "/api/contacts/{contact}/merge/", {"drop": "{other}"}, "contacts.delete"),
    ("post", "/api/conversations/bulk/", {"conversations": ["{conversation}"], "add_tags": ["bulk"]},
     "conversations.bulk"),
    ("delete", "/api/organizations/{org}/", None, "contacts.delete"),
    ("get", "/api/articles/", None, "knowledge.read"),
    ("post", "/api/articles/", {"title": "T", "body": "B", "language": "de"}, "knowledge.edit"),
    ("get", "/api/rules/", None, "conversations.work"),
    ("post", "/api/rules/", {"name": "R", "trigger": "message_received", "conditions": {}, "actions": []},
     "rules.edit"),
    ("post", "/api/sla-policies/", {"name": "S"}, "rules.edit"),
    ("post", "/api/pending-replies/{pending}/return/", {"note": "nein"}, "replies.approve"),
    ("get", "/api/teams/", None, "conversations.work"),
    ("post", "/api/teams/", {"name": "Neu-{role}"}, "settings.manage"),
    ("post", "/api/channels/", {"kind": "api", "name": "K-{role}"}, "settings.manage"),
    ("get", "/api/audit-log/", None, "audit.read"),
]

DESK = [
    ("get", "/moderation/", "community.moderate"),
    ("get", "/inbox/", "conversations.work"),
    ("get", "/inbox/conversations/{conversation}/", "conversations.work"),
    ("get", "/contacts/", "contacts.edit"),
    ("get", "/contacts/{contact}/edit/", "contacts.edit"),
    ("post", "/contacts/{contact}/merge/", "contacts.delete"),
    ("post", "/inbox/bulk/", "conversations.bulk"),
    ("get", "/knowledge/", "knowledge.read"),
    ("get", "/knowledge/new/", "knowledge.edit"),
    ("get", "/knowledge/export.json", "data.export"),
    ("get", "/automation/rules/", "rules.edit"),
    ("get", "/automation/slas/", "rules.edit"),
    ("get", "/automation/approvals/", "replies.approve"),
    ("get", "/inbox/settings/agents/", "settings.manage"),
    ("get", "/inbox/settings/channels/", "settings.manage"),
    ("get", "/inbox/settings/security/", "audit.read"),
]


def test_every_capability_is_in_a_cell():
    # conversations.all_teams only matters when agents are team-restricted: its own test below.
    assert {c for *_, c in API} | {c for *_, c in DESK} | {"conversations.all_teams"} == set(PERMISSIONS)


@pytest.fixture
def world(teams, api_channel):
    users = {role: invite_agent(f"{role}@example.com", role=role, teams=[teams["Support"]], password="pw-matrix-1")
             for role in ROLES}
    first = intake.submit(api_channel, [inbound("m1", "a@example.com")])[0]
    conversation = first.conversation
    conversation.team = teams["Support"]
    conversation.save()
    pending = PendingReply.objects.create(conversation=conversation, author=users["agent"], text="Entwurf")
    return {"users": users, "conversation": conversation.pk, "contact": first.contact_id, "pending": pending.pk,
            "channel": api_channel}


def fill(text, values):
    return text.format(**values) if isinstance(text, str) else text


def fresh_values(world, role):
    """Objects a destructive cell may consume: a new contact to merge and an organization to delete."""
    other = intake.submit(world["channel"], [inbound(f"o-{role}", f"{role}-other@example.com")])[0].contact_id
    org = create_organization(name=f"Org {role}").pk
    return {"conversation": world["conversation"], "contact": world["contact"], "pending": world["pending"],
            "other": other, "org": org, "role": role}


@pytest.mark.parametrize("role", [None, *ROLES])
def test_api_matrix(world, role):
    client = APIClient()
    if role:
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=world['users'][role]).key}")
    for method, path, body, capability in API:
        values = fresh_values(world, role or "anon")
        data = {k: (int(fill(v, values)) if v == "{other}" else [int(fill(i, values)) for i in v]
                    if v == ["{conversation}"] else fill(v, values)) for k, v in (body or {}).items()}
        response = getattr(client, method)(fill(path, values), data or None, format="json")
        allowed = role is not None and has_role(world["users"][role], PERMISSIONS[capability])
        if role is None:
            assert response.status_code == 401, (method, path, response.status_code)
        elif allowed:
            assert response.status_code not in (401, 403), (role, method, path, response.status_code, response.content)
            assert response.status_code < 500
        else:
            assert response.status_code == 403, (role, method, path, response.status_code, response.content)


@pytest.mark.parametrize("role", [None, *ROLES])
def test_desk_matrix(world, role):
    client = Client()
    if role:
        client.force_login(world["users"][role])
    for method, path, capability in DESK:
        values = fresh_values(world, role or "anon")
        data = {"other": values["other"]} if path.endswith("merge/") else (
            {"conversations": [values["conversation"]], "tag": "bulk"} if path.endswith("bulk/") else None)
        response = getattr(client, method)(fill(path, values), data)
        allowed = role is not None and has_role(world["users"][role], PERMISSIONS[capability])
        if role is None:
            assert response.status_code == 302 and "/accounts/login/" in response["Location"], (method, path)
        elif allowed:
            assert response.status_code in (200, 302), (role, method, path, response.status_code)
        else:
            assert response.status_code == 403, (role, method, path, response.status_code)


def test_team_restricted_agents_see_only_their_teams(settings, teams, api_channel):
    settings.RESONANZ_AGENTS_SEE_OWN_TEAMS_ONLY = True
    support_agent = invite_agent("s@example.com", role="agent", teams=[teams["Support"]], password="pw-matrix-1")
    supervisor = invite_agent("sv@example.com", role="supervisor", teams=[teams["Support"]], password="pw-matrix-1")
    ours = intake.submit(api_channel, [inbound("ours", "a@example.com")])[0]
    theirs = intake.submit(api_channel, [inbound("theirs", "b@example.com")])[0]
    for result, team in ((ours, teams["Support"]), (theirs, teams["Legal"])):
        result.conversation.team = team
        result.conversation.save()

    api = APIClient()
    api.force_authenticate(support_agent)
    listed = [c["id"] for c in api.get("/api/conversations/").json()["results"]]
    assert listed == [ours.conversation.pk]
    assert api.get(f"/api/conversations/{theirs.conversation.pk}/").status_code == 404
    assert api.get(f"/api/messages/{theirs.message.pk}/").status_code == 404
    assert api.get("/api/messages/").json()["count"] == 1
    desk = Client()
    desk.force_login(support_agent)
    assert desk.get(f"/inbox/conversations/{theirs.conversation.pk}/").status_code == 404
    page = desk.get("/inbox/").content.decode()
    assert f'data-id="{ours.conversation.pk}"' in page and f'data-id="{theirs.conversation.pk}"' not in page
    # Assigned to them, a conversation of another team is theirs to work on.
    theirs.conversation.assignee = support_agent
    theirs.conversation.save()
    assert desk.get(f"/inbox/conversations/{theirs.conversation.pk}/").status_code == 200

    api.force_authenticate(supervisor)
    assert api.get("/api/conversations/").json()["count"] == 2
    settings.RESONANZ_AGENTS_SEE_OWN_TEAMS_ONLY = False
    api.force_authenticate(support_agent)
    assert api.get("/api/conversations/").json()["count"] == 2
