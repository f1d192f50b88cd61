"""The API refuses what its schema forbids and takes what it allows (issue 16: schemathesis' negative-data and
positive-data checks, ``make fuzz-ci``). Each test is a kind of disagreement that run found."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def errors(response) -> dict:
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    return response.json()


@pytest.mark.parametrize("field, value", [
    ("name", 12), ("name", 1.5), ("description", 0), ("is_active", 0), ("is_active", "true"), ("is_active", "0"),
])
def test_a_json_value_of_another_type_is_a_400_naming_the_field(admin_api, field, value):
    """DRF converted 12 to "12" and 0 to false; the schema says string and boolean."""
    body = {"name": "Retouren", field: value}
    response = admin_api.post("/api/teams/", body, format="json")
    assert response.status_code == 400 and field in errors(response), (value, response.content)
    assert admin_api.post("/api/teams/", {"name": "Retouren", "is_active": False}, format="json").status_code == 201


@pytest.mark.parametrize("body", [
    {"confirm": "5"}, {"confirm": 5.0}, {"confirm": True},
])
def test_integers_are_json_integers(admin_api, body):
    response = admin_api.post("/api/contacts/1/erase/", body, format="json")
    assert response.status_code in (400, 404), response.content
    if response.status_code == 400:
        assert "confirm" in errors(response)


def test_a_choice_keeps_its_json_type(api, api_channel):
    from resonanz.connectors import intake
    from tests.conftest import inbound

    conversation = intake.submit(api_channel, [inbound("m-strict")])[0].conversation
    url = f"/api/conversations/{conversation.pk}/"
    assert api.patch(url, {"priority": "3"}, format="json").status_code == 400  # an integer choice
    assert api.patch(url, {"priority": 3}, format="json").status_code == 200
    assert api.patch(url, {"status": 1}, format="json").status_code == 400


def test_a_reference_is_an_integer(admin_api, teams):
    """A PrimaryKeyRelatedField took "5" for 5."""
    team = teams["Sales"]
    response = admin_api.post("/api/channels/", {"kind": "api", "name": "Typed", "default_team": str(team.pk)},
                              format="json")
    assert response.status_code == 400 and "default_team" in errors(response), response.content
    response = admin_api.post("/api/channels/", {"kind": "api", "name": "Typed", "default_team": team.pk},
                              format="json")
    assert response.status_code == 201, response.content


def test_a_name_that_is_taken_is_a_409_naming_it(admin_api):
    """Well-formed input that clashes with the data: a conflict (documented for every write), not bad input."""
    assert admin_api.post("/api/teams/", {"name": "Retouren"}, format="json").status_code == 201
    again = admin_api.post("/api/teams/", {"name": "Retouren"}, format="json")
    assert again.status_code == 409 and "name" in errors(again), again.content


@pytest.mark.parametrize("field, value", [("conditions", []), ("conditions", "x"), ("actions", {}),
                                          ("actions", "assign")])
def test_json_fields_take_the_documented_type(admin_api, field, value):
    body = {"name": "r", "trigger": "message_received", "conditions": {}, "actions": [{"type": "close"}]}
    response = admin_api.post("/api/rules/", {**body, field: value}, format="json")
    assert response.status_code == 400 and field in errors(response), response.content


def test_json_field_schemas_say_what_they_take():
    from drf_spectacular.generators import SchemaGenerator

    schemas = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]
    assert schemas["RuleRequest"]["properties"]["actions"]["type"] == "array"
    assert schemas["RuleRequest"]["properties"]["actions"]["minItems"] == 1
    assert schemas["RuleRequest"]["properties"]["conditions"]["type"] == "object"
    assert schemas["ContactRequest"]["properties"]["custom_fields"]["type"] == "object"
    assert schemas["CalendarRequest"]["properties"]["holidays"]["items"]["format"] == "date"


def test_forms_only_where_documented(api, schema_ops):
    """The API reads JSON; a form is a 415 except on sign-in and replies with files, as the schema lists."""
    for (method, path), content_types in schema_ops.items():
        if path in ("/api/auth/token/", "/api/conversations/{id}/reply/"):
            assert "multipart/form-data" in content_types, (method, path)
        else:
            assert content_types == ["application/json"], (method, path, content_types)
    response = api.post("/api/organizations/", {"name": "Form GmbH"}, format="multipart")
    assert response.status_code == 415 and "detail" in errors(response)


@pytest.fixture
def schema_ops():
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    return {(method, path): list(op["requestBody"]["content"]) for path, item in paths.items()
            for method, op in item.items() if "requestBody" in op}


@pytest.mark.parametrize("url", [
    "/api/conversations/?status=everything", "/api/conversations/?waiting=maybe", "/api/conversations/?team=0",
    "/api/conversations/?sentiment=angry", "/api/conversations/?assignee=somebody",
    "/api/articles/?status=gone", "/api/articles/?category=x", "/api/knowledge/search/?q=x&k=0",
    "/api/knowledge/search/?q=x&language=fr", "/api/knowledge/search/?q=x&public=perhaps",
    "/api/community/questions/?sort=random", "/api/insights/dashboard/?days=5",
    "/api/insights/dashboard/?language=fr", "/api/insights/dashboard/?channel=abc",
    "/api/community/experts/?n=21", "/api/conversations/?assignee=", "/api/messages/?conversation=",
])
def test_query_values_outside_the_documented_ones_are_400(admin_api, url):
    """They were ignored (the whole list came back), so a typo in a filter went unnoticed."""
    response = admin_api.get(url)
    assert response.status_code == 400, (url, response.status_code, response.content[:300])
    name = url.rsplit("&", 1)[-1].split("?")[-1].split("=")[0]
    assert name in errors(response), (url, response.content)


@pytest.mark.parametrize("url", [
    "/api/conversations/?status=active&waiting=true&sentiment=negative&filtered=all&assignee=me&team=1",
    "/api/conversations/?waiting=1", "/api/articles/?status=published&language=de",
    "/api/knowledge/search/?q=x&k=50&public=true", "/api/community/questions/?sort=votes",
    "/api/insights/dashboard/?days=7&language=de",
])
def test_documented_query_values_are_taken(admin_api, url):
    assert admin_api.get(url).status_code == 200, url


def test_tags_views_and_avatars_take_what_their_schema_allows(admin_api, agent_user):
    """schemathesis findings: a tag of white space only, a filter value of 200 characters after a leading
    control character, an avatar address the schema describes as http(s)."""
    article = admin_api.post("/api/articles/", {"title": "T", "body": "B", "language": "de", "tags": ["\x85"]},
                             format="json")
    assert article.status_code == 400 and "tags" in errors(article)
    view = admin_api.post("/api/views/", {"name": "long", "params": {"q": "\x1d" + "*" * 200}}, format="json")
    assert view.status_code == 400 and "params" in errors(view)
    ok = admin_api.post("/api/views/", {"name": "ok", "params": {"q": "\x1d" + "*" * 199}}, format="json")
    assert ok.status_code == 201, ok.content
    profile = agent_user.agent
    refused = admin_api.patch(f"/api/agents/{profile.id}/", {"avatar_url": "javascript:alert(1)"}, format="json")
    assert refused.status_code == 400 and "avatar_url" in errors(refused)
    taken = admin_api.patch(f"/api/agents/{profile.id}/", {"avatar_url": "https://cdn.example.com/a.png"},
                            format="json")
    assert taken.status_code == 200, taken.content
