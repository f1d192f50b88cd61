"""A chat channel's page: the embed code to copy, and the widget's settings as a form checked by the driver."""

from __future__ import annotations

import html

import pytest
from django.test import Client

from resonanz.connectors.actions import create_channel, update_channel
from resonanz.core.errors import ActionError

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture
def chat(db):
    return create_channel(kind="chat", name="Shop chat")


def form(**overrides) -> dict:
    data = {"greeting_en": "Hi! Ask us anything.", "greeting_de": "Hallo! Fragen Sie uns.", "colour": "#118855",
            "position": "left", "allowed_origins": "https://shop.example.com\nhttp://127.0.0.1:8080/",
            "timezone": "Europe/Berlin", "prechat": ["name", "email"], "mon_opens": "09:00", "mon_closes": "17:30"}
    data.update(overrides)
    return data


def test_the_channel_page_shows_the_script_tag_and_the_form(admin_client, chat):
    raw = admin_client.get(f"/inbox/settings/channels/{chat.pk}/").content.decode()
    assert "chat/widget.js\" data-resonanz" not in raw  # shown as text to copy, never run on our own page
    assert "just before &lt;/body&gt;:" in raw  # the hint shows the tag as text
    page = html.unescape(raw)
    assert f'data-resonanz-chat="{chat.slug}"' in page
    assert "/static/resonanz/chat/widget.js" in page and 'id="chat-settings"' in page
    german = admin_client.get(f"/inbox/settings/channels/{chat.pk}/", HTTP_ACCEPT_LANGUAGE="de")
    assert german.status_code == 200


def test_the_form_saves_the_widget_settings(admin_client, chat):
    response = admin_client.post(f"/inbox/settings/channels/{chat.pk}/chat/", form())
    assert response.status_code == 302
    chat.refresh_from_db()
    assert chat.settings["greeting"] == {"en": "Hi! Ask us anything.", "de": "Hallo! Fragen Sie uns."}
    assert chat.settings["allowed_origins"] == ["https://shop.example.com", "http://127.0.0.1:8080"]
    assert chat.settings["hours"] == {"mon": ["09:00", "17:30"]}
    assert (chat.settings["colour"], chat.settings["position"], chat.settings["prechat"]) == \
        ("#118855", "left", ["name", "email"])


def test_the_form_saves_files_typing_rating_and_an_invitation(admin_client, chat):
    response = admin_client.post(f"/inbox/settings/channels/{chat.pk}/chat/", form(
        max_upload_mb="3", typing_preview="on", satisfaction="on", invite_de="Fragen zu unseren Preisen?",
        invite_en="Questions about our prices?", invite_url="*/preise*", invite_after="20", invite_pages="2",
        invite_returning="on", invite_period="48"))
    assert response.status_code == 302
    chat.refresh_from_db()
    assert (chat.settings["max_upload_mb"], chat.settings["typing_preview"], chat.settings["satisfaction"],
            chat.settings["invitation_period_hours"]) == (3, True, True, 48)
    assert chat.settings["invitations"] == [{
        "message": {"de": "Fragen zu unseren Preisen?", "en": "Questions about our prices?"}, "url": "*/preise*",
        "after_seconds": 20, "min_pages": 2, "returning": True}]
    page = admin_client.get(f"/inbox/settings/channels/{chat.pk}/chat/").content.decode()
    assert 'value="*/preise*"' in page and "Proactive invitation" in page
    admin_client.post(f"/inbox/settings/channels/{chat.pk}/chat/", form(invite_de="", invite_en=""))
    chat.refresh_from_db()
    assert chat.settings["invitations"] == [] and chat.settings["satisfaction"] is False


@pytest.mark.parametrize("overrides,error", [
    ({"allowed_origins": "javascript:alert(1)"}, "allowed_origins"),
    ({"colour": "red"}, "colour"),
    ({"mon_opens": "18:00"}, "Closing time"),
    ({"mon_closes": ""}, "Give both times"),
    ({"timezone": "Mars/Olympus"}, "unknown time zone"),
])
def test_bad_settings_are_shown_as_errors_not_stored(admin_client, chat, overrides, error):
    response = admin_client.post(f"/inbox/settings/channels/{chat.pk}/chat/", form(**overrides))
    assert response.status_code == 200
    assert error.lower() in response.content.decode().lower()
    chat.refresh_from_db()
    assert "hours" not in chat.settings or chat.settings["hours"] == {}


def test_the_driver_refuses_bad_settings_from_any_caller(chat):
    with pytest.raises(ActionError) as refused:
        update_channel(chat, settings={"allowed_origins": "https://x.example"})
    assert refused.value.field == "settings"
    with pytest.raises(ActionError):
        create_channel(kind="chat", name="Bad", settings={"hours": {"someday": ["09:00", "10:00"]}})
