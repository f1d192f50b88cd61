"""Two-factor sign-in: enrolment with a local QR code, codes after the password, recovery codes, lockout, policy."""

from __future__ import annotations

import time

import pyotp
import pytest
from django.test import Client
from rest_framework.test import APIClient

from resonanz.core import twofactor
from resonanz.core.models import AuditEntry, TwoFactorDevice

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def small_limit(settings):
    settings.AXES_FAILURE_LIMIT = 3


def secret_of(user) -> str:
    return twofactor._secret(TwoFactorDevice.objects.get(user=user))


def enrol(user) -> tuple[str, list[str]]:
    """Set up through the page as the agent would, returning the secret and the recovery codes."""
    client = Client()
    client.force_login(user)
    page = client.get("/inbox/profile/two-factor/")
    html = page.content.decode()
    assert page.status_code == 200 and 'src="data:image/svg+xml' in html  # the QR code, rendered here
    secret = secret_of(user)
    assert " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)) in html
    wrong = client.post("/inbox/profile/two-factor/", {"step": "confirm", "code": "000000"}, follow=True)
    expected = "Dieser Code stimmt nicht" if user.agent.language == "de" else "That code is not right"
    assert not twofactor.enabled(user) and expected in wrong.content.decode()  # in the agent's language
    done = client.post("/inbox/profile/two-factor/", {"step": "confirm", "code": pyotp.TOTP(secret).now()})
    codes = done.context["codes"]
    assert twofactor.enabled(user) and len(codes) == 10 and codes[0] in done.content.decode()
    return secret, codes


def next_code(secret: str) -> str:
    """A code of the next time step (the one just used is refused as a replay)."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def test_enrolment_then_sign_in_asks_for_the_code(agent_user):
    secret, _codes = enrol(agent_user)
    assert AuditEntry.objects.filter(action="two_factor.enable", actor=agent_user).exists()
    client = Client()
    step1 = client.post("/accounts/login/", {"username": "berta@example.com", "password": "pw-agent-123",
                                              "next": "/contacts/"})
    assert step1.status_code == 302 and step1["Location"] == "/accounts/login/code/"
    assert "_auth_user_id" not in client.session  # not signed in yet
    assert client.get("/inbox/").status_code == 302
    page = client.get("/accounts/login/code/")
    assert page.status_code == 200 and 'autocomplete="one-time-code"' in page.content.decode()
    done = client.post("/accounts/login/code/", {"code": next_code(secret)})
    assert done.status_code == 302 and done["Location"] == "/contacts/"
    assert client.session["_auth_user_id"] == str(agent_user.pk)


def test_a_code_works_only_once(agent_user):
    secret, _codes = enrol(agent_user)
    code = next_code(secret)
    assert twofactor.verify(agent_user, code) == "totp"
    assert twofactor.verify(agent_user, code) is None


def test_recovery_code_signs_in_once(agent_user):
    _secret, codes = enrol(agent_user)
    client = Client()
    client.post("/accounts/login/", {"username": "berta@example.com", "password": "pw-agent-123"})
    done = client.post("/accounts/login/code/", {"code": codes[0].upper()}, follow=True)
    assert client.session["_auth_user_id"] == str(agent_user.pk)
    assert "9 sind noch übrig" in done.content.decode()
    assert twofactor.verify(agent_user, codes[0]) is None
    assert AuditEntry.objects.filter(action="two_factor.recovery_used").exists()


def test_wrong_codes_count_towards_the_lockout(agent_user):
    enrol(agent_user)
    client = Client(REMOTE_ADDR="10.1.0.1")
    client.post("/accounts/login/", {"username": "berta@example.com", "password": "pw-agent-123"})
    assert client.post("/accounts/login/code/", {"code": "111111"}).status_code == 200
    assert client.post("/accounts/login/code/", {"code": "222222"}).status_code == 200
    locked = client.post("/accounts/login/code/", {"code": "333333"})
    assert locked.status_code == 429 and "Too many failed sign-ins" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    # the account is locked: even the right password from elsewhere is refused now
    other = Client(REMOTE_ADDR="10.1.0.2")
    assert other.post("/accounts/login/", {"username": "berta@example.com", "password": "pw-agent-123"}).status_code == 429
    assert AuditEntry.objects.filter(action="signin.lockout").exists()


def test_the_code_step_expires(agent_user, monkeypatch):
    secret, _codes = enrol(agent_user)
    client = Client()
    client.post("/accounts/login/", {"username": "berta@example.com", "password": "pw-agent-123"})
    session = client.session
    session["resonanz_2fa_pending"]["at"] -= 3600
    session.save()
    late = client.post("/accounts/login/code/", {"code": next_code(secret)})
    assert late.status_code == 302 and late["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in client.session


def test_api_token_endpoint_needs_the_code(agent_user):
    secret, _codes = enrol(agent_user)
    client = APIClient()
    creds = {"username": "berta@example.com", "password": "pw-agent-123"}
    missing = client.post("/api/auth/token/", creds, format="json")
    assert missing.status_code == 400 and "code" in missing.json()
    assert client.post("/api/auth/token/", {**creds, "code": "123456"}, format="json").status_code == 400
    ok = client.post("/api/auth/token/", {**creds, "code": next_code(secret), "name": "CI"}, format="json")
    assert ok.status_code == 200 and ok.json()["name"] == "CI"


def test_admin_requires_it_per_role(agent_user, supervisor_user, admin_user):
    admin = Client()
    admin.force_login(admin_user)
    page = admin.get("/inbox/settings/security/")
    assert 'name="roles" value="agent"' in page.content.decode()
    admin.post("/inbox/settings/security/", {"form": "two_factor", "roles": ["agent"]})
    assert twofactor.policy().two_factor_roles == ["agent"]
    assert AuditEntry.objects.filter(action="two_factor.policy").exists()
    agent = Client()
    agent.force_login(agent_user)
    sent = agent.get("/inbox/")
    assert sent.status_code == 302 and sent["Location"].startswith("/inbox/profile/two-factor/")
    assert agent.get("/api/contacts/").status_code == 403
    page = agent.get(sent["Location"]).content.decode()
    assert "verlangt für Ihre Rolle die Zwei-Faktor-Anmeldung" in page
    # supervisors are not required
    supervisor = Client()
    supervisor.force_login(supervisor_user)
    assert supervisor.get("/inbox/").status_code == 200
    # nor can the token endpoint skip it
    api = APIClient().post("/api/auth/token/", {"username": "berta@example.com", "password": "pw-agent-123"},
                           format="json")
    assert api.status_code == 403
    # after enrolment the agent works, and cannot switch it off while required
    enrol(agent_user)
    assert agent.get("/inbox/").status_code == 200
    agent.post("/inbox/profile/two-factor/", {"step": "disable"})
    assert twofactor.enabled(agent_user)


def test_non_admins_cannot_change_the_policy(supervisor_user):
    client = Client()
    client.force_login(supervisor_user)
    assert client.post("/inbox/settings/security/", {"form": "two_factor", "roles": ["agent"]}).status_code == 403
    assert twofactor.policy().two_factor_roles == []


def test_admin_resets_an_agents_second_factor(agent_user, admin_user):
    enrol(agent_user)
    client = Client()
    client.force_login(admin_user)
    page = client.get(f"/inbox/settings/agents/{agent_user.agent.pk}/")
    assert "Reset two-factor sign-in" in page.content.decode()
    client.post(f"/inbox/settings/agents/{agent_user.agent.pk}/", {"form": "two_factor_reset"})
    assert not twofactor.enabled(agent_user)
    entry = AuditEntry.objects.get(action="two_factor.disable")
    assert entry.actor == admin_user and entry.target_label == agent_user.get_username()


def test_agent_switches_it_off_and_new_recovery_codes_replace_old(agent_user):
    _secret, codes = enrol(agent_user)
    client = Client()
    client.force_login(agent_user)
    fresh = client.post("/inbox/profile/two-factor/", {"step": "codes"}).context["codes"]
    assert set(fresh).isdisjoint(codes) and twofactor.verify(agent_user, codes[1]) is None
    client.post("/inbox/profile/two-factor/", {"step": "disable"})
    assert not twofactor.enabled(agent_user)
    signin = Client()
    response = signin.post("/accounts/login/", {"username": "berta@example.com", "password": "pw-agent-123"})
    assert response.status_code == 302 and signin.session["_auth_user_id"] == str(agent_user.pk)


def test_the_django_admin_login_asks_for_the_code_too(admin_user):
    enrol(admin_user)
    client = Client()
    step1 = client.post("/django-admin/login/?next=/django-admin/",
                        {"username": "admin@example.com", "password": "pw-admin-123", "next": "/django-admin/"})
    assert step1.status_code == 302 and step1["Location"] == "/accounts/login/code/"
    assert "_auth_user_id" not in client.session
    assert client.get("/django-admin/").status_code == 302


def test_cli_resets_and_sets_the_rule(agent_user, capsys):
    from django.core.management import CommandError, call_command

    enrol(agent_user)
    call_command("two_factor", "reset", "BERTA@example.com")
    assert not twofactor.enabled(agent_user)
    assert AuditEntry.objects.filter(action="two_factor.disable", target_label=agent_user.get_username()).exists()
    call_command("two_factor", "require", "agent", "admin")
    assert twofactor.policy().two_factor_roles == ["agent", "admin"]
    assert "agent, admin" in capsys.readouterr().out
    with pytest.raises(CommandError, match="boss"):
        call_command("two_factor", "require", "boss")
    with pytest.raises(CommandError, match="No account"):
        call_command("two_factor", "reset", "nobody@example.com")
