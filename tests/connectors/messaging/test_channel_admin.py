"""Connecting the messaging platforms from channel administration, with the fields each platform issues."""

from __future__ import annotations

import pytest
from django.test import Client

from resonanz.connectors.models import Channel
from tests.support.whatsapp.server import PHONE_NUMBER_ID, WABA_ID

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


def test_whatsapp_is_connected_with_its_own_fields_and_checked(admin, whatsapp):
    page = admin.get("/inbox/settings/channels/").content.decode()
    assert 'name="whatsapp__phone_number_id"' in page and 'data-kind="whatsapp"' in page
    assert "API Setup" in page  # where to find the value
    missing = admin.post("/inbox/settings/channels/", {"kind": "whatsapp", "name": "WA", "enabled": "on"})
    assert missing.status_code == 200 and "needed to connect" in missing.content.decode()
    assert not Channel.objects.exists()
    response = admin.post("/inbox/settings/channels/", {
        "kind": "whatsapp", "name": "WhatsApp Service", "enabled": "on", "poll_interval": "60",
        "whatsapp__phone_number_id": PHONE_NUMBER_ID, "whatsapp__business_account_id": WABA_ID,
        "whatsapp__access_token": whatsapp.token, "whatsapp__app_secret": whatsapp.app_secret,
        "whatsapp__verify_token": "mein-verify-token", "whatsapp__api_base": whatsapp.api,
        "telegram__bot_token": "ignored-for-other-kinds"})
    assert response.status_code == 302, response.content.decode()[:3000]
    channel = Channel.objects.get()
    assert channel.settings["phone_number_id"] == PHONE_NUMBER_ID and channel.settings["api_base"] == whatsapp.api
    assert channel.credentials == {"access_token": whatsapp.token, "app_secret": whatsapp.app_secret,
                                   "verify_token": "mein-verify-token"}
    detail = admin.get(response["Location"]).content.decode()
    assert f"/hooks/{channel.slug}/" in detail and whatsapp.token not in detail  # secrets are never shown
    checked = admin.post(f"/inbox/settings/channels/{channel.pk}/check/", follow=True).content.decode()
    assert "Jasper&#x27;s Market" in checked or "Jasper's Market" in checked
    # saving again without retyping the secrets keeps them
    saved = admin.post(response["Location"], {"name": "WhatsApp Service", "enabled": "on", "poll_interval": "60",
                                              "whatsapp__phone_number_id": PHONE_NUMBER_ID,
                                              "whatsapp__business_account_id": WABA_ID,
                                              "whatsapp__api_base": whatsapp.api})
    assert saved.status_code == 302
    assert Channel.objects.get().credentials["access_token"] == whatsapp.token


PLATFORMS = {
    # kind: (the server fixture, the values the platform issues, the secrets among them, where the help sends
    # the administrator, what the connection check names)
    "telegram": ("telegram", lambda s: {"bot_token": s.token, "secret_token": "geheim_123", "api_base": s.url},
                 {"bot_token", "secret_token"}, "BotFather", "@firma_support_bot"),
    "messenger": ("messenger", lambda s: {"page_id": "204685166189", "instagram_id": "17841400000000001",
                                          "page_token": s.token, "app_secret": s.app_secret,
                                          "verify_token": "fb-verify", "api_base": s.api},
                  {"page_token", "app_secret", "verify_token"}, "Page transparency", "Fahrradladen"),
    "x": ("xapi", lambda s: {"user_id": "2244994945", "consumer_secret": s.consumer_secret,
                             "access_token": s.token, "api_base": s.url},
          {"consumer_secret", "access_token"}, "for_user_id", "@TwitterDev"),
}


@pytest.mark.parametrize("kind", sorted(PLATFORMS))
def test_each_platform_is_connected_with_its_own_fields_and_checked(admin, request, kind):
    fixture, values, secret_names, help_text, checked_name = PLATFORMS[kind]
    server = request.getfixturevalue(fixture)
    fields = values(server)
    page = admin.get("/inbox/settings/channels/").content.decode()
    assert all(f'name="{kind}__{name}"' in page for name in fields) and f'data-kind="{kind}"' in page
    assert help_text in page  # where to find the values
    missing = admin.post("/inbox/settings/channels/", {"kind": kind, "name": "Ohne", "enabled": "on"})
    assert missing.status_code == 200 and not Channel.objects.exists()
    response = admin.post("/inbox/settings/channels/", {
        "kind": kind, "name": f"{kind} Service", "enabled": "on", "poll_interval": "60",
        **{f"{kind}__{name}": value for name, value in fields.items()}})
    assert response.status_code == 302, response.content.decode()[:3000]
    channel = Channel.objects.get()
    assert channel.credentials == {name: fields[name] for name in secret_names}
    assert all(channel.settings[name] == value for name, value in fields.items() if name not in secret_names)
    detail = admin.get(response["Location"]).content.decode()
    assert not any(fields[name] in detail for name in secret_names)  # secrets are never shown
    if kind != "telegram":  # Telegram without a public address polls instead
        assert f"/hooks/{channel.slug}/" in detail
    checked = admin.post(f"/inbox/settings/channels/{channel.pk}/check/", follow=True).content.decode()
    assert checked_name in checked, checked[:3000]
