"""The Bluesky client against the real PDS + AppView (+ the lexicon-shaped chat service).

Customers act through plain XRPC calls (`bluesky.xrpc`, `bluesky.post`), the company through the client.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from resonanz.connectors.social.bluesky import BlueskyClient, new_tid
from resonanz.connectors.social.errors import AuthenticationFailed, NotFound, RateLimited, Unavailable
from resonanz.core.sanitize import sanitize_html
from tests.connectors.social.images import png
from tests.support.faultproxy import FaultProxy


def mention_facet(text: str, handle: str, did: str) -> dict:
    start = text.encode().index(f"@{handle}".encode())
    return {"index": {"byteStart": start, "byteEnd": start + len(handle.encode()) + 1},
            "features": [{"$type": "app.bsky.richtext.facet#mention", "did": did}]}


@pytest.fixture(scope="module")
def company(bluesky):
    # a profile with a name and an avatar, as the company set it up in the Bluesky app
    blob = bluesky.xrpc("com.atproto.repo.uploadBlob", bluesky.firma, body=png(), content_type="image/png")["blob"]
    bluesky.xrpc("com.atproto.repo.putRecord", bluesky.firma, data={
        "repo": bluesky.firma.did, "collection": "app.bsky.actor.profile", "rkey": "self",
        "record": {"$type": "app.bsky.actor.profile", "displayName": "Firma GmbH", "description": "Wir helfen.",
                   "avatar": blob}})
    bluesky.xrpc("com.atproto.repo.putRecord", bluesky.kunde, data={
        "repo": bluesky.kunde.did, "collection": "app.bsky.actor.profile", "rkey": "self",
        "record": {"$type": "app.bsky.actor.profile", "displayName": "Karla Kunde",
                   "description": "Radfahrerin aus Köln"}})
    bluesky.xrpc("com.atproto.repo.createRecord", bluesky.firma, data={
        "repo": bluesky.firma.did, "collection": "app.bsky.graph.follow",
        "record": {"$type": "app.bsky.graph.follow", "subject": bluesky.kunde.did,
                   "createdAt": datetime.now(UTC).isoformat()}})
    return BlueskyClient(bluesky.pds_url, "firma.test", bluesky.firma.password, chat_proxy=bluesky.chat_proxy,
                         timeout=5)


def test_verify_credentials_shows_handle_name_and_avatar(company, bluesky):
    profile = bluesky.wait_for(lambda: (p := company.verify_credentials()).avatar_url and p)
    assert profile.handle == "firma.test"
    assert profile.external_id == bluesky.firma.did
    assert profile.display_name == "Firma GmbH"
    assert profile.avatar_url.startswith("http")


def test_a_profile_has_bio_and_followers(company, bluesky):
    profile = bluesky.wait_for(lambda: (p := company.get_profile("kunde.test")).followers and p)
    assert profile.bio == "Radfahrerin aus Köln"
    assert profile.display_name == "Karla Kunde"
    assert profile.followers >= 1
    with pytest.raises(NotFound):
        company.get_profile("niemand.test")


def test_mentions_and_replies_arrive_once_each_and_the_cursor_moves_on(company, bluesky):
    start = company.fetch_mentions()
    text = "@firma.test mein Paket ist nicht da, siehe https://example.com/order/42 #lieferung"
    link_start = text.encode().index(b"https://")
    mention = bluesky.post(bluesky.kunde, text, langs=["de"], facets=[
        mention_facet(text, "firma.test", bluesky.firma.did),
        {"index": {"byteStart": link_start, "byteEnd": link_start + len("https://example.com/order/42")},
         "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com/order/42"}]}])
    own = company.post("Neue Öffnungszeiten ab Montag.")
    # a customer answers a post her app has shown her, so one the AppView has indexed; the AppView indexes
    # each account's events in its own queue and never notifies about a reply that it indexed before its parent
    bluesky.wait_for(lambda: company.get_post(own.external_id), ignore=(NotFound,), what="our post to be indexed")
    answer = bluesky.post(bluesky.kunde, "Und samstags?", reply={"root": {"uri": own.external_id, "cid": own.cid},
                                                                  "parent": {"uri": own.external_id,
                                                                             "cid": own.cid}})
    page = bluesky.wait_for(lambda: (p := company.fetch_mentions(start.cursor)) and
                            {answer["uri"], mention["uri"]} <= {i.external_id for i in p.items} and p)
    by_uri = {item.external_id: item for item in page.items}
    got = by_uri[mention["uri"]]
    assert got.reason == "mention" and got.author.handle == "kunde.test"
    assert got.author.display_name == "Karla Kunde"
    assert got.text == text and got.language == "de" and got.cid == mention["cid"]
    assert got.mentions == (bluesky.firma.did,) and got.created_at.tzinfo is not None
    assert '<a href="https://example.com/order/42"' in got.html
    assert got.url.endswith(f"/profile/kunde.test/post/{mention['uri'].rsplit('/', 1)[1]}")
    reply = by_uri[answer["uri"]]
    assert reply.reason == "reply" and reply.reply_to_id == own.external_id and reply.root_id == own.external_id
    assert [i.external_id for i in page.items].index(mention["uri"]) < \
        [i.external_id for i in page.items].index(answer["uri"])  # oldest first
    again = company.fetch_mentions(page.cursor)
    assert {i.external_id for i in again.items} <= {answer["uri"]}  # at most the newest again, never older ones


def test_keyword_and_hashtag_search_for_listening(company, bluesky):
    text = "Wer kennt den Zauberkessel 3000? #kochen"
    post = bluesky.post(bluesky.kunde, text,
                        facets=[{"index": {"byteStart": text.index("#"), "byteEnd": len(text)},
                                 "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "kochen"}]}])
    page = bluesky.wait_for(lambda: (p := company.search_posts("Zauberkessel")).items and p)
    assert [i.external_id for i in page.items] == [post["uri"]]
    assert page.items[0].tags == ("kochen",) and page.items[0].reason == "search"
    assert company.search_posts("Zauberkessel", page.cursor).items in ([], page.items)
    tagged = bluesky.wait_for(lambda: company.search_posts("#kochen").items)
    assert post["uri"] in [i.external_id for i in tagged]
    with pytest.raises(ValueError):
        company.search_posts("  ")


def test_a_reply_is_threaded_mentions_the_customer_and_the_customer_reads_it(company, bluesky):
    question = bluesky.post(bluesky.kunde, "@firma.test Wo bleibt meine Rechnung?",
                            facets=[mention_facet("@firma.test Wo bleibt meine Rechnung?", "firma.test",
                                                  bluesky.firma.did)])
    second = bluesky.post(bluesky.kunde, "Hallo?", reply={"root": question, "parent": question})
    parent = bluesky.wait_for(lambda: company.get_post(second["uri"]), ignore=(NotFound,))
    customer = company.get_profile("kunde.test")
    sent = company.reply("Sie ist unterwegs, Details: https://firma.example/rechnung ^AB", parent,
                         mention=customer, language="de")
    assert sent.text.startswith("@kunde.test ")
    record = bluesky.xrpc("com.atproto.repo.getRecord", params={
        "repo": bluesky.firma.did, "collection": "app.bsky.feed.post", "rkey": sent.external_id.rsplit("/", 1)[1]})
    assert record["value"]["reply"]["root"] == {"uri": question["uri"], "cid": question["cid"]}
    assert record["value"]["reply"]["parent"] == {"uri": second["uri"], "cid": second["cid"]}
    kinds = {f["features"][0]["$type"]: f for f in record["value"]["facets"]}
    assert kinds["app.bsky.richtext.facet#mention"]["features"][0]["did"] == bluesky.kunde.did
    assert kinds["app.bsky.richtext.facet#link"]["features"][0]["uri"] == "https://firma.example/rechnung"
    # the customer sees the answer as a reply notification in their own app
    seen = bluesky.wait_for(lambda: [n for n in bluesky.xrpc("app.bsky.notification.listNotifications",
                                                              bluesky.kunde)["notifications"]
                                     if n["uri"] == sent.external_id])
    assert seen[0]["reason"] in ("reply", "mention") and seen[0]["author"]["handle"] == "firma.test"


def test_an_image_goes_up_with_its_alt_text(company, bluesky):
    media = company.upload_image(png(), "image/png", "Foto der beschädigten Verpackung")
    post = company.post("Anhang folgt")
    sent = company.reply("So sieht es aus.", post, images=[media])
    view = bluesky.wait_for(lambda: company.get_post(sent.external_id), ignore=(NotFound,))
    assert view.raw["embed"]["images"][0]["alt"] == "Foto der beschädigten Verpackung"
    assert view.media[0]["alt"] == "Foto der beschädigten Verpackung"
    with pytest.raises(ValueError):
        company.upload_image(b"%PDF-1.4", "application/pdf", "kein Bild")


def test_deleted_posts_are_gone(company, bluesky):
    post = company.post("Versehentlich gesendet")
    bluesky.wait_for(lambda: company.get_post(post.external_id), ignore=(NotFound,))
    company.delete(post.external_id)

    def gone() -> bool:
        try:
            company.get_post(post.external_id)
        except NotFound:
            return True
        return False

    bluesky.wait_for(gone, what="the deletion to reach the AppView")
    with pytest.raises(ValueError):
        company.delete(f"at://{bluesky.kunde.did}/app.bsky.feed.post/{new_tid()}")


def _count_own_posts(bluesky, text: str) -> int:
    records = bluesky.xrpc("com.atproto.repo.listRecords", params={
        "repo": bluesky.firma.did, "collection": "app.bsky.feed.post", "limit": 100})["records"]
    return sum(1 for r in records if r["value"]["text"] == text)


@pytest.mark.parametrize("fault", ["drop-after-forward", "status"])
def test_a_reply_is_never_posted_twice_after_a_lost_answer(bluesky, fault):
    proxy = FaultProxy(bluesky.pds_url)
    try:
        client = BlueskyClient(proxy.url, "firma.test", bluesky.firma.password, timeout=5)
        parent = BlueskyClient(bluesky.pds_url, "firma.test", bluesky.firma.password).post("Frage?")
        proxy.add("com.atproto.repo.createRecord", fault)
        text = f"Antwort nach Störung ({fault})"
        sent = client.reply(text, parent)
        assert _count_own_posts(bluesky, text) == 1
        # dropped answer: the client found its record by key and did not write again;
        # 503 from the proxy: that write never reached the PDS, so exactly one write did
        assert len([p for m, p in proxy.seen if "createRecord" in p]) == 1
        assert sent.external_id.startswith(f"at://{bluesky.firma.did}/app.bsky.feed.post/")
    finally:
        proxy.stop()


def test_truncated_and_failing_answers_are_typed(bluesky):
    proxy = FaultProxy(bluesky.pds_url)
    try:
        client = BlueskyClient(proxy.url, "firma.test", bluesky.firma.password, timeout=5)
        client.login()
        proxy.add("app.bsky.notification.listNotifications", "truncate")
        with pytest.raises(Unavailable):
            client.fetch_mentions()
        proxy.add("app.bsky.notification.listNotifications", "status", status=502)
        with pytest.raises(Unavailable) as failed:
            client.fetch_mentions()
        assert failed.value.status == 502
        proxy.add("app.bsky.actor.getProfile", "slow", seconds=2)
        slow = BlueskyClient(proxy.url, "firma.test", bluesky.firma.password, timeout=15)
        slow.login()  # at the normal timeout: a busy machine may take longer than 0.5 s to sign in
        slow.timeout = 0.5
        with pytest.raises(Unavailable):
            slow.get_profile("kunde.test")
    finally:
        proxy.stop()


def test_wrong_and_revoked_app_passwords_are_refused(bluesky):
    with pytest.raises(AuthenticationFailed):
        BlueskyClient(bluesky.pds_url, "firma.test", "falsch").verify_credentials()
    app = bluesky.xrpc("com.atproto.server.createAppPassword", bluesky.firma, data={"name": "resonanz-test"})
    client = BlueskyClient(bluesky.pds_url, "firma.test", app["password"])
    assert client.verify_credentials().handle == "firma.test"
    bluesky.xrpc("com.atproto.server.revokeAppPassword", bluesky.firma, data={"name": "resonanz-test"})
    with pytest.raises(AuthenticationFailed):
        BlueskyClient(bluesky.pds_url, "firma.test", app["password"]).verify_credentials()


def test_the_pds_rate_limit_becomes_a_typed_error_with_its_reset_time(bluesky):
    hasty = bluesky.create_account("eilig.test")
    client = BlueskyClient(bluesky.pds_url, "eilig.test", hasty.password)
    with pytest.raises(RateLimited) as limited:
        for _ in range(40):  # createSession allows 30 per 5 minutes per account and address
            client.login()
    assert limited.value.limit == 30 and limited.value.remaining == 0
    assert limited.value.reset_at > datetime.now(UTC)
    assert client.rate_limit.remaining == 0


def test_direct_messages_in_both_directions(company, bluesky):
    proxy = {"atproto-proxy": bluesky.chat_proxy}
    start = company.fetch_direct_messages()
    convo = bluesky.xrpc("chat.bsky.convo.getConvoForMembers", bluesky.kunde, headers=proxy,
                         params={"members": [bluesky.firma.did]})["convo"]
    bluesky.xrpc("chat.bsky.convo.sendMessage", bluesky.kunde, headers=proxy,
                 data={"convoId": convo["id"], "message": {"text": "Privat: meine Kundennummer ist 4711"}})
    page = company.fetch_direct_messages(start.cursor)
    assert [m.text for m in page.items] == ["Privat: meine Kundennummer ist 4711"]
    message = page.items[0]
    assert message.is_direct and message.visibility == "direct" and message.conversation_id == convo["id"]
    assert message.author.handle == "kunde.test"
    company.send_direct_message(convo["id"], "Danke, wir sehen nach. ^AB")
    assert company.fetch_direct_messages(page.cursor).items == []  # our own message is not inbound
    read = bluesky.xrpc("chat.bsky.convo.getMessages", bluesky.kunde, headers=proxy,
                        params={"convoId": convo["id"]})["messages"]
    assert read[0]["text"] == "Danke, wir sehen nach. ^AB" and read[0]["sender"]["did"] == bluesky.firma.did
    bluesky.chat.fail_next("chat.bsky.convo.getLog", 500)
    with pytest.raises(Unavailable):
        company.fetch_direct_messages(page.cursor)


HOSTILE = "\u202eevil\u202c <script>alert(1)</script> zero\u200bwidth \u2066rtl\u2069 @firma.test"


def test_hostile_posts_come_back_as_data_and_sanitize_to_harmless_html(company, bluesky):
    data = HOSTILE.encode()
    at = data.index(b"@firma.test")
    zw = data.index("\u200b".encode())
    facets = [
        {"index": {"byteStart": at, "byteEnd": at + 11},
         "features": [{"$type": "app.bsky.richtext.facet#mention", "did": bluesky.firma.did}]},
        {"index": {"byteStart": 0, "byteEnd": 10_000},  # past the end
         "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://evil.example/"}]},
        {"index": {"byteStart": zw + 1, "byteEnd": zw + 2},  # inside a multi-byte character
         "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://evil.example/"}]},
        {"index": {"byteStart": 4, "byteEnd": 8},
         "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "javascript:alert(1)"}]},
        {"index": {"byteStart": at + 1, "byteEnd": at + 5},  # overlaps the mention
         "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://evil.example/"}]},
    ]
    start = company.fetch_mentions()
    post = bluesky.post(bluesky.kunde, HOSTILE, facets=facets)
    page = bluesky.wait_for(lambda: (p := company.fetch_mentions(start.cursor)) and
                            [i for i in p.items if i.external_id == post["uri"]])
    item = page[0]
    assert item.text == HOSTILE  # exactly what was sent: the driver decides what to do with it
    assert "<script>" not in item.html and "&lt;script&gt;" in item.html
    assert "javascript:" not in item.html and "evil.example" not in item.html
    assert item.mentions == (bluesky.firma.did,)
    safe = sanitize_html(item.html)
    assert "<script" not in safe and "javascript:" not in safe


def test_an_expired_access_token_is_refreshed_without_bothering_anyone(bluesky):
    import base64
    import hashlib
    import hmac
    import json

    client = BlueskyClient(bluesky.pds_url, "firma.test", bluesky.firma.password)
    client.login()
    header, payload, _ = client._access.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["exp"] = int(datetime.now(UTC).timestamp()) - 60
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    signature = hmac.new(bluesky.jwt_secret.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
    expired = f"{header}.{body}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"
    client._access = expired  # what the client holds two hours after logging in
    assert client.get_profile("kunde.test").handle == "kunde.test"
    assert client._access != expired
