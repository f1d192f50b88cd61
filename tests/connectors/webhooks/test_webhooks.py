"""Signed webhooks: POST /hooks/<slug>/ with an HMAC-SHA256 signature, mapped into inbound messages."""

from __future__ import annotations

import json
import time

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resonanz.connectors.actions import check_channel, create_channel, rejected_requests
from resonanz.connectors.drivers.webhook import MappingError, map_payload, mapping_of, sign, verify_signature
from resonanz.connectors.models import Channel
from resonanz.inbox.models import Message

pytestmark = pytest.mark.django_db
SECRET = "s3cr3t-for-tests"
MAPPING = {"external_id": "data.id", "sender": "data.user.email", "sender_name": "data.user.name",
           "text": "data.body", "subject": "data.title"}
PAYLOAD = {"event": "ticket.created", "data": {"id": 4711, "title": "Lieferung", "body": "Wo bleibt mein Paket?",
                                               "user": {"email": "Kim@Example.com", "name": "Kim"}}}


@pytest.fixture
def hook(db):
    return create_channel(kind="webhook", name="Shop hooks", settings={"mapping": MAPPING},
                          credentials={"secret": SECRET})


def post(client, channel, body: bytes, *, secret=SECRET, timestamp=None, signature=None):
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    headers = {"HTTP_X_RESONANZ_TIMESTAMP": timestamp,
               "HTTP_X_RESONANZ_SIGNATURE": signature or sign(secret, timestamp, body)}
    return client.post(f"/hooks/{channel.slug}/", data=body, content_type="application/json", **headers)


def test_signed_request_is_ingested_once(hook):
    client = Client(enforce_csrf_checks=True)  # no CSRF token: the endpoint is exempt
    body = json.dumps(PAYLOAD).encode()
    first = post(client, hook, body)
    assert first.status_code == 201, first.content
    message = Message.objects.get(pk=first.json()["message_id"])
    assert message.text == "Wo bleibt mein Paket?" and message.subject == "Lieferung"
    assert message.external_id == "4711" and message.channel == hook
    assert message.author_contact.identities.get().handle == "kim@example.com"  # an email identity
    again = post(client, hook, body)
    assert again.status_code == 200 and again.json()["message_id"] == message.pk
    assert Message.objects.count() == 1


@pytest.mark.parametrize("case", ["unsigned", "wrong", "stale", "future", "other_secret", "tampered"])
def test_bad_signatures_get_401_and_are_recorded(hook, case, caplog):
    client = Client()
    body = json.dumps(PAYLOAD).encode()
    now = int(time.time())
    if case == "unsigned":
        response = client.post(f"/hooks/{hook.slug}/", data=body, content_type="application/json")
    elif case == "wrong":
        response = post(client, hook, body, signature="sha256=" + "0" * 64)
    elif case == "stale":
        response = post(client, hook, body, timestamp=now - 301)
    elif case == "future":
        response = post(client, hook, body, timestamp=now + 400)
    elif case == "other_secret":
        response = post(client, hook, body, secret="guessed")
    else:  # signed for one body, sent with another
        ts = str(now)
        response = post(client, hook, body.replace(b"4711", b"4712"), timestamp=ts, signature=sign(SECRET, ts, body))
    assert response.status_code == 401 and response.json()["error"] == "unauthorized"
    assert Message.objects.count() == 0
    channel = Channel.objects.get(pk=hook.pk)
    assert channel.healthy and not channel.last_error and channel.last_error_at is None
    assert any("rejected" in r.getMessage() for r in caplog.records if r.levelname == "WARNING")
    assert rejected_requests(channel)["count"] == 1


def test_wrongly_signed_pushes_write_nothing_and_are_counted_and_logged_once_a_minute(hook, caplog):
    """Anyone can send them: no row is written per request and the channel's health is not theirs to change;
    the channel's page shows how many came, and the log says it once a minute, not once a request."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = Client()
    body = json.dumps(PAYLOAD).encode()
    with CaptureQueriesContext(connection) as queries:
        for _ in range(30):
            assert post(client, hook, body, signature="sha256=" + "0" * 64).status_code == 401
    writes = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert all("ratecounter" in sql.lower() for sql in writes), writes  # only the per-address limit counts
    channel = Channel.objects.get(pk=hook.pk)
    assert channel.healthy and not channel.last_error
    seen = rejected_requests(channel)
    assert seen["count"] == 30 and seen["remote"] == "127.0.0.1" and "signature" in seen["reason"]
    assert len([r for r in caplog.records if "rejected a request" in r.getMessage()]) == 1


def test_the_channel_page_shows_rejected_pushes(hook, admin_user):
    post(Client(), hook, b"{}", signature="sha256=" + "0" * 64)
    desk = Client()
    desk.force_login(admin_user)
    admin_user.agent.language = "de"
    admin_user.agent.save()
    page = desk.get(f"/inbox/settings/channels/{hook.pk}/").content.decode()
    assert "Abgewiesene Anfragen (letzte Stunde)" in page and "127.0.0.1" in page


def test_within_five_minutes_is_accepted(hook):
    response = post(Client(), hook, json.dumps(PAYLOAD).encode(), timestamp=int(time.time()) - 250)
    assert response.status_code == 201


def test_unknown_disabled_and_bad_bodies(hook):
    client = Client()
    assert client.post("/hooks/nope/", data=b"{}", content_type="application/json").status_code == 404
    assert post(client, hook, b"not json").status_code == 400
    missing = post(client, hook, json.dumps({"data": {"id": 1, "body": "hi"}}).encode())
    assert missing.status_code == 400 and missing.json()["field"] == "sender"
    assert client.get(f"/hooks/{hook.slug}/").status_code == 405
    hook.enabled = False
    hook.save()
    assert post(client, hook, json.dumps(PAYLOAD).encode()).status_code == 403


def test_secret_is_generated_when_missing_and_check_reports_the_url(db):
    channel = create_channel(kind="webhook", name="CRM hooks")
    assert "secret" not in channel.credentials
    ok, detail = check_channel(channel)
    assert ok and f"/hooks/{channel.slug}/" in detail
    secret = Channel.objects.get(pk=channel.pk).credentials["secret"]
    assert len(secret) >= 32
    body = json.dumps({"id": "a1", "sender": "+49 170 1234567", "text": "Rückruf bitte"}).encode()
    assert post(Client(), channel, body, secret=secret).status_code == 201  # the default mapping
    assert Message.objects.get().author_contact.identities.get().kind == "phone"


def test_bad_mapping_settings_are_reported_by_the_check(db):
    channel = create_channel(kind="webhook", name="Bad", settings={"mapping": {"txt": "body"}})
    ok, detail = check_channel(channel)
    assert not ok and "txt" in detail


def test_id_less_payloads_are_deduplicated_by_body(hook):
    channel = create_channel(kind="webhook", name="Plain", credentials={"secret": SECRET})
    body = json.dumps({"sender": "a@example.com", "text": "Hallo"}).encode()
    assert post(Client(), channel, body).status_code == 201
    assert post(Client(), channel, body).status_code == 200


# --- properties ----------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@given(secret=st.text(min_size=1, max_size=40), body=st.binary(max_size=300), ts=st.integers(0, 10**11),
       skew=st.integers(-1000, 1000))
def test_signature_verifier_accepts_exactly_fresh_correct_signatures(secret, body, ts, skew):
    signature = sign(secret, ts, body)
    ok, _ = verify_signature(secret, body, str(ts), signature, now=ts + skew)
    assert ok == (abs(skew) <= 300)
    assert not verify_signature(secret, body + b"x", str(ts), signature, now=ts)[0]
    assert not verify_signature(secret + "x", body, str(ts), signature, now=ts)[0]


@given(timestamp=st.one_of(st.none(), st.text(max_size=20)), signature=st.one_of(st.none(), st.text(max_size=80)),
       body=st.binary(max_size=100))
def test_signature_verifier_never_raises_on_hostile_headers(timestamp, signature, body):
    ok, reason = verify_signature("secret", body, timestamp, signature, now=1_700_000_000)
    assert not ok and reason


@given(payload=json_values, paths=st.dictionaries(st.sampled_from(sorted(MAPPING) + ["sent_at", "html"]),
                                                   st.text(max_size=12), max_size=5))
def test_mapping_any_json_gives_a_message_or_a_mapping_error(payload, paths):
    mapping = mapping_of({"mapping": paths})
    try:
        message = map_payload(payload, mapping, json.dumps(payload).encode())
    except MappingError as exc:
        assert exc.field
    else:
        assert message.external_id and message.sender_handle and (message.text or message.html)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=json_values)
def test_endpoint_never_fails_with_500_on_any_signed_json(hook, payload):
    body = json.dumps(payload).encode()
    response = post(Client(raise_request_exception=False), hook, body)
    assert response.status_code in (200, 201, 400), response.content
