"""In a real browser, German, phone width: an agent sets up two-factor sign-in by scanning the QR code (read here
from the rendered image's data), signs in again with a code, and makes and revokes a personal API token."""

from __future__ import annotations

import time

import pyotp
import pytest

from resonanz.core import twofactor
from resonanz.core.models import ApiToken, TwoFactorDevice
from resonanz.inbox import actions
from tests.e2e.helpers import Watched

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def agent():
    actions.ensure_default_teams()
    return actions.invite_agent("paula@example.com", display_name="Paula Phone", role="agent",
                                password="pw-paula-1234", language="de")


def test_two_factor_set_up_and_sign_in_at_phone_width(live_server, browser, agent):
    w = Watched(browser, "phone")
    page = w.page
    w.login(live_server.url, "paula@example.com", "pw-paula-1234", path="/inbox/profile/")
    page.click("text=Zwei-Faktor-Anmeldung")
    page.wait_for_load_state()
    assert "Einrichten" in page.inner_text("main")
    qr = page.locator("img.qr")
    assert qr.get_attribute("src").startswith("data:image/svg+xml")
    assert page.evaluate("() => document.querySelector('img.qr').naturalWidth") > 100  # the image really renders
    assert w.box("img.qr")["width"] <= 390
    w.check("two-factor-setup")
    secret = twofactor._secret(TwoFactorDevice.objects.get(user=agent))
    assert page.inner_text("#totp-secret").replace(" ", "") == secret
    page.fill("input[name=code]", pyotp.TOTP(secret).now())
    page.click("text=Zwei-Faktor-Anmeldung einschalten")
    page.wait_for_load_state()
    codes = page.locator(".recovery-codes li").all_inner_texts()
    assert len(codes) == 10 and "Ihre Wiederherstellungscodes" in page.inner_text("main")
    w.check("two-factor-recovery-codes")

    # sign out and in again: the code is asked for after the password
    page.context.clear_cookies()
    w.login(live_server.url, "paula@example.com", "pw-paula-1234")
    assert page.url.endswith("/accounts/login/code/")
    assert "Anmeldecode" in page.inner_text("main")
    w.check("two-factor-code-step")
    page.fill("input[name=code]", "000000")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "Dieser Code stimmt nicht" in page.inner_text("main")
    page.fill("input[name=code]", pyotp.TOTP(secret).at(time.time() + 30))
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "/inbox/" in page.url and "Zu erledigen" in page.inner_text("main")
    w.close()


def test_api_token_made_and_revoked_at_phone_width(live_server, browser, agent):
    w = Watched(browser, "phone")
    page = w.page
    w.login(live_server.url, "paula@example.com", "pw-paula-1234", path="/inbox/profile/")
    page.click("text=API-Tokens")
    page.wait_for_load_state()
    assert "Sie haben noch keine Tokens" in page.inner_text("main")
    assert "„Authorization: Token <key>“" in page.inner_text("main")  # the header to send, as text
    page.fill("input[name=name]", "Shop-Anbindung mit einem recht langen Namen für das schmale Telefon")
    page.select_option("select[name=scope]", "read")
    page.click("text=Token erstellen")
    page.wait_for_load_state()
    key = page.input_value("input.token-key")
    assert key.startswith("rz_") and "nur dieses eine Mal" in page.inner_text("main")
    assert "Nur lesen" in page.inner_text(".token-list") and "nie benutzt" in page.inner_text(".token-list")
    w.check("api-token-new")
    # the key works against the API, read-only
    answer = page.request.get(live_server.url + "/api/contacts/", headers={"Authorization": f"Token {key}"})
    assert answer.status == 200
    page.reload()
    assert key not in page.content() and "zuletzt benutzt" in page.inner_text(".token-list")
    page.click("text=Token widerrufen")
    page.wait_for_load_state()
    assert "widerrufen" in page.inner_text(".token-list")
    assert ApiToken.objects.get().revoked_at is not None
    w.check("api-token-revoked")
    w.close()
