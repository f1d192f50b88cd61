"""The chat driver: business hours in the channel's time zone, the host site's signature, the embed code."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

import pytest

from resonanz.connectors.actions import create_channel, new_webhook_secret

pytestmark = pytest.mark.django_db


def test_business_hours_follow_the_channel_time_zone():
    channel = create_channel(kind="chat", name="Chat", settings={
        "hours": {"mon": ["09:00", "17:00"], "sat": None}, "timezone": "Europe/Berlin"})
    driver = channel.driver
    # Monday 2026-11-30: 08:30 UTC is 09:30 in Berlin (open); 16:30 UTC is 17:30 (closed)
    assert driver.is_open(datetime(2026, 11, 30, 8, 30, tzinfo=UTC))
    assert not driver.is_open(datetime(2026, 11, 30, 7, 30, tzinfo=UTC))
    assert not driver.is_open(datetime(2026, 11, 30, 16, 30, tzinfo=UTC))
    assert not driver.is_open(datetime(2026, 12, 5, 12, 0, tzinfo=UTC))  # Saturday: closed
    assert not driver.is_open(datetime(2026, 12, 1, 12, 0, tzinfo=UTC))  # Tuesday: no hours given
    assert create_channel(kind="chat", name="Always").driver.is_open()


def test_only_the_secret_s_signature_identifies_a_user():
    channel = create_channel(kind="chat", name="Chat")
    assert not channel.driver.verify_user("42", "00")  # no secret yet: nobody is identified
    secret = new_webhook_secret(channel)
    channel.refresh_from_db()
    good = hmac.new(secret.encode(), b"42", hashlib.sha256).hexdigest()
    assert channel.driver.verify_user("42", good)
    assert channel.driver.verify_user("42", good.upper())
    assert not channel.driver.verify_user("43", good)
    assert not channel.driver.verify_user("42", "")


def test_embed_code_and_replies():
    channel = create_channel(kind="chat", name="Shop Chat")
    assert 'data-resonanz-chat="shop-chat"' in channel.driver.embed_code()
    assert channel.driver.addresses()[0][1] == "/chat/shop-chat/"
