"""A customer's images in chromium, German, at phone width: a Mastodon mention's photo arrives as an attachment
with its alt text in the conversation, and a listened post shows its image as a link with its description."""

from __future__ import annotations

import pytest

from resonanz.connectors.actions import create_channel
from resonanz.connectors.tasks import poll_channel
from resonanz.inbox import actions
from resonanz.inbox.models import Message
from tests.connectors.social.images import png
from tests.e2e.helpers import Watched
from tests.support.mastodon.fixtures import mastodon  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_images_with_alt_text_in_the_conversation_and_the_listening_stream(
        live_server, browser, settings, mastodon, size):  # noqa: F811
    settings.RESONANZ_OUTBOUND_ALLOW = ["127.0.0.1"]
    actions.ensure_default_teams()
    actions.invite_agent("berta@example.com", display_name="Berta Beispiel", role="agent", password="pw-berta-123",
                         language="de")
    channel = create_channel(kind="mastodon", name="Fediverse", settings={
        "server_url": mastodon.url, "listen": ["#fahrrad"]}, credentials={"access_token": mastodon.firma_token})
    poll_channel(channel)
    server = mastodon.server
    photo = server.add_media(png(12, 8), "image/png", "Hinterrad mit gebrochener Speiche", filename="speiche.png")
    clip = server.add_media(b"", "video/mp4", "Das Geräusch beim Fahren", kind="video", filename="geraeusch.mp4")
    mention = server.post(mastodon.kunde_token, "@firma Das ist passiert, was nun?",
                          media_ids=[photo["id"], clip["id"]])
    tour = server.add_media(png(), "image/png", "Fahrrad am Rheinufer bei Sonnenuntergang", filename="rhein.png")
    server.post(mastodon.kunde_token, "Feierabendrunde #fahrrad", media_ids=[tour["id"]])
    assert poll_channel(channel) == 2
    conversation = Message.objects.get(external_id=mention["id"]).conversation

    w = Watched(browser, size)
    w.login(live_server.url, "berta@example.com", "pw-berta-123")
    w.page.goto(live_server.url + f"/inbox/conversations/{conversation.pk}/")
    attachments = w.page.locator("#messages ul.attachments")
    text = attachments.inner_text()
    assert "speiche.png" in text and "Bildbeschreibung: Hinterrad mit gebrochener Speiche" in text
    assert "geraeusch.mp4" in text and "Link zum Original" in text and "Das Geräusch beim Fahren" in text
    assert w.page.locator("#messages ul.attachments a", has_text="geraeusch.mp4").get_attribute("href") == clip["url"]
    downloaded = w.page.request.get(
        live_server.url + w.page.locator("#messages ul.attachments a", has_text="speiche.png").get_attribute("href"))
    assert downloaded.status == 200 and downloaded.body() == png(12, 8)
    description = w.box("#messages ul.attachments .alt-text")
    assert description["x"] + description["width"] <= w.page.viewport_size["width"]
    w.check("social-open-conversation-media")

    w.page.goto(live_server.url + "/listening/")
    post = w.page.locator("li.post", has_text="Feierabendrunde")
    assert "Bild: Fahrrad am Rheinufer bei Sonnenuntergang" in post.locator("ul.media").inner_text()
    assert post.locator("ul.media a").get_attribute("rel") == "noopener noreferrer nofollow"
    w.check("social-open-listening-media")
    w.close()
