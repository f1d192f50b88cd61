"""Deeply nested JSON is a 400 with a reason on the API, the token endpoint and signed webhooks, never a 500."""

from __future__ import annotations

import json
import time

import pytest
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st

from resonanz.connectors.actions import create_channel
from resonanz.connectors.drivers.webhook import sign
from resonanz.core import jsonsafe

DEEP = b"[" * 5000 + b"]" * 5000
DEEP_OPEN = b'{"a":' + b"[" * 100_000


def nested(depth: int, inner=1):
    value = inner
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


def test_depth_limit_is_exact():
    assert jsonsafe.loads(json.dumps(nested(64))) == nested(64)
    with pytest.raises(jsonsafe.UnsafeJSON, match="nested more than 64 levels"):
        jsonsafe.loads(json.dumps(nested(65)))


@pytest.mark.parametrize("body", [DEEP, DEEP_OPEN, b"[" * 900 + b"]" * 900, ("[" * 3000).encode("utf-16")])
def test_deep_documents_are_refused_with_a_reason(body):
    with pytest.raises(jsonsafe.UnsafeJSON, match="nested more than"):
        jsonsafe.loads(body)


def test_brackets_inside_strings_do_not_count():
    text = json.dumps({"text": "[" * 10_000 + '\\"{' * 500, "ok": [1, 2]})
    assert jsonsafe.loads(text)["ok"] == [1, 2]


@pytest.mark.parametrize("body, reason", [
    (b"{not json", "not valid JSON"), (b"\xff\xfe\xfa", "not UTF-8"), (b"[NaN]", "NaN is not a JSON value"),
    (b'{"a": Infinity}', "Infinity is not a JSON value"), (b"", "not valid JSON"),
])
def test_broken_json_has_a_clear_message(body, reason):
    with pytest.raises(jsonsafe.UnsafeJSON, match=reason):
        jsonsafe.loads(body)


tricky_text = st.text(alphabet=st.sampled_from('[]{}"\\/ab\nü'), max_size=12)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
    | tricky_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(tricky_text, children, max_size=4),
    max_leaves=40,
)


def depth_of(value) -> int:
    if isinstance(value, list):
        return 1 + max((depth_of(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth_of(v) for v in value.values()), default=0)
    return 0


@settings(max_examples=400)
@given(json_values, st.integers(min_value=0, max_value=6), st.booleans())
def test_whatever_json_is_accepted_exactly_when_shallow_enough(value, limit, ascii_only):
    text = json.dumps(value, ensure_ascii=ascii_only)
    if depth_of(value) <= limit:
        assert jsonsafe.loads(text.encode(), limit=limit) == value
    else:
        with pytest.raises(jsonsafe.UnsafeJSON):
            jsonsafe.loads(text.encode(), limit=limit)


@given(st.binary(max_size=200))
def test_any_bytes_give_a_value_or_unsafe_json(body):
    try:
        jsonsafe.loads(body)
    except jsonsafe.UnsafeJSON:
        pass


# -- through the real endpoints ------------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("body", [DEEP, DEEP_OPEN])
def test_token_endpoint_answers_400(body):
    response = Client().post("/api/auth/token/", data=body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert "nested more than 64 levels" in response.json()["detail"]


@pytest.mark.django_db
def test_token_endpoint_still_accepts_json_and_forms(admin_user):
    client = Client()
    as_json = client.post("/api/auth/token/", data={"username": admin_user.username, "password": "pw-admin-123"},
                          content_type="application/json")
    as_form = client.post("/api/auth/token/", data={"username": admin_user.username, "password": "pw-admin-123"})
    assert as_json.status_code == as_form.status_code == 200
    # each sign-in makes its own personal token (only hashes are stored, so an old key cannot be handed out again)
    for key in (as_json.json()["token"], as_form.json()["token"]):
        assert client.get("/api/conversations/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200


@pytest.mark.django_db
def test_api_list_endpoint_answers_400_and_creates_nothing(api):
    from resonanz.crm.models import Contact

    before = Contact.objects.count()
    response = api.post("/api/contacts/", data=DEEP, content_type="application/json")
    assert response.status_code == 400, response.content
    assert "nested more than 64 levels" in response.json()["detail"]
    assert Contact.objects.count() == before
    shallow = api.post("/api/contacts/", data=json.dumps({"name": "Kim Kunde"}), content_type="application/json")
    assert shallow.status_code == 201, shallow.content


@pytest.mark.django_db
def test_signed_webhook_answers_400():
    channel = create_channel(kind="webhook", name="Deep hooks", credentials={"secret": "s3cr3t"})
    timestamp = str(int(time.time()))
    response = Client().post(f"/hooks/{channel.slug}/", data=DEEP, content_type="application/json",
                             HTTP_X_RESONANZ_TIMESTAMP=timestamp,
                             HTTP_X_RESONANZ_SIGNATURE=sign("s3cr3t", timestamp, DEEP))
    assert response.status_code == 400
    assert "nested more than 64 levels" in response.json()["error"]
