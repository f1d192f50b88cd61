from __future__ import annotations

import pytest

from resonanz.inbox.actions import ingest
from tests.conftest import inbound


@pytest.fixture
def defaults(teams):
    from resonanz.automation.defaults import ensure_defaults

    ensure_defaults()
    return teams


@pytest.fixture
def run_pipeline(django_capture_on_commit_callbacks):
    """Ingest and run the whole pipeline (analysis, rules, bot) inline."""

    def run(channel, external_id, text, handle="kunde@example.com", **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return ingest(channel, inbound(external_id, handle, text=text, **kwargs))

    return run


@pytest.fixture
def supervisor(teams):
    from resonanz.inbox.actions import invite_agent

    return invite_agent("sina@example.com", display_name="Sina Supervisor", role="supervisor",
                        teams=[teams["Support"]], password="pw-super-123")
