"""schemathesis over the published OpenAPI schema: no 5xx, whatever the input, and answers as documented.

Every operation of ``/api/schema/`` gets a bounded number of generated requests (valid and invalid
by the schema), sent through Django's WSGI application with an administrator's token, so every
permission check passes and the handlers themselves are exercised. Checks: no server error, a status
code, a content type and a body the schema documents for the operation. Marked ``fuzz``.

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

from resonanz.inbox.actions import invite_agent

pytestmark = [pytest.mark.fuzz, pytest.mark.slow]

EXAMPLES = int(os.environ.get("RESONANZ_FUZZ_EXAMPLES", 25))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
if os.environ.get("RESONANZ_FUZZ_STRICT"):  # also: input the schema forbids is refused, input it allows accepted
    CHECKS += [negative_data_rejection, positive_data_acceptance]


def published_schema() -> dict:
    """What ``/api/schema/`` publishes (drf-spectacular's generator, as the view runs it)."""
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


# Loaded at collection (schemathesis' lazy fixture loader does not run under pytest 9); requests go to
# Django's WSGI application in this process, so they see the test database.
schema = schemathesis.openapi.from_dict(published_schema())
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
