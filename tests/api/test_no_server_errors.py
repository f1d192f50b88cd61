"""Every request the security probe answered with a 500 gets a clear 4xx (issue 16, "Server errors")."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from resonanz.connectors import intake
from resonanz.crm.models import Contact
from tests.conftest import inbound

pytestmark = pytest.mark.django_db

NESTED = "[" * 5000 + "]" * 5000


def assert_4xx(response, *codes):
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    if codes:
        assert response.status_code in codes, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete", "options"])
def test_inbound_answers_other_methods_with_405_or_401(method, api, api_channel):
    url = f"/api/channels/{api_channel.pk}/inbound/"
    anonymous = getattr(APIClient(), method)(url)
    assert anonymous.status_code in (401, 405) if method != "options" else anonymous.status_code < 500
    with_token = getattr(api, method)(url)
    if method == "options":
        assert with_token.status_code == 200
    else:
        assert_4xx(with_token, 405)


@pytest.mark.parametrize("url", ["/api/auth/token/", "/api/contacts/", "/api/rules/"])
def test_deeply_nested_json_is_400(url, admin_api):
    for client in (APIClient(), admin_api):
        response = client.generic("POST", url, NESTED, content_type="application/json")
        assert_4xx(response)


def test_deeply_nested_json_on_a_signed_webhook_is_4xx(db):
    from resonanz.connectors.actions import create_channel

    channel = create_channel(kind="webhook", name="Hook")
    response = APIClient().generic("POST", f"/hooks/{channel.slug}/", NESTED, content_type="application/json")
    assert 400 <= response.status_code < 500


def test_deleting_a_contact_with_conversations_is_409_not_500(admin_api, api_channel):
    result = intake.submit(api_channel, [inbound("m-1")])[0]
    response = admin_api.delete(f"/api/contacts/{result.contact_id}/")
    assert_4xx(response, 409)
    assert "conversation" in response.json()["detail"].lower()
    assert Contact.objects.filter(pk=result.contact_id).exists()


def test_team_with_is_active(admin_api):
    response = admin_api.post("/api/teams/", {"name": "Retouren", "is_active": False}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["is_active"] is False


def test_rule_with_actions_not_a_list(admin_api):
    response = admin_api.post("/api/rules/", {"name": "r", "trigger": "message_received", "conditions": {},
                                              "actions": "assign"}, format="json")
    assert_4xx(response, 400)
    response = admin_api.post("/api/rules/", {"name": "r", "trigger": "message_received", "conditions": {},
                                              "actions": [1, "x", None]}, format="json")
    assert_4xx(response, 400)
    # found by the schemathesis run: a boolean for actions, null or a list for conditions
    for conditions, actions in ((None, True), ([], []), ("x", {})):
        response = admin_api.post("/api/rules/", {"name": "r", "trigger": "message_received",
                                                  "conditions": conditions, "actions": actions}, format="json")
        assert_4xx(response, 400)


@pytest.mark.parametrize("pk", ["abc", "²", "99999999999999999999"])
def test_non_integer_pending_reply_id(pk, admin_api):
    assert_4xx(admin_api.post(f"/api/pending-replies/{pk}/approve/"), 404)


@pytest.mark.parametrize("query", [
    "/api/messages/?conversation=abc", "/api/messages/?channel=²", "/api/messages/?author_contact=-1x",
    "/api/contacts/?organization=abc", "/api/contacts/?organization=99999999999999999999",
    "/api/conversations/?contact=99999999999999999999", "/api/conversations/?contact=abc",
    "/api/conversations/?team=²", "/api/conversations/?channel=abc", "/api/conversations/?assignee=²",
    "/api/identities/?contact=abc", "/api/identities/?contact=99999999999999999999",
])
def test_filters_with_bad_numbers_are_400(query, api):
    response = api.get(query)
    assert_4xx(response, 400)


@pytest.mark.parametrize("path", ["/api/contacts/abc/", "/api/contacts/99999999999999999999/",
                                  "/api/conversations/²/", "/api/messages/abc/"])
def test_bad_ids_in_paths_are_404(path, api):
    assert_4xx(api.get(path), 404)


def test_form_encoded_custom_fields_null(api):
    # The API reads JSON (forms only for sign-in and replies with files): a form is a 415, never a 500.
    response = api.post("/api/contacts/", {"name": "Nina", "custom_fields": "null"}, format="multipart")
    assert_4xx(response, 415)
    response = api.post("/api/contacts/", "name=Nina&custom_fields=null",
                        content_type="application/x-www-form-urlencoded")
    assert_4xx(response, 415)
    response = api.post("/api/contacts/", {"name": "Nina", "custom_fields": "null"}, format="json")
    assert_4xx(response, 400)
    response = api.post("/api/contacts/", {"name": "Nina", "custom_fields": None}, format="json")
    assert response.status_code == 201 and response.json()["custom_fields"] == {}, response.content


@pytest.mark.parametrize("after", ["²", "abc", "99999999999999999999", "-1"])
def test_desk_after_parameters(after, client, agent_user, api_channel):
    result = intake.submit(api_channel, [inbound("m-2")])[0]
    client.force_login(agent_user)
    for url in ("/inbox/updates/", f"/inbox/c/{result.conversation.pk}/", "/listening/", "/knowledge/"):
        response = client.get(url, {"after": after})
        assert response.status_code < 500, (url, response.status_code)


@pytest.mark.parametrize("body", [[None, None], "text", 7])
def test_community_writes_with_a_body_that_is_not_an_object_are_400(body, admin_api):
    """Found by the schemathesis run: `[null, null]` to the moderation endpoint answered 500."""
    from resonanz.community.models import Idea, Member

    author = Member.objects.create(display_name="Bert")
    idea = Idea.objects.create(author=author, title="Dunkelmodus", description="Abends zu hell.")
    for url in ("/api/community/moderation/", f"/api/community/ideas/{idea.pk}/status/"):
        response = admin_api.post(url, body, format="json")
        assert response.status_code == 400, (url, response.status_code, response.content[:300])
        assert "JSON object" in response.json()["detail"]
