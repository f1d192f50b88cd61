"""A fresh local Telegram Bot API server per test and Telegram channels connected to it."""

from __future__ import annotations

import pytest

from resonanz.connectors.actions import create_channel
from tests.support.telegram.server import TelegramServer

SECRET = "geheimes-webhook-token_1"


@pytest.fixture
def telegram():
    server = TelegramServer().start()
    yield server
    server.stop()


@pytest.fixture
def tg_channel(db, telegram):
    """Webhook mode: updates are pushed to /hooks/<slug>/."""
    return create_channel(kind="telegram", name="Telegram Bot",
                          settings={"mode": "webhook", "api_base": telegram.url, "bot_username": "firma_support_bot"},
                          credentials={"bot_token": telegram.token, "secret_token": SECRET})


@pytest.fixture
def tg_polling(db, telegram):
    return create_channel(kind="telegram", name="Telegram Polling", settings={"api_base": telegram.url},
                          credentials={"bot_token": telegram.token})
