"""Settings → Security: the audit log and sign-in lockouts, for administrators only."""

from __future__ import annotations

import pytest
from django.test import Client

from resonanz.connectors import intake
from resonanz.core.models import AuditEntry
from tests.conftest import inbound

pytestmark = pytest.mark.django_db


def test_destructive_actions_are_in_the_audit_log_and_on_the_page(admin_user, admin_api, api_channel, settings):
    a = intake.submit(api_channel, [inbound("1", "anna@example.com")])[0].contact_id
    b = intake.submit(api_channel, [inbound("2", "anna@other.example")])[0].contact_id
    lonely = admin_api.post("/api/contacts/", {"name": "Ohne Verlauf"}, format="json").json()["id"]
    org = admin_api.post("/api/organizations/", {"name": "Beispiel GmbH"}, format="json").json()["id"]
    assert admin_api.post(f"/api/contacts/{a}/merge/", {"drop": b}, format="json").status_code == 200
    assert admin_api.delete(f"/api/contacts/{lonely}/").status_code == 204
    assert admin_api.delete(f"/api/organizations/{org}/").status_code == 204
    actions = list(AuditEntry.objects.order_by("id").values_list("action", "actor_label"))
    assert actions == [("contact.merge", "admin@example.com"), ("contact.delete", "admin@example.com"),
                       ("organization.delete", "admin@example.com")]
    # the API's audit log
    listed = admin_api.get("/api/audit-log/", {"action": "contact.delete"}).json()
    assert [e["target_label"] for e in listed["results"]] == ["Ohne Verlauf"]

    settings.AXES_FAILURE_LIMIT = 2
    desk = Client(REMOTE_ADDR="192.0.2.8")
    desk.force_login(admin_user)  # first: a successful sign-in resets that account's failures
    attacker = Client(REMOTE_ADDR="192.0.2.7")
    for _ in range(2):
        attacker.post("/accounts/login/", {"username": "admin@example.com", "password": "nope"})
    page = desk.get("/inbox/settings/security/").content.decode()
    assert "contact.merge" in page and "Beispiel GmbH" in page and "192.0.2.7" in page
    assert "signin.lockout" in page
    # Unlock: the account signs in again, and the unlock is recorded.
    from axes.models import AccessAttempt

    attempt = AccessAttempt.objects.get(username="admin@example.com")
    assert desk.post("/inbox/settings/security/", {"attempt": attempt.pk}).status_code == 302
    assert not AccessAttempt.objects.filter(pk=attempt.pk).exists()
    assert AuditEntry.objects.filter(action="signin.unlock", actor=admin_user).exists()
    ok = attacker.post("/accounts/login/", {"username": "admin@example.com", "password": "pw-admin-123"})
    assert ok.status_code == 302
    assert desk.post("/inbox/settings/security/", {"attempt": "abc"}).status_code == 302  # a message, no 500


def test_security_page_in_german(db):
    from resonanz.inbox.actions import invite_agent

    desk = Client()
    desk.force_login(invite_agent("de@example.com", role="admin", language="de", password="pw-admin-123"))
    page = desk.get("/inbox/settings/security/").content.decode()
    assert "Gesperrte Anmeldungen" in page and "Protokoll" in page
