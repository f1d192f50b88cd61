"""Mastodon: a customer's images arrive as attachments with their alt text, videos as links, nothing from internal
hosts or over the size limit; hashtag streams bring listened posts at once, with polling as the fallback."""

from __future__ import annotations

import threading
import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from resonanz.connectors.actions import create_channel
from resonanz.connectors.tasks import poll_channel
from resonanz.inbox.models import Attachment, Message
from resonanz.listening.models import Post
from tests.connectors.social.images import png


@pytest.fixture
def channel(db, mastodon, settings):
    settings.RESONANZ_OUTBOUND_ALLOW = ["127.0.0.1", "localhost"]
    return create_channel(kind="mastodon", name="Firma auf Mastodon",
                          settings={"server_url": mastodon.url, "listen": ["#fahrrad", "Lieferung"]},
                          credentials={"access_token": mastodon.firma_token})


def test_images_of_a_mention_are_stored_with_alt_text_and_videos_as_links(channel, mastodon, settings):
    server = mastodon.server
    poll_channel(channel)
    photo = server.add_media(png(6, 4), "image/png", "Zerdrücktes Paket\u200b, Ecke eingerissen", filename="paket.png")
    video = server.add_media(b"not fetched", "video/mp4", "Video vom Auspacken", kind="video", filename="auspacken.mp4")
    script = server.add_media(b"<svg onload=alert(1)>", "image/svg+xml", "", filename="bild.svg")
    internal = server.add_media(b"", "image/png", "intern", url="http://169.254.169.254/latest/meta-data.png")
    mention = server.post(mastodon.kunde_token, "@firma So kam es an",
                          media_ids=[photo["id"], video["id"], script["id"], internal["id"]])
    settings.RESONANZ_OUTBOUND_ALLOW = ["127.0.0.1"]  # the metadata address stays internal
    poll_channel(channel)
    message = Message.objects.get(external_id=mention["id"])
    found = {a.filename: a for a in message.attachments.all()}
    assert set(found) == {"paket.png", "auspacken.mp4", "bild.svg", "meta-data.png"}
    image = found["paket.png"]
    assert image.content_type == "image/png" and image.size == len(png(6, 4)) and not image.missing
    assert image.alt_text == "Zerdrücktes Paket, Ecke eingerissen"
    with image.file.open("rb") as handle:
        assert handle.read() == png(6, 4)
    clip = found["auspacken.mp4"]
    assert not clip.file and clip.source_url == video["url"] and clip.alt_text == "Video vom Auspacken"
    assert not found["bild.svg"].file and "not an image" in found["bild.svg"].missing
    assert not found["meta-data.png"].file and "internal address" in found["meta-data.png"].missing
    assert not any("169.254" in path for _method, path, _h in server.log)  # never asked


def test_an_image_over_the_limit_is_not_copied(channel, mastodon, settings):
    settings.RESONANZ_SOCIAL_MEDIA_MAX_BYTES = 100
    poll_channel(channel)
    big = mastodon.server.add_media(png(60, 60, (1, 2, 3)) + b"\0" * 200, "image/png", "Großes Foto", filename="gross.png")
    mention = mastodon.server.post(mastodon.kunde_token, "@firma Foto anbei", media_ids=[big["id"]])
    poll_channel(channel)
    attachment = Attachment.objects.get(message__external_id=mention["id"])
    assert not attachment.file and "larger than 100 bytes" in attachment.missing
    assert attachment.alt_text == "Großes Foto" and attachment.source_url == big["url"]


def test_the_conversation_shows_attachments_with_alt_text(channel, mastodon, agent_user):
    from django.test import Client

    poll_channel(channel)
    photo = mastodon.server.add_media(png(), "image/png", "Paket mit Delle", filename="delle.png")
    mention = mastodon.server.post(mastodon.kunde_token, "@firma Schaut mal", media_ids=[photo["id"]])
    poll_channel(channel)
    conversation = Message.objects.get(external_id=mention["id"]).conversation
    desk = Client()
    desk.force_login(agent_user)
    page = desk.get(f"/inbox/conversations/{conversation.pk}/").content.decode()
    assert "delle.png" in page and "Paket mit Delle" in page


def test_listened_posts_keep_their_media_as_links(channel, mastodon):
    poll_channel(channel)
    photo = mastodon.server.add_media(png(), "image/png", "Rad am See", filename="rad.png")
    tagged = mastodon.server.post(mastodon.kunde_token, "Tour #fahrrad", media_ids=[photo["id"]])
    poll_channel(channel)
    post = Post.objects.get(external_id=tagged["id"])
    assert post.media == [{"url": photo["url"], "kind": "image", "alt": "Rad am See"}]


def test_a_hashtag_stream_brings_listened_posts_at_once(channel, mastodon):
    server = mastodon.server
    assert channel.driver.stream_names() == ["user", "hashtag:fahrrad"]
    posted: dict = {}

    def customer():
        while not any(kind == "hashtag:fahrrad" for _o, kind, _e in server.streams):
            time.sleep(0.05)
        posted["private"] = server.post(mastodon.kunde_token, "Nur für Freunde #fahrrad", visibility="private")
        posted["to_us"] = server.post(mastodon.kunde_token, "@firma Kette gerissen #fahrrad")
        posted["public"] = server.post(mastodon.kunde_token, "Schöne Runde heute #fahrrad")
        time.sleep(0.3)
        server.delete(posted["public"]["id"])

    actor = threading.Thread(target=customer, daemon=True)
    actor.start()
    started = time.monotonic()
    # private posts never reach a hashtag stream; the mention, the public post and its deletion do
    assert channel.driver.stream(name="hashtag:fahrrad", max_events=2) == 2
    assert time.monotonic() - started < 5
    post = Post.objects.get(channel=channel)  # the mention goes to the inbox, not the listening stream
    assert post.external_id == posted["public"]["id"] and post.source == "mastodon:#fahrrad" and post.reach == 87
    assert channel.driver.stream(name="hashtag:fahrrad", max_events=1) == 1
    actor.join(5)
    assert not Post.objects.filter(channel=channel).exists()  # the author deleted it


def test_polling_reads_what_the_stream_did_not_bring(channel, mastodon):
    poll_channel(channel)
    tagged = mastodon.server.post(mastodon.kunde_token, "Neue Tour #fahrrad")  # no stream was open
    assert poll_channel(channel) == 1
    assert Post.objects.filter(external_id=tagged["id"]).exists()
    assert poll_channel(channel) == 0


def test_an_unknown_stream_is_refused(channel):
    with pytest.raises(ValueError, match="unknown stream"):
        channel.driver.stream(name="public")


def test_the_stream_command_needs_a_streaming_channel(db):
    with pytest.raises(CommandError, match="offers a stream"):
        call_command("stream")


def test_posts_of_accounts_blocked_or_muted_on_the_server_are_ignored(channel, mastodon):
    server = mastodon.server
    troll, troll_token = server.add_account("troll", "Troll")
    loud, loud_token = server.add_account("laut", "Laut")
    server.block(mastodon.firma_token, troll["id"])
    server.block(mastodon.firma_token, loud["id"], relation="mutes")
    for n in range(45):  # more than one page of mutes: the Link header's next page is followed
        other, _ = server.add_account(f"stumm{n}", f"Stumm {n}")
        server.block(mastodon.firma_token, other["id"], relation="mutes")
    poll_channel(channel)
    server.post(troll_token, "@firma Ihr seid alle doof")
    server.post(loud_token, "Lieferung zu spät #fahrrad")
    kept = server.post(mastodon.kunde_token, "@firma Wann kommt meine Lieferung?")
    assert poll_channel(channel) == 1
    assert list(Message.objects.filter(channel=channel).values_list("external_id", flat=True)) == [kept["id"]]
    assert not Post.objects.filter(channel=channel).exists()
    blocked = channel.sources.get(key="account").cursor["blocked"]
    assert troll["id"] in blocked["ids"] and "laut@social.example" in blocked["handles"] and len(blocked["ids"]) == 47


def test_blocks_are_read_again_after_a_while(channel, mastodon):
    from datetime import timedelta

    from django.utils import timezone

    troll, troll_token = mastodon.server.add_account("troll", "Troll")
    poll_channel(channel)
    mastodon.server.block(mastodon.firma_token, troll["id"])  # blocked in the app after the last reading
    state = channel.sources.get(key="account")
    state.cursor["blocked"]["at"] = (timezone.now() - timedelta(minutes=11)).isoformat()
    state.save()
    mastodon.server.post(troll_token, "@firma Spam")
    assert poll_channel(channel) == 0


def test_the_api_gives_attachments_with_alt_text(channel, mastodon, agent_user):
    from rest_framework.test import APIClient

    poll_channel(channel)
    photo = mastodon.server.add_media(png(), "image/png", "Delle im Rahmen", filename="rahmen.png")
    mention = mastodon.server.post(mastodon.kunde_token, "@firma Delle", media_ids=[photo["id"]])
    poll_channel(channel)
    message = Message.objects.get(external_id=mention["id"])
    api = APIClient()
    api.force_authenticate(agent_user)
    body = api.get(f"/api/conversations/{message.conversation_id}/messages/").json()
    rows = body["results"] if isinstance(body, dict) else body
    attachment = rows[0]["attachments"][0]
    assert attachment["alt_text"] == "Delle im Rahmen" and attachment["source_url"] == photo["url"]
    assert attachment["missing"] == "" and attachment["filename"] == "rahmen.png"
