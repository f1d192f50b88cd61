"""A local X API server per test and an X channel connected to it."""

from __future__ import annotations

import pytest

from resonanz.connectors.actions import create_channel
from tests.support.x.server import XServer


@pytest.fixture
def xapi():
    server = XServer().start()
    yield server
    server.stop()


@pytest.fixture
def x_channel(db, xapi):
    return create_channel(kind="x", name="X Firma", settings={"user_id": "2244994945", "api_base": xapi.url},
                          credentials={"consumer_secret": xapi.consumer_secret, "access_token": xapi.token})
