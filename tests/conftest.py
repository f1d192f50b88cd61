"""Shared fixtures: agents, channels, an authenticated API client."""

from __future__ import annotations

import shutil

import pytest
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from resonanz.connectors.actions import create_channel
from resonanz.connectors.drivers.base import InboundMessage
from resonanz.inbox.actions import ensure_default_teams, invite_agent

# The machines that run the suite are shared: a property test must not fail because the machine was busy
# (generation "too slow", a deadline), only because a property does not hold.
settings.register_profile("shared-machine", deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile("shared-machine")


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache: the process-wide LocMemCache would otherwise carry cached page
    parts (the community sidebar) and rate-limit counters from one test into the next."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def teams(db):
    ensure_default_teams()
    from resonanz.inbox.models import Team

    return {t.name: t for t in Team.objects.all()}


@pytest.fixture
def admin_user(db):
    return invite_agent("admin@example.com", display_name="Ada Admin", role="admin", password="pw-admin-123")


@pytest.fixture
def agent_user(db, teams):
    return invite_agent("berta@example.com", display_name="Berta Beispiel", role="agent",
                        teams=[teams["Support"]], password="pw-agent-123", language="de")


@pytest.fixture
def supervisor_user(db, teams):
    return invite_agent("sina@example.com", display_name="Sina Supervisor", role="supervisor",
                        teams=[teams["Support"]], password="pw-super-123")


@pytest.fixture
def api_channel(db):
    return create_channel(kind="api", name="Shop API")


@pytest.fixture
def form_channel(db):
    return create_channel(kind="web_form", name="Kontaktformular")


@pytest.fixture
def api(agent_user):
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=agent_user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def supervisor_api(supervisor_user):
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=supervisor_user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def admin_api(admin_user):
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=admin_user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def inbound(external_id: str, handle: str = "kunde@example.com", text: str = "Hallo, meine Bestellung fehlt.",
            **kwargs) -> InboundMessage:
    return InboundMessage(external_id=external_id, sender_handle=handle, text=text, **kwargs)


@pytest.fixture(scope="session")
def seed_model_dir(tmp_path_factory):
    """The out-of-the-box model, built once per test session (without embeddings, for speed)."""
    from resonanz.analysis import ModelStore, build_seed_model

    path = tmp_path_factory.mktemp("seed-model")
    build_seed_model(ModelStore(path))
    return path


@pytest.fixture
def model_dir(seed_model_dir, tmp_path, settings):
    """A private copy of the seed model store, so tests that train or roll back don't disturb others."""
    from resonanz.understanding import engine

    path = tmp_path / "models"
    shutil.copytree(seed_model_dir, path)
    settings.RESONANZ_MODEL_DIR = path
    engine.reset()
    yield path
    engine.reset()
