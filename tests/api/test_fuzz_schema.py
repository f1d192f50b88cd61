"""schemathesis over the published OpenAPI schema: no 5xx, whatever the input, and answers as documented.

Every operation of ``/api/schema/`` gets a bounded number of generated requests (valid and invalid
by the schema), sent through Django's WSGI application with an administrator's token, so every
permission check passes and the handlers themselves are exercised. Checks: no server error, a status
code, a content type and a body the schema documents for the operation, input the schema forbids is
refused (negative data) and input it allows is taken (positive data). Marked ``fuzz``.

What the schema cannot say: a well-formed id of an object that does not exist, a password the password
rules refuse, a rule or listening query the engine's language refuses. For the operations that take such
input, a 400 on valid-by-schema data is expected (schemathesis' ``expected-statuses`` of its
``positive_data_acceptance`` check, set below), but only when the answer names one of those fields:
``SEMANTIC`` lists them, docs/decisions.md says why.

Deterministic: hypothesis is derandomized (the examples are derived from the test's name, not drawn at
random) and keeps no example database, so two runs of the same code send the same requests; a new finding
can only come with a change of the API, its schema or the pinned libraries, never by chance.
``RESONANZ_FUZZ_EXAMPLES`` bounds the examples per operation: ``make fuzz`` runs 25 (about ten minutes on two
cores), ``make fuzz-ci`` runs 5, once per CI run.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.config import SchemathesisConfig

from resonanz.inbox.actions import invite_agent

pytestmark = [pytest.mark.fuzz, pytest.mark.slow]

EXAMPLES = int(os.environ.get("RESONANZ_FUZZ_EXAMPLES", 25))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection, positive_data_acceptance]

#: operation → the body fields whose valid-by-schema values the API may still refuse (400), and why
SEMANTIC: dict[str, tuple[tuple[str, ...], str]] = {}
REFERENCE = "an id of an object that does not exist"


def semantic(fields: tuple[str, ...], why: str, *operations: str) -> None:
    for operation in operations:
        SEMANTIC[operation] = fields, why


def crud(path: str, methods=("POST", "PUT", "PATCH")) -> list[str]:
    """The write operations of a collection (POST on it, PUT and PATCH on its items)."""
    return [f"POST {path}" if m == "POST" else f"{m} {path}{{id}}/" for m in methods]


# Ids in the body (a path's unknown id is a 404, which the check expects anyway).
semantic(("teams",), REFERENCE, "PUT /api/agents/{id}/", "PATCH /api/agents/{id}/")
semantic(("category", "translation_of"), REFERENCE, *crud("/api/articles/"))
semantic(("owner", "organization", "new_identities"), f"{REFERENCE}; a phone number without digits",
         *crud("/api/contacts/"))
semantic(("drop",), REFERENCE, "POST /api/contacts/{id}/merge/")
semantic(("other",), REFERENCE, "POST /api/contacts/{id}/not-duplicate/")
semantic(("confirm",), "the confirmation must repeat the contact's id", "POST /api/contacts/{id}/erase/")
semantic(("contact", "handle"), f"{REFERENCE}; a phone number without digits", "POST /api/identities/")
semantic(("team", "assignee"), REFERENCE, "PATCH /api/conversations/{id}/")
semantic(("conversations", "team", "assignee"), REFERENCE, "POST /api/conversations/bulk/")
semantic(("into",), REFERENCE, "POST /api/conversations/{id}/merge/", "POST /api/community/ideas/{id}/merge/",
         "POST /api/community/questions/{id}/merge/", "POST /api/community/tags/{id}/merge/")
semantic(("messages",), "ids of messages of another conversation", "POST /api/conversations/{id}/split/")
semantic(("conversation",), REFERENCE, "POST /api/reply-check/")
semantic(("answer",), REFERENCE, "POST /api/community/questions/{id}/accept/")
semantic(("object_id",), REFERENCE, "POST /api/community/ideas/{id}/links/")
semantic(("conversations", "posts", "title", "description"), f"{REFERENCE}; a title or description that is "
         "shorter than its minimum once control characters are removed", "POST /api/community/ideas/from-group/")
semantic(("id", "action"), f"{REFERENCE}; lock and unlock are for questions only", "POST /api/community/moderation/")
semantic(("tags",), "tag names with nothing a tag can be made of (only punctuation)",
         "POST /api/community/questions/{id}/move/")
semantic(("team",), f"{REFERENCE}; an inactive team", *crud("/api/macros/"))
semantic(("channel",), REFERENCE, "POST /api/retention-rules/")
semantic(("team", "channel", "calendar"), REFERENCE, *crud("/api/sla-policies/"))
semantic(("team", "target"), f"{REFERENCE}; a target outside the range of its KPI (nps −100…100, csat 1…5, "
         "shares up to 100)", "POST /api/goals/")
semantic(("team", "only_query", "url"), f"{REFERENCE}; a webhook address that is not public (outgoing requests "
         "never reach internal addresses)", "POST /api/alert-channels/")
semantic(("team", "hours"), f"{REFERENCE}; an opening span that ends before it starts", *crud("/api/calendars/"))
semantic(("default_team", "settings", "credentials"), f"{REFERENCE}; settings the channel kind's driver refuses",
         *crud("/api/channels/"))
# Languages of their own: the engine parses and checks them when they are saved.
semantic(("conditions", "actions"), "the rule language: condition fields and operators, each action's parameters "
         "and the teams, agents and articles they name", *crud("/api/rules/"))
semantic(("expression", "position", "channels"), f"the listening query language (the error names its position); "
         f"{REFERENCE}",
         *crud("/api/listening-queries/"), "POST /api/listening-queries/preview/")
# What the schema cannot know.
semantic(("teams", "password"), f"{REFERENCE}; a password the rules refuse (common, all digits, like the email)",
         "POST /api/agents/")
semantic(("expires_at",), "an expiry in the past", "POST /api/tokens/")
semantic(("non_field_errors", "expires_at"), "user names and passwords that are no account; an expiry in the past",
         "POST /api/auth/token/")

#: schemathesis' own configuration (the format of schemathesis.toml): expected statuses per operation
SCHEMATHESIS = {
    # Text with NUL characters: PostgreSQL cannot store them, so every text field refuses them (DRF's own
    # check); the schema's strings cannot say "no NUL", so the run sends none (schemathesis' documented switch).
    "generation": {"allow-x00": False},
    "operations": [
        {"include-name": operation,
         # schemathesis' defaults (without 5xx, which not_a_server_error refuses anyway) and 400
         "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "3xx", "400", "401", "403", "404",
                                                                       "409", "429"]}}}
        for operation in SEMANTIC
    ],
}


def published_schema() -> dict:
    """What ``/api/schema/`` publishes (drf-spectacular's generator, as the view runs it)."""
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


# Loaded at collection (schemathesis' lazy fixture loader does not run under pytest 9); requests go to
# Django's WSGI application in this process, so they see the test database.
schema = schemathesis.openapi.from_dict(published_schema(), config=SchemathesisConfig.from_dict(SCHEMATHESIS))
schema.app = get_wsgi_application()


@pytest.fixture(autouse=True)
def keep_connection():
    """As Django's test client does: a request must not close the test's database connection."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def token(db, teams, api_channel):
    user = invite_agent("fuzz@example.com", role="admin", password="pw-fuzz-1234")
    return Token.objects.create(user=user).key


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_api_answers_as_documented(case, token):
    response = case.call(headers={"Authorization": f"Token {token}"})
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} answered {response.status_code}\n"
        f"query={case.query} body={case.body!r}\n{response.text[:2000]}")
    case.validate_response(response, checks=CHECKS)
    operation = f"{case.method} {case.path}"
    if response.status_code == 400 and operation in SEMANTIC and case.meta and case.meta.generation.mode.is_positive:
        refused = set(response.json())
        fields, why = SEMANTIC[operation]
        assert refused <= set(fields), (
            f"{operation} refused valid input for {sorted(refused - set(fields))}, expected only {fields} ({why})\n"
            f"body={case.body!r}\n{response.text[:2000]}")
