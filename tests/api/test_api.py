"""The REST API contract later checks rely on, and its errors."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from resonanz.inbox.models import Message

pytestmark = pytest.mark.django_db


def test_token_login_and_token_requirement(agent_user):
    client = APIClient()
    assert client.get("/api/conversations/").status_code == 401
    bad = client.post("/api/auth/token/", {"username": "berta@example.com", "password": "wrong"}, format="json")
    assert bad.status_code == 400
    ok = client.post("/api/auth/token/", {"username": "berta@example.com", "password": "pw-agent-123"}, format="json")
    assert ok.status_code == 200 and ok.json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {ok.json()['token']}")
    assert client.get("/api/conversations/").status_code == 200
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert client.get("/api/conversations/").status_code == 401


def test_full_contract(admin_api, api):
    created = admin_api.post("/api/channels/", {"kind": "api", "name": "Shop"}, format="json")
    assert created.status_code == 201, created.json()
    channel_id = created.json()["id"]
    payload = {"external_id": "order-77", "sender": {"handle": "jana@example.org", "name": "Jana"},
               "text": "Wo bleibt meine Bestellung 77?", "subject": "Bestellung 77"}
    first = api.post(f"/api/channels/{channel_id}/inbound/", payload, format="json")
    assert first.status_code == 201, first.json()
    ids = first.json()
    assert set(ids) == {"message_id", "conversation_id", "contact_id"}
    again = api.post(f"/api/channels/{channel_id}/inbound/", payload, format="json")
    assert again.status_code == 200 and again.json() == ids

    listing = api.get("/api/conversations/", {"status": "new", "channel": channel_id}).json()
    assert [c["id"] for c in listing["results"]] == [ids["conversation_id"]]
    assert api.get("/api/conversations/", {"contact": ids["contact_id"]}).json()["count"] == 1
    assert api.get("/api/conversations/", {"status": "resolved"}).json()["count"] == 0

    reply = api.post(f"/api/conversations/{ids['conversation_id']}/reply/", {"text": "Ist unterwegs!"}, format="json")
    assert reply.status_code == 201, reply.json()
    messages = api.get(f"/api/conversations/{ids['conversation_id']}/messages/").json()["results"]
    assert [m["direction"] for m in messages] == ["inbound", "outbound"]
    assert messages[1]["text"] == "Ist unterwegs!" and messages[1]["author_user"] is not None
    assert api.get("/api/conversations/", {"assignee": "me"}).json()["count"] == 1

    contact = api.get(f"/api/contacts/{ids['contact_id']}/").json()
    assert contact["identities"][0]["handle"] == "jana@example.org"


def test_inbound_validation_names_fields(api, api_channel):
    response = api.post(f"/api/channels/{api_channel.pk}/inbound/", {"sender": {}}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert "external_id" in body and "sender" in body
    response = api.post(f"/api/channels/{api_channel.pk}/inbound/",
                        {"external_id": "x", "sender": {"handle": "a@b.de"}, "text": "  "}, format="json")
    assert response.status_code == 400 and "text" in response.json()
    assert Message.objects.count() == 0


def test_malformed_json_is_400(api, api_channel):
    response = api.generic("POST", f"/api/channels/{api_channel.pk}/inbound/", "{not json",
                           content_type="application/json")
    assert response.status_code == 400


def test_oversized_payload_is_413(api, api_channel, settings):
    settings.RESONANZ_MAX_REQUEST_BYTES = 10_000
    payload = {"external_id": "big", "sender": {"handle": "a@b.de"}, "text": "x" * 20_000}
    response = api.post(f"/api/channels/{api_channel.pk}/inbound/", payload, format="json")
    assert response.status_code == 413
    assert Message.objects.count() == 0


def test_unknown_ids_are_404(api):
    assert api.get("/api/conversations/999999/").status_code == 404
    assert api.post("/api/conversations/999999/reply/", {"text": "x"}, format="json").status_code == 404
    assert api.post("/api/channels/999999/inbound/", {}, format="json").status_code == 404


def test_only_admins_change_channels(api):
    response = api.post("/api/channels/", {"kind": "api", "name": "Mine"}, format="json")
    assert response.status_code == 403


def test_channel_validation(admin_api):
    assert admin_api.post("/api/channels/", {"kind": "fax", "name": "x"}, format="json").status_code == 400
    admin_api.post("/api/channels/", {"kind": "api", "name": "One"}, format="json")
    dup = admin_api.post("/api/channels/", {"kind": "api", "name": "one"}, format="json")
    assert dup.status_code == 409 and "name" in dup.json()  # taken: a conflict


def test_credentials_are_write_only(admin_api):
    created = admin_api.post("/api/channels/", {"kind": "api", "name": "Sec", "credentials": {"token": "s3cr3t!"}},
                             format="json").json()
    assert "credentials" not in created
    from resonanz.connectors.models import Channel

    channel = Channel.objects.get(pk=created["id"])
    assert "s3cr3t" not in channel.credentials_encrypted and channel.credentials == {"token": "s3cr3t!"}


def test_update_conversation_and_notes(api, api_channel, teams, agent_user):
    ids = api.post(f"/api/channels/{api_channel.pk}/inbound/",
                   {"external_id": "1", "sender": {"handle": "x@y.de"}, "text": "Hilfe"}, format="json").json()
    cid = ids["conversation_id"]
    response = api.patch(f"/api/conversations/{cid}/", {"status": "pending", "priority": 4, "tags": ["vip"],
                                                        "team": teams["Legal"].pk, "assignee": agent_user.pk},
                         format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["priority"], body["tags"], body["team"]) == ("pending", 4, ["vip"], teams["Legal"].pk)
    assert api.patch(f"/api/conversations/{cid}/", {"status": "nonsense"}, format="json").status_code == 400
    note = api.post(f"/api/conversations/{cid}/notes/", {"text": "intern"}, format="json")
    assert note.status_code == 201 and note.json()["direction"] == "note"
    events = api.get(f"/api/conversations/{cid}/events/").json()["results"]
    kinds = [e["kind"] for e in events]
    for kind in ("status_changed", "priority_changed", "tags_changed", "team_changed", "assigned", "note_added"):
        assert kind in kinds
    assert api.get("/api/conversations/", {"tag": "vip"}).json()["count"] == 1
    assert api.get("/api/conversations/", {"team": teams["Legal"].pk}).json()["count"] == 1


def test_contacts_merge_through_api(api, supervisor_api, api_channel):
    a = api.post(f"/api/channels/{api_channel.pk}/inbound/",
                 {"external_id": "1", "sender": {"handle": "anna@example.com"}, "text": "Hallo"}, format="json").json()
    b = api.post(f"/api/channels/{api_channel.pk}/inbound/",
                 {"external_id": "2", "sender": {"handle": "@anna_social"}, "text": "Hi"}, format="json").json()
    refused = api.post(f"/api/contacts/{a['contact_id']}/merge/", {"drop": b["contact_id"]}, format="json")
    assert refused.status_code == 403  # merging is for supervisors and administrators
    merged = supervisor_api.post(f"/api/contacts/{a['contact_id']}/merge/", {"drop": b["contact_id"]}, format="json")
    assert merged.status_code == 200
    handles = sorted(i["handle"] for i in merged.json()["identities"])
    assert handles == ["@anna_social", "anna@example.com"]
    assert api.get(f"/api/contacts/{b['contact_id']}/").status_code == 404
    assert api.get("/api/conversations/", {"contact": a["contact_id"]}).json()["count"] == 2


def test_schema_and_docs(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert b"/api/channels/{id}/inbound/" in schema.content
    docs = api.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()


def test_invite_agent_via_api(admin_api, teams):
    response = admin_api.post("/api/agents/", {"email": "neu@example.com", "display_name": "Neu Agent",
                                               "teams": [teams["Sales"].pk]}, format="json")
    assert response.status_code == 201, response.json()
    assert "/accounts/reset/" in response.json()["set_password_url"]
    assert admin_api.post("/api/agents/", {"email": "neu@example.com"}, format="json").status_code == 409
