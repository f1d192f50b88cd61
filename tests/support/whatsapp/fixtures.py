"""A fresh local WhatsApp Cloud API server per test and a WhatsApp channel connected to it."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from resonanz.connectors.actions import create_channel
from tests.support.whatsapp.server import PHONE_NUMBER_ID, WABA_ID, WhatsAppServer

VERIFY_TOKEN = "verify-me-please"


@pytest.fixture
def whatsapp():
    server = WhatsAppServer().start()
    yield server
    server.stop()


@pytest.fixture
def wa_channel(db, whatsapp):
    cache.clear()  # the driver caches an account's templates for five minutes
    return create_channel(
        kind="whatsapp", name="WhatsApp Service",
        settings={"phone_number_id": PHONE_NUMBER_ID, "business_account_id": WABA_ID, "api_base": whatsapp.api},
        credentials={"access_token": whatsapp.token, "app_secret": whatsapp.app_secret,
                     "verify_token": VERIFY_TOKEN})
