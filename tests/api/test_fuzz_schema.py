"""schemathesis over the published OpenAPI schema: no 5xx, whatever the input.

Every operation of ``/api/schema/`` gets a bounded number of generated requests (valid and invalid
by the schema), sent through Django's WSGI application with an administrator's token, so every
permission check passes and the handlers themselves are exercised. Checks: no server error, and
answers whose content type the schema documents. Marked ``fuzz`` (CI runs ``pytest -m fuzz`` once);
``RESONANZ_FUZZ_EXAMPLES`` sets the examples per operation (default 25).
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

from resonanz.inbox.actions import invite_agent

pytestmark = [pytest.mark.fuzz, pytest.mark.slow]

EXAMPLES = int(os.environ.get("RESONANZ_FUZZ_EXAMPLES", 25))


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
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_no_server_errors(case, token):
    response = case.call(headers={"Authorization": f"Token {token}"})
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} answered {response.status_code}\n"
        f"query={case.query} body={case.body!r}\n{response.text[:2000]}")
