"""The chat's time check against bots (issue 16: "a proof-of-work or time-based check against bots besides the
honeypot" on the chat's public endpoints): tokens carry when the session began and when they were issued."""

from __future__ import annotations

import time

import pytest
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile

from resonanz.chat import access
from resonanz.connectors.actions import create_channel
from resonanz.inbox.models import Message
from tests.chat.conftest import SITE, Widget

pytestmark = pytest.mark.django_db

DAY = 86400


@pytest.fixture
def clock(monkeypatch, settings):
    """The chat's clock, moved by hand; the time check on (two seconds, as in production)."""
    settings.RESONANZ_CHAT_MIN_SECONDS = 2
    now = {"t": 1_900_000_000.0}
    monkeypatch.setattr(access, "_now", lambda: now["t"])

    def advance(seconds: float) -> None:
        now["t"] += seconds

    return advance


def test_a_line_at_once_after_the_session_began_is_refused_until_a_person_could_have_typed_it(widget, clock):
    widget.start()
    refused = widget.say("Kaufen Sie billige Uhren", "c1")
    assert refused.status_code == 429
    assert refused.json()["code"] == "too_fast" and refused["Retry-After"] == "2"
    assert refused["Access-Control-Allow-Origin"] == SITE
    assert not Message.objects.exists()
    clock(1)
    assert widget.say("Kaufen Sie billige Uhren", "c1")["Retry-After"] == "1"
    clock(1.5)
    assert widget.say("Wo bleibt mein Paket?", "c1").status_code == 201
    assert Message.objects.get().text == "Wo bleibt mein Paket?"


def test_a_too_fast_refusal_does_not_use_up_the_visitors_rate_limit(widget, clock, settings):
    settings.RESONANZ_RATE_LIMITS = {**settings.RESONANZ_RATE_LIMITS, "chat_visitor": "2/60"}
    widget.start()
    for _ in range(5):
        assert widget.say("Hallo", "c1").json()["code"] == "too_fast"
    clock(3)
    assert widget.say("Hallo", "c1").status_code == 201


def test_a_file_at_once_after_the_session_began_is_refused(widget, clock):
    widget.start()

    def upload():
        return widget.client.post(widget.url("upload/"), {
            "client_id": "f1", "file": SimpleUploadedFile("note.txt", b"hello", content_type="text/plain")},
            **widget.headers())

    assert upload().status_code == 429
    clock(3)
    assert upload().status_code == 201


def test_a_resumed_session_keeps_when_it_began(widget, clock):
    widget.start()
    clock(5)
    widget.start(name="Vera", token=widget.token)  # the pre-chat form later: a new token, the same session
    assert widget.say("Hallo", "c1").status_code == 201


def test_forged_foreign_and_expired_tokens_are_refused(widget, chat_channel, clock):
    widget.start()
    good = widget.token
    for token in ("", "abc", good[:-2] + ("AA" if not good.endswith("AA") else "BB")):
        widget.token = token
        response = widget.say("Hallo", "c1")
        assert response.status_code == 401 and response.json()["code"] == "token"
    other = create_channel(kind="chat", name="Other chat", settings={"allowed_origins": [SITE]})
    stranger = Widget(other.slug)
    stranger.token = good
    assert stranger.say("Hallo", "c1").status_code == 401

    widget.token = good
    clock(31 * DAY)  # RESONANZ_CHAT_TOKEN_DAYS = 30 without a renewal
    response = widget.get("messages/")
    assert response.status_code == 401 and "expired" in response.json()["error"]
    assert not Message.objects.exists()


def test_a_visitor_who_keeps_chatting_gets_a_renewed_token_and_keeps_the_history(widget, clock):
    widget.start()
    visitor_id = signing.loads(widget.token, salt=access.TOKEN_SALT)["v"]
    clock(3)
    assert widget.say("Hallo", "c1").status_code == 201
    assert "token" not in widget.get("messages/").json()  # young tokens are not renewed
    for _ in range(3):  # every three weeks a look at the chat: never expires
        clock(21 * DAY)
        answer = widget.get("messages/").json()
        assert [m["text"] for m in answer["messages"]] == ["Hallo"]
        widget.token = answer["token"]
        assert signing.loads(widget.token, salt=access.TOKEN_SALT)["v"] == visitor_id
    assert widget.say("Noch da?", "c2").status_code == 201  # the session did not begin again: no waiting


def test_tokens_from_before_the_time_check_are_accepted_and_renewed(widget, chat_channel, clock):
    widget.start()
    data = signing.loads(widget.token, salt=access.TOKEN_SALT)
    legacy = {k: v for k, v in data.items() if k not in ("b", "i")}
    widget.token = signing.dumps(legacy, salt=access.TOKEN_SALT, compress=True)
    assert widget.say("Hallo", "c1").status_code == 201  # an old session: no waiting
    renewed = widget.get("messages/").json()["token"]
    assert signing.loads(renewed, salt=access.TOKEN_SALT)["i"] > 0


def leave(widget, **extra):
    body = {"client_id": "l1", "name": "Lena", "email": "lena@example.com", "text": "Bitte um Rückruf"}
    return widget.post("leave-message/", {**body, **extra})


def test_leaving_a_message_needs_the_form_token_of_the_page_and_a_moment(widget, chat_channel, clock, monkeypatch):
    assert leave(widget).status_code == 400
    assert leave(widget, form_token="x:y:z").json()["code"] == "form_token"
    token = widget.get("config/").json()["form_token"]
    other = create_channel(kind="chat", name="Other chat", settings={"allowed_origins": [SITE]})
    assert leave(widget, form_token=access.form_token(other)).status_code == 400
    # the signer stamps real time; the check reads the chat's clock, set to now
    clock(time.time() - access._now())
    fast = leave(widget, form_token=token)
    assert fast.status_code == 429 and fast.json()["code"] == "too_fast"
    clock(3)
    assert leave(widget, form_token=token).status_code == 201
    assert Message.objects.get().text == "Bitte um Rückruf"

    with monkeypatch.context() as m:
        m.setattr(signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(int(time.time()) - 2 * DAY))
        stale = access.form_token(chat_channel)
    answer = leave(widget, form_token=stale, client_id="l2")
    assert answer.status_code == 400 and "a day old" in answer.json()["error"]
