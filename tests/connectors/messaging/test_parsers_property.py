"""Any JSON a stranger signs with a leaked secret, or Meta/Telegram change, never crashes the parsers: they return
items or raise the ValueError that becomes a 400."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resonanz.connectors.drivers.whatsapp import MalformedNotification, parse_notification

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["object", "entry", "changes", "field", "value", "messages", "statuses", "contacts",
                         "id", "from", "type", "text", "body", "image", "location", "status", "errors",
                         "metadata", "timestamp", "wa_id", "profile", "name", "context"]), inner, max_size=5),
    max_leaves=30)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_whatsapp_parser_returns_items_or_a_clear_error(value):
    try:
        messages, updates, errors = parse_notification(value)
    except MalformedNotification:
        return
    for message in messages:
        assert message.external_id and message.sender_handle.startswith("+")
        assert isinstance(message.text, str)
    assert all(u.status in ("delivered", "read", "failed") for u in updates)
    assert all(isinstance(e, str) for e in errors)


@pytest.mark.django_db
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(json_values)
def test_telegram_update_parser_returns_items_or_a_clear_error(tg_channel, value):
    driver = tg_channel.driver
    update = {"update_id": 1, "message": value}
    try:
        items = driver.items_of(update)
    except ValueError:
        return
    assert isinstance(items, list)
