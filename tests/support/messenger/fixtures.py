"""A local Graph API server for Messenger/Instagram per test and a channel connected to it."""

from __future__ import annotations

import pytest

from resonanz.connectors.actions import create_channel
from tests.support.messenger.server import IG_ID, PAGE_ID, MessengerServer


@pytest.fixture
def messenger():
    server = MessengerServer().start()
    yield server
    server.stop()


@pytest.fixture
def fb_channel(db, messenger):
    return create_channel(kind="messenger", name="Facebook und Instagram",
                          settings={"page_id": PAGE_ID, "instagram_id": IG_ID, "api_base": messenger.api},
                          credentials={"page_token": messenger.token, "app_secret": messenger.app_secret,
                                       "verify_token": "fb-verify"})
