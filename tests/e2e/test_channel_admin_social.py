"""Channel administration for Mastodon and Bluesky in headless chromium, in German, at desktop and phone width:
the connect form shows only the chosen kind's fields, the administrator connects a Mastodon account, tests the
connection and sees the account's handle and avatar; no console errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from resonanz.connectors.models import Channel
from resonanz.inbox.actions import invite_agent
from tests.connectors.social.images import png
from tests.support.mastodon.fixtures import mastodon  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(os.environ.get("RESONANZ_SCREENSHOTS", "/tmp/resonanz-screenshots"))


def watch_console(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


@pytest.mark.parametrize("width", [1280, 390])
def test_admin_connects_mastodon_and_sees_the_account(live_server, browser, settings, mastodon, width):  # noqa: F811
    settings.RESONANZ_OUTBOUND_ALLOW = ["127.0.0.1", "localhost"]
    invite_agent("chefin@example.com", display_name="Clara Chefin", role="admin", password="pw-chefin-123",
                 language="de")
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="de-DE")
    page = context.new_page()
    # the avatar lives on the Mastodon server's (made-up) domain: answer it as that server's file host would
    page.route("https://social.example/**", lambda route: route.fulfill(status=200, content_type="image/png",
                                                                       body=png(48, 48, (40, 90, 200))))
    errors = watch_console(page)
    try:
        page.goto(live_server.url + "/inbox/settings/channels/")
        page.fill("input[name=username]", "chefin@example.com")
        page.fill("input[name=password]", "pw-chefin-123")
        page.click("button[type=submit]")
        page.wait_for_selector("select[name=kind]")
        page.wait_for_load_state("load")  # app.js, at the end of the page, has tied the kind menu to the fields
        assert "Kanal hinzufügen" in page.inner_text("body")

        page.select_option("select[name=kind]", "mastodon")
        assert page.is_visible("input[name=mastodon__server_url]")
        assert not page.is_visible("input[name=bluesky__app_password]")
        assert page.is_checked("input[name=sign_replies]")  # Mastodon signs public replies by default
        assert "Server-Adresse" in page.inner_text("form.card")
        page.select_option("select[name=kind]", "bluesky")
        assert page.is_visible("input[name=bluesky__app_password]")
        assert not page.is_visible("input[name=mastodon__server_url]")
        page.select_option("select[name=kind]", "mastodon")

        page.fill("input[name=name]", "Fediverse")
        page.fill("input[name=mastodon__server_url]", mastodon.url)
        page.fill("input[name=mastodon__access_token]", mastodon.firma_token)
        page.fill("textarea[name=mastodon__listen]", "#fahrrad\nLieferung")
        page.screenshot(path=str(SHOTS / f"channel-add-mastodon-de-{width}.png"), full_page=True)
        page.click("form.card button.primary")
        page.wait_for_selector("text=Verbindung testen")
        channel = Channel.objects.get(name="Fediverse")
        assert channel.credentials["access_token"] == mastodon.firma_token
        assert mastodon.firma_token not in page.content()

        page.click("text=Verbindung testen")
        page.wait_for_selector(".account-card img")
        body = page.inner_text("body")
        assert "Verbindung funktioniert" in body and "@firma@social.example" in body and "Firma GmbH" in body
        assert "verbundenes Konto" in body
        avatar = page.locator(".account-card img")
        assert avatar.evaluate("img => img.complete && img.naturalWidth") == 48
        assert not page.is_visible("input[name=bluesky__app_password]")  # the edit form has only its kind
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        wide = page.evaluate("""() => Array.from(document.querySelectorAll('body *')).filter(e =>
            e.getBoundingClientRect().right > document.documentElement.clientWidth + 1).slice(0, 8)
            .map(e => e.tagName + '.' + e.className + ' ' + (e.textContent || '').slice(0, 60))""")
        page.screenshot(path=str(SHOTS / f"channel-mastodon-de-{width}.png"), full_page=True)
        assert overflow <= 0, f"{wide} the page scrolls sideways by {overflow}px at {width}px"
        page.screenshot(path=str(SHOTS / f"channel-mastodon-de-{width}.png"), full_page=True)
        assert errors == []
    finally:
        context.close()
