"""The Bluesky test network itself: it comes up, accounts exist, the AppView and the chat service answer."""

from __future__ import annotations

from tests.support.bluesky.fixtures import validate_lexicon


def test_accounts_exist_on_the_pds_and_in_the_plc_directory(bluesky):
    for account in (bluesky.firma, bluesky.kunde):
        resolved = bluesky.xrpc("com.atproto.identity.resolveHandle", params={"handle": account.handle})
        assert resolved["did"] == account.did
        session = bluesky.xrpc("com.atproto.server.getSession", account)
        assert session["handle"] == account.handle
    assert bluesky.firma.handle == "firma.test" and bluesky.kunde.handle == "kunde.test"


def test_the_appview_indexes_posts_from_the_event_stream(bluesky):
    created = bluesky.post(bluesky.kunde, "Harness: hallo Welt")
    found = bluesky.wait_for(lambda: bluesky.xrpc("app.bsky.feed.getPosts", bluesky.kunde,
                                                  params={"uris": [created["uri"]]})["posts"])
    assert found[0]["record"]["text"] == "Harness: hallo Welt"
    assert found[0]["author"]["handle"] == "kunde.test"


def test_the_chat_service_is_reached_through_the_pds_and_answers_in_lexicon_shape(bluesky):
    proxy = {"atproto-proxy": bluesky.chat_proxy}
    convo = bluesky.xrpc("chat.bsky.convo.getConvoForMembers", bluesky.kunde, headers=proxy,
                         params={"members": [bluesky.firma.did]})
    validate_lexicon("chat.bsky.convo.getConvoForMembers", output=convo)
    sent = bluesky.xrpc("chat.bsky.convo.sendMessage", bluesky.kunde, headers=proxy,
                        data={"convoId": convo["convo"]["id"], "message": {"text": "Hallo per DM"}})
    validate_lexicon("chat.bsky.convo.sendMessage", output=sent)
    for method, params in [("chat.bsky.convo.listConvos", {}), ("chat.bsky.convo.getLog", {}),
                           ("chat.bsky.convo.getMessages", {"convoId": convo["convo"]["id"]})]:
        validate_lexicon(method, output=bluesky.xrpc(method, bluesky.firma, headers=proxy, params=params))
    assert ("chat.bsky.convo.sendMessage", bluesky.kunde.did) in bluesky.chat.service.calls


def test_the_chat_service_refuses_calls_that_did_not_come_through_the_pds(bluesky):
    import requests

    direct = requests.get(f"{bluesky.chat.url}/xrpc/chat.bsky.convo.listConvos",
                          headers={"Authorization": f"Bearer {bluesky.kunde.access_jwt}"}, timeout=5)
    assert direct.status_code == 401  # a PDS session token is not a service-auth token for the chat DID
