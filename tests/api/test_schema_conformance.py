"""The API answers as its schema says (issue 16: "the schema fixed so the API and its documentation agree").
Each test is a finding of the schemathesis run (``make fuzz``) with its status-code and response-schema checks."""

from __future__ import annotations

import pytest

from resonanz.inbox.actions import invite_agent

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from drf_spectacular.generators import SchemaGenerator

    with django_db_blocker.unblock():
        return SchemaGenerator().get_schema(request=None, public=True)


def operation(schema, method: str, path: str) -> dict:
    return schema["paths"][path][method]


def resolve(schema, ref_or_schema: dict) -> dict:
    ref = ref_or_schema.get("$ref", "")
    return schema["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else ref_or_schema


def test_every_operation_documents_the_errors_of_the_shared_machinery(schema):
    for path, item in schema["paths"].items():
        for method, op in item.items():
            codes = set(op["responses"])
            assert {"401", "403", "429"} <= codes, (method, path, codes)
            if "requestBody" in op:
                assert {"400", "413", "415"} <= codes, (method, path, codes)
            if "{" in path:
                assert "404" in codes, (method, path, codes)
            for code in codes - {"204"}:
                if code.startswith(("4", "5")):
                    assert "application/json" in op["responses"][code].get("content", {}), (method, path, code)
    assert "Retry-After" in operation(schema, "post", "/api/channels/{id}/inbound/")["responses"]["503"]["headers"]


def test_a_page_past_the_end_is_a_documented_json_404(schema, admin_api):
    assert "404" in operation(schema, "get", "/api/contacts/")["responses"]
    for page in ("abc", "null", "99999"):
        response = admin_api.get("/api/contacts/", {"page": page})
        assert response.status_code == 404 and response.json()["detail"] == "Invalid page."


@pytest.mark.parametrize("path", ["/api/contacts/duplicates/", "/api/goals/", "/api/retention-rules/preview/"])
def test_lists_that_are_not_paged_are_documented_as_lists(schema, admin_api, path):
    """They answered a JSON list while the schema promised a page object ({count, results})."""
    documented = resolve(schema, operation(schema, "get", path)["responses"]["200"]["content"]["application/json"]
                         ["schema"])
    assert documented["type"] == "array", documented
    assert not any(p["name"] == "page" for p in operation(schema, "get", path).get("parameters", []))
    assert isinstance(admin_api.get(path).json(), list)


def test_reply_check_with_an_unknown_conversation_is_a_400_naming_the_field(admin_api, teams):
    """It answered 404, which the schema does not list for an id in the body."""
    response = admin_api.post("/api/reply-check/", {"conversation": 999999, "text": "Hallo"}, format="json")
    assert response.status_code == 400 and "conversation" in response.json()


def test_a_team_restricted_agent_gets_the_same_400_for_a_conversation_it_may_not_see(settings, teams, api_channel):
    from rest_framework.test import APIClient

    from resonanz.connectors import intake
    from tests.conftest import inbound

    settings.RESONANZ_AGENTS_SEE_OWN_TEAMS_ONLY = True
    conversation = intake.submit(api_channel, [inbound("m-1")])[0].conversation
    conversation.team = teams["Sales"]
    conversation.save()
    agent = invite_agent("s@example.com", role="agent", teams=[teams["Support"]], password="pw-schema-1")
    client = APIClient()
    client.force_authenticate(agent)
    response = client.post("/api/reply-check/", {"conversation": conversation.pk, "text": "Hallo"}, format="json")
    assert response.status_code == 400 and "conversation" in response.json()
