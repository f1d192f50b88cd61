"""The post a public conversation is about, in headless chromium, German, at phone width: a customer comments
under two of the page's posts (two conversations), and a customer answers two of the company's posts on X; each
conversation page shows its own post (text, link, picture) above the messages and nothing of the other post, and
the inbox list names the post of each public conversation in a short line. Every step checks the rendered page,
no console error and nothing wider than the screen."""

from __future__ import annotations

import json

import pytest
import requests

from resonanz.connectors.actions import create_channel
from resonanz.inbox.actions import invite_agent
from resonanz.inbox.models import Message
from tests.e2e.helpers import Watched
from tests.support.messenger.server import IG_ID, PAGE_ID, POST_ID, MessengerServer
from tests.support.x.server import XServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def meta():
    server = MessengerServer().start()
    yield server
    server.stop()


@pytest.fixture
def xapi():
    server = XServer().start()
    yield server
    server.stop()


@pytest.fixture
def facebook(settings, meta):
    """An agent who reads German, and the company's Facebook page connected to the Graph API server."""
    settings.RESONANZ_OUTBOUND_ALLOW = ["127.0.0.1"]
    invite_agent("berta@example.com", display_name="Berta Beispiel", role="agent", password="pw-berta-123",
                 language="de")
    return create_channel(kind="messenger", name="Facebook-Seite",
                          settings={"page_id": PAGE_ID, "instagram_id": IG_ID, "api_base": meta.api},
                          credentials={"page_token": meta.token, "app_secret": meta.app_secret,
                                       "verify_token": "fb-verify"})


def test_each_post_has_its_conversation_and_shows_the_post(live_server, browser, settings, meta, xapi, facebook):
    meta.add_post("5550001", "Werkstatt-Termine im Mai: jetzt buchen! <script>alert(1)</script>")
    for payload in (meta.comment("page", comment_id=f"{POST_ID}_1", text="Gibt es das Rad in Rot?"),
                    meta.comment("page", comment_id="5550001_1", text="Habt ihr am Samstag offen?",
                                 post_id="5550001")):
        body = json.dumps(payload).encode()
        answer = requests.post(f"{live_server.url}/hooks/{facebook.slug}/", data=body, timeout=30,
                               headers={"Content-Type": "application/json", "X-Hub-Signature-256": meta.sign(body)})
        assert answer.status_code == 200 and answer.json()["created"] == 1, answer.text
    x = create_channel(kind="x", name="X Firma", settings={"user_id": "2244994945", "api_base": xapi.url},
                       credentials={"consumer_secret": xapi.consumer_secret, "access_token": xapi.token})
    launch = xapi.add_tweet("Unser neues Trekkingrad ist da! Probefahrten ab Montag.", username="XDevelopers",
                            user_id="2244994945", name="Fahrradladen")
    question = xapi.add_tweet("@XDevelopers Was kostet es?", in_reply_to=launch)
    body = json.dumps(xapi.mention_event(question)).encode()
    answer = requests.post(f"{live_server.url}/hooks/{x.slug}/", data=body, timeout=30, headers={
        "Content-Type": "application/json", "x-twitter-webhooks-signature": xapi.sign(body)})
    assert answer.status_code == 200 and answer.json()["created"] == 1, answer.text
    on_bike = Message.objects.get(external_id=f"{POST_ID}_1").conversation
    on_workshop = Message.objects.get(external_id="5550001_1").conversation
    on_x = Message.objects.get(external_id=question).conversation
    assert len({on_bike.pk, on_workshop.pk, on_x.pk}) == 3

    w = Watched(browser, "phone")
    try:
        w.login(live_server.url, "berta@example.com", "pw-berta-123", f"/inbox/conversations/{on_workshop.pk}/")
        page = w.page
        context = page.inner_text("#post-context")
        assert "Zum Beitrag" in context and "Werkstatt-Termine im Mai" in context
        assert page.locator("#post-context script").count() == 0 and "<script>" in context  # shown as text
        assert page.get_attribute("#post-context a:has-text('Beitrag öffnen')", "href") == \
            f"https://www.facebook.com/{PAGE_ID}/posts/5550001"
        assert page.get_attribute("#post-context a.post-media", "href").endswith("/5550001_n.jpg")
        assert "Bild 1" in context
        messages = page.inner_text("#messages")
        assert "Habt ihr am Samstag offen?" in messages and "Gibt es das Rad in Rot?" not in messages
        assert "Trekkingrad" not in context
        w.check("post-context-facebook")

        page.goto(f"{live_server.url}/inbox/conversations/{on_bike.pk}/")
        context = page.inner_text("#post-context")
        assert "Unser neues Trekkingrad ist da!" in context and "Werkstatt" not in context
        assert "Habt ihr am Samstag offen?" not in page.inner_text("#messages")
        w.check()

        page.goto(f"{live_server.url}/inbox/conversations/{on_x.pk}/")
        context = page.inner_text("#post-context")
        assert "Fahrradladen (@XDevelopers)" in context and "Probefahrten ab Montag." in context
        assert page.get_attribute("#post-context a:has-text('Beitrag öffnen')", "href") == \
            f"https://x.com/XDevelopers/status/{launch}"
        w.check("post-context-x")
    finally:
        w.close()


def _push(live_server, slug: str, payload: dict, headers: dict) -> None:
    body = json.dumps(payload).encode()
    answer = requests.post(f"{live_server.url}/hooks/{slug}/", data=body, timeout=30,
                           headers={"Content-Type": "application/json", **{k: v(body) for k, v in headers.items()}})
    assert answer.status_code == 200 and answer.json()["created"] == 1, answer.text


def test_the_inbox_list_names_the_post_of_each_public_conversation(live_server, browser, settings, meta, xapi,
                                                                    facebook):
    signed = {"X-Hub-Signature-256": meta.sign}
    meta.add_post("5550001", "Werkstatt im Mai: <script>alert(1)</script><b>jetzt</b> buchen!")
    meta.add_post("5550002", "Großer Frühjahrsputz im Laden: alle Räder, Helme, Schlösser und Lampen sind "
                             "diese Woche reduziert, solange der Vorrat reicht, und die Werkstatt hat länger offen.")
    _push(live_server, facebook.slug, meta.comment("page", comment_id="5550001_1", text="Habt ihr am Samstag offen?",
                                                   post_id="5550001"), signed)
    _push(live_server, facebook.slug, meta.comment("page", comment_id="5550002_1", text="Auch Kinderräder?",
                                                   post_id="5550002", sender="2020202020"), signed)
    _push(live_server, facebook.slug, meta.notification("page_message", text="Privat: wo ist meine Rechnung?",
                                                        sender="3030303030"), signed)
    x = create_channel(kind="x", name="X Firma", settings={"user_id": "2244994945", "api_base": xapi.url},
                       credentials={"consumer_secret": xapi.consumer_secret, "access_token": xapi.token})
    launch = xapi.add_tweet("Unser neues Trekkingrad ist da! Probefahrten ab Montag.", username="XDevelopers",
                            user_id="2244994945", name="Fahrradladen")
    question = xapi.add_tweet("@XDevelopers Was kostet es?", in_reply_to=launch)
    _push(live_server, x.slug, xapi.mention_event(question), {"x-twitter-webhooks-signature": xapi.sign})
    row = {ext: Message.objects.get(external_id=ext).conversation_id
           for ext in ("5550001_1", "5550002_1", question)}
    private = Message.objects.get(text="Privat: wo ist meine Rechnung?").conversation_id

    w = Watched(browser, "phone")
    try:
        w.login(live_server.url, "berta@example.com", "pw-berta-123", "/inbox/")
        page = w.page
        page.wait_for_selector("#conversation-list .post-hint")
        hint = page.inner_text(f"#conversation-list li[data-id='{row['5550001_1']}'] .post-hint")
        assert hint == "Kommentar zu: Werkstatt im Mai: <script>alert(1)</script><b>jetzt</b> buchen!"
        assert page.locator("#conversation-list script, #conversation-list .post-hint b").count() == 0
        long = page.inner_text(f"#conversation-list li[data-id='{row['5550002_1']}'] .post-hint")
        assert long.startswith("Kommentar zu: Großer Frühjahrsputz im Laden") and long.endswith("…")
        assert "Werkstatt hat länger offen" not in long
        on_x = page.inner_text(f"#conversation-list li[data-id='{row[question]}'] .post-hint")
        assert on_x == "Kommentar zu: Unser neues Trekkingrad ist da! Probefahrten ab Montag."
        assert page.locator(f"#conversation-list li[data-id='{private}'] .post-hint").count() == 0
        for pk in row.values():  # one line, inside its row, however long the post
            box, line = (w.box(f"#conversation-list li[data-id='{pk}'] {part}") for part in (".post-hint", ".subject"))
            assert box["x"] + box["width"] <= 390 and box["height"] <= line["height"] * 1.5
        w.check("inbox-post-hints")
    finally:
        w.close()
