"""The Mastodon client against the local Mastodon API server (tests/support/mastodon)."""

from __future__ import annotations

import json
import queue
import threading
import time
from datetime import UTC, datetime

import pytest
import requests

from resonanz.connectors.social.errors import (
    AuthenticationFailed,
    InvalidResponse,
    NotFound,
    RateLimited,
    Rejected,
    Unavailable,
)
from resonanz.connectors.social.mastodon import MastodonClient
from resonanz.core.sanitize import sanitize_html
from tests.connectors.social.images import png
from tests.support.mastodon.server import PAYLOADS, countable_length, documented


@pytest.fixture
def company(mastodon):
    return MastodonClient(mastodon.url, mastodon.firma_token, timeout=3)


def keys(name: str) -> set[str]:
    return set(documented(name))


def test_every_entity_has_exactly_the_documented_fields(mastodon, company):
    server = mastodon.server
    status = server.post(mastodon.kunde_token, "@firma Hallo #test", visibility="public")
    server.post(mastodon.kunde_token, "@firma privat", visibility="direct")
    get = lambda path: requests.get(mastodon.url + path, timeout=5,  # noqa: E731
                                    headers={"Authorization": f"Bearer {mastodon.firma_token}"}).json()
    assert set(get("/api/v1/statuses/" + status["id"])) == keys("status")
    assert set(get(f"/api/v1/accounts/{mastodon.kunde['id']}")) == keys("account")
    assert set(get("/api/v1/accounts/verify_credentials")) == keys("account") | {"source"}
    assert {frozenset(n) for n in get("/api/v1/notifications")} == {frozenset(keys("notification"))}
    assert {frozenset(c) for c in get("/api/v1/conversations")} == {frozenset(keys("conversation"))}
    assert set(get("/api/v2/instance")) == keys("instance_v2")
    assert set(status["mentions"][0]) == keys("mention") and set(status["tags"][0]) == keys("tag")
    media = company.upload_image(png(), "image/png", "Alt")
    assert set(media.raw) == keys("media_attachment")
    for path in PAYLOADS.glob("*.json"):  # every recorded payload names the page it follows
        assert json.loads(path.read_text())["documentation"].startswith("https://docs.joinmastodon.org/")


def test_verify_credentials_and_the_servers_length_limit(mastodon, company):
    me = company.verify_credentials()
    assert me.handle == "firma@social.example" and me.display_name == "Firma GmbH"
    assert me.avatar_url.startswith("https://social.example/") and me.external_id == mastodon.firma["id"]
    assert company.max_characters() == 500
    mastodon.server.max_characters = 280
    assert company.max_characters() == 280
    mastodon.server.fail("/api/v2/instance", "status", status=404)
    assert company.max_characters() == 500  # the documented default when the server does not say


def test_profiles_carry_bio_and_followers(mastodon, company):
    profile = company.get_profile(mastodon.kunde["id"])
    assert profile.bio == "Radfahrerin aus Köln" and profile.followers == 87
    assert company.lookup("@kunde").external_id == mastodon.kunde["id"]
    with pytest.raises(NotFound):
        company.lookup("niemand")


def test_mentions_page_through_everything_new_exactly_once(mastodon, company):
    server = mastodon.server
    first = server.post(mastodon.kunde_token, "@firma wo ist mein Paket? https://example.com/x", language="de")
    direct = server.post(mastodon.kunde_token, "@firma meine Adresse ist geheim", visibility="direct")
    page = company.fetch_mentions()
    assert [p.external_id for p in page.items] == [first["id"], direct["id"]]  # oldest first
    got = page.items[0]
    assert got.author.handle == "kunde@social.example" and got.author.display_name == "Karla Kunde"
    assert got.text == "@firma wo ist mein Paket? https://example.com/x"
    assert '<a href="https://example.com/x"' in got.html and got.language == "de"
    assert got.url == first["url"] and got.created_at.tzinfo is not None and got.visibility == "public"
    assert page.items[1].is_direct and page.items[1].reason == "direct"
    assert company.fetch_mentions(page.cursor).items == []
    burst = [server.post(mastodon.kunde_token, f"@firma Nachricht {i}")["id"] for i in range(45)]
    later = company.fetch_mentions(page.cursor, limit=20)
    assert [p.external_id for p in later.items] == burst  # three pages, in order, none twice
    assert company.fetch_mentions(later.cursor).items == []


def test_direct_conversations(mastodon, company):
    server = mastodon.server
    server.post(mastodon.kunde_token, "@firma Frage im Privaten", visibility="direct")
    page = company.fetch_direct_messages()
    assert [p.text for p in page.items] == ["@firma Frage im Privaten"]
    assert page.items[0].is_direct and page.items[0].conversation_id
    server.post(mastodon.kunde_token, "@firma Noch eine", visibility="direct")
    newer = company.fetch_direct_messages(page.cursor)
    assert [p.text for p in newer.items] == ["@firma Noch eine"]
    assert newer.items[0].conversation_id == page.items[0].conversation_id


def test_listening_by_hashtag_and_keyword(mastodon, company):
    server = mastodon.server
    tagged = server.post(mastodon.kunde_token, "Mein neuer Zauberkessel #kochen")
    server.post(mastodon.kunde_token, "Nur privat #kochen", visibility="private")
    page = company.hashtag_timeline("#kochen")
    assert [p.external_id for p in page.items] == [tagged["id"]] and page.items[0].tags == ("kochen",)
    assert company.hashtag_timeline("kochen", page.cursor).items == []
    found = company.search("zauberkessel")
    assert [p.external_id for p in found.items] == [tagged["id"]]
    assert company.search("zauberkessel", found.cursor).items == []
    with pytest.raises(ValueError):
        company.hashtag_timeline("kein tag")


def test_a_reply_is_threaded_keeps_visibility_and_mentions_the_customer(mastodon, company):
    server = mastodon.server
    question = server.post(mastodon.kunde_token, "@firma Rechnung?", visibility="direct")
    parent = company.fetch_mentions().items[0]
    sent = company.reply("Kommt heute. ^AB", parent, visibility="public", language="de")
    status = server.statuses[sent.external_id]
    assert status["in_reply_to_id"] == question["id"]
    assert status["visibility"] == "direct"  # never more public than the customer's message
    assert sent.text == "@kunde Kommt heute. ^AB" and [m["acct"] for m in status["mentions"]] == ["kunde"]
    customer = MastodonClient(mastodon.url, mastodon.kunde_token)
    assert [p.external_id for p in customer.fetch_mentions().items] == [sent.external_id]
    public = server.post(mastodon.kunde_token, "@firma öffentlich")
    answer = company.reply("@kunde schon erledigt", company.get_status(public["id"]))
    assert answer.text == "@kunde schon erledigt" and answer.visibility == "public"
    with pytest.raises(NotFound):
        company.post("Antwort", in_reply_to_id="999")


@pytest.mark.parametrize("fault", [dict(action="drop-after"), dict(action="status", status=503),
                                   dict(action="slow", seconds=4)])
def test_a_reply_is_never_posted_twice_after_a_failure(mastodon, company, fault):
    server = mastodon.server
    server.post(mastodon.kunde_token, "@firma Hilfe")
    parent = company.fetch_mentions().items[0]
    server.fail("/api/v1/statuses", **fault)
    sent = company.reply("Wir sind dran.", parent)
    posted = [s for s in server.statuses.values() if s["account"]["id"] == mastodon.firma["id"]]
    assert [s["id"] for s in posted] == [sent.external_id]
    keys_sent = {h.get("Idempotency-Key") for m, p, h in server.log if m == "POST" and p == "/api/v1/statuses"}
    assert len(keys_sent) == 1 and None not in keys_sent


def test_too_long_and_invalid_replies_are_refused(mastodon, company):
    with pytest.raises(Rejected, match="character limit"):
        company.post("x" * 501)
    company.post("https://example.com/" + "a" * 600 + " " + "y" * 470)  # a URL counts as 23 characters
    parent = company.get_status(mastodon.server.post(mastodon.kunde_token, "@firma a")["id"])
    with pytest.raises(ValueError):
        company.reply("x", parent, visibility="secret")
    assert countable_length("@kunde@far.example " + "z" * 10) == len("@kunde ") + 10


def test_images_go_up_with_alt_text_even_when_processing_takes_a_while(mastodon, company):
    mastodon.server.media_processing = True
    media = company.upload_image(png(), "image/png", "Foto der beschädigten Verpackung", filename="foto.png")
    assert media.description == "Foto der beschädigten Verpackung" and media.url.endswith("/foto.png")
    sent = company.post("Siehe Bild", media=[media])
    assert sent.media[0]["description"] == "Foto der beschädigten Verpackung"
    with pytest.raises(ValueError):
        company.upload_image(b"%PDF", "application/pdf", "kein Bild")


def test_deleted_statuses_are_gone(mastodon, company):
    sent = company.post("Versehentlich")
    company.delete(sent.external_id)
    with pytest.raises(NotFound):
        company.get_status(sent.external_id)
    with pytest.raises(NotFound):
        company.delete(sent.external_id)


def test_a_revoked_token_is_an_authentication_failure(mastodon, company):
    company.verify_credentials()
    mastodon.server.revoke(mastodon.firma_token)
    with pytest.raises(AuthenticationFailed) as failed:
        company.fetch_mentions()
    assert failed.value.status == 401


def test_rate_limit_headers_are_tracked_and_429_carries_the_reset_time(mastodon, company):
    company.verify_credentials()
    assert company.rate_limit.limit == 300 and company.rate_limit.remaining == 299
    mastodon.server.set_rate_limit(mastodon.firma_token, 0, reset_in=120)
    with pytest.raises(RateLimited) as limited:
        company.fetch_mentions()
    assert limited.value.remaining == 0 and limited.value.limit == 300
    seconds = (limited.value.reset_at - datetime.now(UTC)).total_seconds()
    assert 100 < seconds <= 120


@pytest.mark.parametrize("fault, error", [(dict(action="status", status=500), Unavailable),
                                          (dict(action="status", status=502), Unavailable),
                                          (dict(action="slow", seconds=4), Unavailable),
                                          (dict(action="truncate"), InvalidResponse)])
def test_server_errors_slow_and_truncated_answers_are_typed(mastodon, company, fault, error):
    mastodon.server.post(mastodon.kunde_token, "@firma x")
    mastodon.server.fail("/api/v1/notifications", **fault)
    with pytest.raises(error):
        company.fetch_mentions()
    assert len(company.fetch_mentions().items) == 1  # the next poll works again


def _consume(events) -> queue.Queue:
    """Read a stream in the background (the request opens on the first read)."""
    out: queue.Queue = queue.Queue()

    def run():
        for item in events:
            out.put(item)

    threading.Thread(target=run, daemon=True).start()
    return out


def test_the_streaming_api_delivers_mentions_edits_and_deletions(mastodon, company):
    server = mastodon.server
    user = _consume(company.stream("user"))
    tags = _consume(MastodonClient(mastodon.url, mastodon.firma_token).stream("hashtag", tag="kochen"))
    deadline = time.monotonic() + 5
    while len(server.streams) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    status = server.post(mastodon.kunde_token, "@firma live #kochen")
    server.edit(status["id"], "@firma live, korrigiert #kochen")
    server.delete(status["id"])
    got = [user.get(timeout=5) for _ in range(3)]
    assert [kind for kind, _ in got] == ["notification", "status.update", "delete"]
    assert got[0][1].external_id == status["id"] and got[0][1].reason == "mention"
    assert "korrigiert" in got[1][1].text and got[2][1] == status["id"]
    kind, post = tags.get(timeout=5)
    assert kind == "update" and post.tags == ("kochen",)


HOSTILE_HTML = ('<p>\u202eevil\u202c <script>alert(1)</script><a href="javascript:alert(2)">klick</a> '
                'zero\u200bwidth <img src=x onerror="alert(3)"> \u2066rtl\u2069</p>')


def test_hostile_statuses_come_back_as_data_and_sanitize_to_harmless_html(mastodon, company):
    # a remote server (or a compromised one) can send any HTML; Mastodon passes remote content through
    status = mastodon.server.post(mastodon.kunde_token, "@firma", html_content=HOSTILE_HTML)
    item = next(p for p in company.fetch_mentions().items if p.external_id == status["id"])
    assert item.html == HOSTILE_HTML  # exactly what came: the driver sanitizes
    assert "\u202e" in item.text and "\u200b" in item.text
    safe = sanitize_html(item.html)
    assert "<script" not in safe and "javascript:" not in safe and "onerror" not in safe


def test_the_server_pages_like_mastodon_documents_it(mastodon):
    """max_id: older than; since_id: the newest results newer than; min_id: the results right after."""
    ids = [mastodon.server.post(mastodon.kunde_token, f"@firma {i}")["id"] for i in range(10)]
    note_ids = [n["id"] for n in reversed(mastodon.server.notifications[mastodon.firma["id"]])]

    def get(**params):
        response = requests.get(f"{mastodon.url}/api/v1/notifications", params={"limit": 3, **params}, timeout=5,
                                headers={"Authorization": f"Bearer {mastodon.firma_token}"})
        return [n["id"] for n in response.json()], response.headers.get("Link", "")

    newest, link = get()
    assert newest == note_ids[-1:-4:-1]
    assert f"max_id={note_ids[-3]}>; rel=\"next\"" in link and f"min_id={note_ids[-1]}>; rel=\"prev\"" in link
    assert get(max_id=note_ids[-3])[0] == note_ids[-4:-7:-1]
    assert get(since_id=note_ids[2])[0] == note_ids[-1:-4:-1]
    assert get(min_id=note_ids[2])[0] == note_ids[5:2:-1]
    assert len(ids) == 10


def test_a_server_without_link_headers_still_moves_the_cursor(mastodon, company):
    """Some fediverse servers leave the Link header out; the newest id seen becomes the cursor then."""
    mastodon.server.link_headers = False
    mastodon.server.post(mastodon.kunde_token, "@firma eins")
    page = company.fetch_mentions()
    second = mastodon.server.post(mastodon.kunde_token, "@firma zwei")
    newer = company.fetch_mentions(page.cursor)
    assert [p.external_id for p in newer.items] == [second["id"]]
    assert company.fetch_mentions(newer.cursor).items == []
    mastodon.server.post(mastodon.kunde_token, "@firma drei", visibility="direct")
    dms = company.fetch_direct_messages()
    mastodon.server.post(mastodon.kunde_token, "@firma vier", visibility="direct")
    assert [p.text for p in company.fetch_direct_messages(dms.cursor).items] == ["@firma vier"]
