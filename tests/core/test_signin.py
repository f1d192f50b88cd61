"""Hardened sign-in: lockout per account and per address on every sign-in path, strong passwords, argon2."""

from __future__ import annotations

import importlib

import pytest
from django.contrib.auth.hashers import check_password, make_password
from django.test import Client
from rest_framework.test import APIClient

from resonanz.core.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def small_limit(settings):
    settings.AXES_FAILURE_LIMIT = 3


def fail_login(client, username, times, **extra):
    for _ in range(times):
        response = client.post("/accounts/login/", {"username": username, "password": "wrong-one"}, **extra)
        assert response.status_code in (200, 429)
    return response


def test_login_page_locks_an_account_after_repeated_failures(agent_user):
    client = Client(REMOTE_ADDR="10.0.0.1")
    assert fail_login(client, "berta@example.com", 2).status_code == 200  # the form again, with the error
    locked = fail_login(client, "berta@example.com", 1)
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    # Even the right password is refused now, from another address too (the account is locked).
    other = Client(REMOTE_ADDR="10.0.0.2")
    right = other.post("/accounts/login/", {"username": "berta@example.com", "password": "pw-agent-123"})
    assert right.status_code == 429 and "_auth_user_id" not in other.session
    entry = AuditEntry.objects.filter(action="signin.lockout").first()
    assert entry is not None and entry.target_label == "berta@example.com"


def test_an_address_trying_many_accounts_is_locked(agent_user, admin_user):
    client = Client(REMOTE_ADDR="10.0.0.9")
    for name in ("a@example.com", "b@example.com", "c@example.com"):
        fail_login(client, name, 1)
    response = client.post("/accounts/login/", {"username": "admin@example.com", "password": "pw-admin-123"})
    assert response.status_code == 429
    # The account itself is not locked: from elsewhere it signs in.
    elsewhere = Client(REMOTE_ADDR="10.0.0.10")
    ok = elsewhere.post("/accounts/login/", {"username": "admin@example.com", "password": "pw-admin-123"})
    assert ok.status_code == 302 and "_auth_user_id" in elsewhere.session


def test_token_endpoint_locks_with_json(agent_user):
    client = APIClient(REMOTE_ADDR="10.0.1.1")
    for _ in range(3):
        bad = client.post("/api/auth/token/", {"username": "berta@example.com", "password": "nope"}, format="json")
    assert bad.status_code == 429, bad.content
    assert bad["Content-Type"] == "application/json" and "retry_after_minutes" in bad.json()
    assert int(bad["Retry-After"]) > 0
    again = client.post("/api/auth/token/", {"username": "berta@example.com", "password": "pw-agent-123"},
                        format="json")
    assert again.status_code == 429


def test_django_admin_login_counts_too(admin_user):
    client = Client(REMOTE_ADDR="10.0.2.1")
    for _ in range(3):
        response = client.post("/django-admin/login/", {"username": "admin@example.com", "password": "x"})
    assert response.status_code == 429


def test_success_before_the_limit_resets_the_count(agent_user):
    client = Client(REMOTE_ADDR="10.0.3.1")
    fail_login(client, "berta@example.com", 2)
    ok = client.post("/accounts/login/", {"username": "berta@example.com", "password": "pw-agent-123"})
    assert ok.status_code == 302
    client.logout()
    assert fail_login(client, "berta@example.com", 2).status_code == 200


def test_lockout_page_in_german(agent_user):
    client = Client(REMOTE_ADDR="10.0.4.1", HTTP_ACCEPT_LANGUAGE="de")
    page = fail_login(client, "berta@example.com", 3)
    assert page.status_code == 429 and "Zu viele fehlgeschlagene Anmeldungen" in page.content.decode()


def test_weak_passwords_are_refused_by_the_api(admin_api):
    for weak in ("12345678901", "password123", "short"):
        response = admin_api.post("/api/agents/", {"email": "neu@example.com", "password": weak}, format="json")
        assert response.status_code == 400 and "password" in response.json(), (weak, response.content)
    ok = admin_api.post("/api/agents/", {"email": "neu@example.com", "password": "Lang-und-sicher-7"}, format="json")
    assert ok.status_code == 201


def test_production_hashes_passwords_with_argon2(settings):
    production = importlib.import_module("resonanz.settings")
    assert production.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    settings.PASSWORD_HASHERS = production.PASSWORD_HASHERS
    encoded = make_password("Lang-und-sicher-7")
    assert encoded.startswith("argon2$") and check_password("Lang-und-sicher-7", encoded)


def test_every_agent_changes_their_password_under_the_rules(agent_user):
    client = Client()
    client.force_login(agent_user)
    assert "/accounts/password/" in client.get("/inbox/profile/").content.decode()
    weak = client.post("/accounts/password/", {"old_password": "pw-agent-123", "new_password1": "12345678",
                                               "new_password2": "12345678"})
    assert weak.status_code == 200 and "errorlist" in weak.content.decode()
    ok = client.post("/accounts/password/", {"old_password": "pw-agent-123", "new_password1": "Neues-Passwort-9",
                                             "new_password2": "Neues-Passwort-9"})
    assert ok.status_code == 302
    agent_user.refresh_from_db()
    assert agent_user.check_password("Neues-Passwort-9")


def test_password_reset_by_email_does_not_reveal_accounts(agent_user, mailoutbox):
    client = Client()
    known = client.post("/accounts/forgot/", {"email": "berta@example.com"})
    unknown = client.post("/accounts/forgot/", {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 302 and known["Location"] == unknown["Location"]
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["berta@example.com"]
    assert "/accounts/reset/" in mailoutbox[0].body
    assert "Passwort vergessen?" in Client(HTTP_ACCEPT_LANGUAGE="de").get("/accounts/login/").content.decode()
