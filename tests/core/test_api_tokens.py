"""Personal API tokens: shown once, stored as a hash, named, scoped, expiring, revocable, acting as their owner."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from resonanz.core import tokens
from resonanz.core.models import ApiToken, AuditEntry
from resonanz.inbox.models import Conversation

pytestmark = pytest.mark.django_db


def client_with(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_made_through_the_api_shown_once_and_stored_only_as_a_hash(agent_user):
    client = APIClient()
    client.force_authenticate(agent_user)
    made = client.post("/api/tokens/", {"name": "Shop", "scope": "read"}, format="json")
    assert made.status_code == 201, made.json()
    key = made.json()["token"]
    assert key.startswith("rz_") and len(key) > 40
    row = ApiToken.objects.get(pk=made.json()["id"])
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    # the key is nowhere in the database: not in the row, not in the audit log
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM core_apitoken")
        assert key not in repr(cursor.fetchall())
    assert key not in repr(list(AuditEntry.objects.values_list("detail", "target_label")))
    listed = client.get("/api/tokens/").json()["results"]
    assert [t["name"] for t in listed] == ["Shop"] and "token" not in listed[0]
    assert listed[0]["prefix"] == key[:9] and listed[0]["state"] == "active"
    assert AuditEntry.objects.filter(action="api_token.create", actor=agent_user).exists()


def test_a_token_acts_as_its_owner_and_records_last_use(agent_user, admin_user):
    token, key = tokens.create_token(agent_user, name="script")
    client = client_with(key)
    assert client.get("/api/conversations/").status_code == 200
    # an agent's token cannot do what only administrators may
    assert client.get("/api/audit-log/").status_code == 403
    token.refresh_from_db()
    assert token.last_used_at is not None
    _admin_token, admin_key = tokens.create_token(admin_user, name="admin script")
    assert client_with(admin_key).get("/api/audit-log/").status_code == 200


def test_team_restrictions_apply_to_tokens(settings, agent_user, teams, api_channel):
    from resonanz.connectors.intake import InboundMessage
    from resonanz.inbox import actions as inbox_actions

    settings.RESONANZ_AGENTS_SEE_OWN_TEAMS_ONLY = True
    inbox_actions.ingest(api_channel, InboundMessage(external_id="a", sender_handle="x@example.org", text="Hallo"))
    conversation = Conversation.objects.get()
    other = next(t for name, t in teams.items() if name != "Support")
    Conversation.objects.filter(pk=conversation.pk).update(team=other)  # test setup, not a user action
    _token, key = tokens.create_token(agent_user, name="restricted")
    assert client_with(key).get(f"/api/conversations/{conversation.pk}/").status_code == 404
    Conversation.objects.filter(pk=conversation.pk).update(team=teams["Support"])
    assert client_with(key).get(f"/api/conversations/{conversation.pk}/").status_code == 200


def test_read_only_token_cannot_write(agent_user):
    _token, key = tokens.create_token(agent_user, name="dashboard", scope="read")
    client = client_with(key)
    assert client.get("/api/contacts/").status_code == 200
    refused = client.post("/api/contacts/", {"name": "Neu"}, format="json")
    assert refused.status_code == 403 and "read-only" in refused.json()["detail"]
    assert client.post("/api/tokens/", {"name": "more"}, format="json").status_code == 403


def test_revoked_and_expired_tokens_are_refused(agent_user):
    token, key = tokens.create_token(agent_user, name="old")
    client = client_with(key)
    assert client.delete(f"/api/tokens/{token.pk}/").status_code == 204
    assert client.get("/api/contacts/").status_code == 401
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEntry.objects.filter(action="api_token.revoke").exists()
    soon, soon_key = tokens.create_token(agent_user, name="soon", expires_at=timezone.now() + timedelta(hours=1))
    assert client_with(soon_key).get("/api/contacts/").status_code == 200
    ApiToken.objects.filter(pk=soon.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    refused = client_with(soon_key).get("/api/contacts/")
    assert refused.status_code == 401 and "expired" in refused.json()["detail"]


def test_a_deactivated_agents_tokens_stop_working(agent_user):
    _token, key = tokens.create_token(agent_user, name="x")
    agent_user.is_active = False
    agent_user.save()
    assert client_with(key).get("/api/contacts/").status_code == 401


def test_bad_input_is_a_clear_400(agent_user):
    client = APIClient()
    client.force_authenticate(agent_user)
    assert "name" in client.post("/api/tokens/", {"name": " "}, format="json").json()
    assert "scope" in client.post("/api/tokens/", {"name": "a", "scope": "root"}, format="json").json()
    past = (timezone.now() - timedelta(days=1)).isoformat()
    assert "expires_at" in client.post("/api/tokens/", {"name": "a", "expires_at": past}, format="json").json()


def test_one_cannot_see_or_revoke_anothers_token(agent_user, supervisor_user):
    theirs, _key = tokens.create_token(supervisor_user, name="theirs")
    client = APIClient()
    client.force_authenticate(agent_user)
    assert client.get(f"/api/tokens/{theirs.pk}/").status_code == 404
    assert client.delete(f"/api/tokens/{theirs.pk}/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_old_plain_text_tokens_keep_working_and_are_hashed_on_first_use(agent_user):
    old = Token.objects.create(user=agent_user)
    assert client_with(old.key).get("/api/contacts/").status_code == 200
    assert not Token.objects.filter(key=old.key).exists()
    migrated = ApiToken.objects.get(user=agent_user)
    assert migrated.key_hash == hashlib.sha256(old.key.encode()).hexdigest()
    assert client_with(old.key).get("/api/contacts/").status_code == 200
    assert client_with("Bearer-less-nonsense").get("/api/contacts/").status_code == 401


def test_migration_hashes_existing_plain_tokens(transactional_db, django_user_model):
    call_command("migrate", "core", "0001", verbosity=0)
    user = django_user_model.objects.create_user("legacy", password="pw-legacy-12345")
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO authtoken_token (key, user_id, created) VALUES (%s, %s, %s)",
                       ["a" * 40, user.pk, timezone.now()])
    call_command("migrate", "core", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM authtoken_token")
        assert cursor.fetchone()[0] == 0
    row = ApiToken.objects.get(user=user)
    assert row.key_hash == hashlib.sha256(b"a" * 40).hexdigest()
    assert client_with("a" * 40).get("/api/contacts/").status_code in (200, 403)  # authenticated (no agent role)


def test_token_page_makes_shows_once_and_revokes(agent_user):
    client = Client()
    client.force_login(agent_user)
    page = client.post("/inbox/profile/tokens/", {"name": "Zapier", "scope": "full", "expires": ""}, follow=True)
    html = page.content.decode()
    key = page.context["new_key"]
    assert key and key in html and "Zapier" in html
    again = client.get("/inbox/profile/tokens/").content.decode()
    assert key not in again and "Zapier" in again
    token = ApiToken.objects.get(name="Zapier")
    client.post(f"/inbox/profile/tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert token.revoked_at is not None
    bad = client.post("/inbox/profile/tokens/", {"name": "x", "scope": "read", "expires": "morgen"}, follow=True)
    assert bad.status_code == 200 and not ApiToken.objects.filter(name="x").exists()


def test_an_administrator_revokes_an_agents_token(agent_user, admin_user, supervisor_user):
    token, key = tokens.create_token(agent_user, name="leaked script")
    admin = Client()
    admin.force_login(admin_user)
    page = admin.get(f"/inbox/settings/agents/{agent_user.agent.pk}/").content.decode()
    assert "leaked script" in page and token.prefix in page and key not in page
    mine, _key = tokens.create_token(supervisor_user, name="not hers")
    # a token of another agent cannot be revoked through this agent's page
    assert admin.post(f"/inbox/settings/agents/{agent_user.agent.pk}/",
                      {"form": "revoke_token", "token": mine.pk}).status_code == 404
    admin.post(f"/inbox/settings/agents/{agent_user.agent.pk}/", {"form": "revoke_token", "token": token.pk})
    assert client_with(key).get("/api/contacts/").status_code == 401
    assert AuditEntry.objects.get(action="api_token.revoke").actor == admin_user


def test_two_requests_with_one_old_key_at_once_are_both_let_in(agent_user):
    """Both look for the hashed key before either hashed it; the second then finds the plain row gone (the load
    test saw this as one 401 among hundreds of requests)."""
    old = Token.objects.create(user=agent_user)
    first = tokens._legacy(old.key)  # the first request hashes the key and deletes the plain row
    second = tokens._legacy(old.key)  # the second one looked up the hash before that, and comes here now
    assert first is not None and second is not None and second.pk == first.pk
