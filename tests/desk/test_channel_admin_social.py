"""Channel administration for the social networks: the connect form's fields per kind, the secret stored
encrypted and masked, "test connection" showing the account's handle and avatar, sources and rate limit."""

from __future__ import annotations

import pytest
from django.test import Client

from resonanz.connectors.models import Channel, SourceState
from resonanz.connectors.tasks import poll_channel
from tests.support.mastodon.fixtures import mastodon  # noqa: F401


@pytest.fixture
def admin_client_(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture
def local_servers(settings):
    settings.RESONANZ_OUTBOUND_ALLOW = ["127.0.0.1", "localhost"]


def test_the_add_form_has_each_kinds_connect_fields(admin_client_):
    page = admin_client_.get("/inbox/settings/channels/").content.decode()
    assert 'name="mastodon__server_url"' in page and 'name="mastodon__access_token"' in page
    assert 'name="bluesky__service_url"' in page and 'name="bluesky__app_password"' in page
    assert 'type="password" name="bluesky__app_password"' in page
    assert 'data-kind="bluesky"' in page and 'data-signs="' in page


def test_connect_mastodon_from_the_form_check_it_and_see_the_account(admin_client_, mastodon, local_servers):  # noqa: F811
    missing = admin_client_.post("/inbox/settings/channels/", {"kind": "mastodon", "name": "Fediverse",
                                                               "enabled": "on", "poll_interval": "60"})
    assert missing.status_code == 200 and "required for Mastodon" in missing.content.decode()
    response = admin_client_.post("/inbox/settings/channels/", {
        "kind": "mastodon", "name": "Fediverse", "enabled": "on", "sign_replies": "on", "poll_interval": "60",
        "mastodon__server_url": mastodon.url + "/", "mastodon__access_token": mastodon.firma_token,
        "mastodon__listen": "#fahrrad\nLieferung\n", "mastodon__long_replies": "refuse"})
    assert response.status_code == 302, response.content.decode()[:3000]
    channel = Channel.objects.get(name="Fediverse")
    assert channel.settings["server_url"] == mastodon.url and channel.settings["listen"] == ["#fahrrad", "Lieferung"]
    assert channel.settings["long_replies"] == "refuse" and channel.sign_replies
    assert channel.credentials == {"access_token": mastodon.firma_token}
    assert mastodon.firma_token not in channel.credentials_encrypted

    page = admin_client_.get(response["Location"]).content.decode()
    assert mastodon.firma_token not in page and "Stored encrypted: to" in page
    checked = admin_client_.post(f"/inbox/settings/channels/{channel.pk}/check/", follow=True).content.decode()
    assert "@firma@social.example" in checked and "Firma GmbH" in checked
    assert 'class="account-card"' in checked and "/avatars/" in checked

    # saving without the token keeps it; the form shows the stored settings
    admin_client_.post(f"/inbox/settings/channels/{channel.pk}/", {
        "name": "Fediverse", "enabled": "on", "sign_replies": "on", "poll_interval": "60",
        "settings": "{}", "mastodon__server_url": mastodon.url, "mastodon__listen": "#fahrrad",
        "mastodon__long_replies": "split"})
    channel.refresh_from_db()
    assert channel.credentials == {"access_token": mastodon.firma_token} and channel.settings["listen"] == ["#fahrrad"]


def test_sources_and_a_rate_limit_show_on_the_channel_page(admin_client_, mastodon, local_servers, db):  # noqa: F811
    from resonanz.connectors.actions import create_channel

    channel = create_channel(kind="mastodon", name="Fedi", settings={"server_url": mastodon.url,
                                                                     "listen": ["#fahrrad"]},
                             credentials={"access_token": mastodon.firma_token})
    poll_channel(channel)
    mastodon.server.set_rate_limit(mastodon.firma_token, 0, reset_in=600)
    poll_channel(channel)
    page = admin_client_.get(f"/inbox/settings/channels/{channel.pk}/").content.decode()
    assert "#fahrrad" in page and "Mentions and direct messages" in page
    assert "0 of 300 requests left" in page and "polling resumes at" in page
    assert SourceState.objects.filter(channel=channel, key="listen:#fahrrad").exists()


def test_an_internal_server_address_is_refused_in_the_form(admin_client_, settings):
    settings.RESONANZ_OUTBOUND_ALLOW = []
    response = admin_client_.post("/inbox/settings/channels/", {
        "kind": "mastodon", "name": "Intern", "enabled": "on", "poll_interval": "60",
        "mastodon__server_url": "http://169.254.169.254/", "mastodon__access_token": "x"})
    assert response.status_code == 200 and "internal address" in response.content.decode()
    assert not Channel.objects.filter(name="Intern").exists()
