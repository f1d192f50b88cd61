"""Inbound sent times outside a sane window are replaced by the receipt time and flagged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resonanz.core.timestamps import EARLIEST, clamp_sent_at

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("claimed, expected, flagged", [
    (None, NOW, False),
    (NOW - timedelta(days=3), NOW - timedelta(days=3), False),
    (NOW + timedelta(minutes=4, seconds=59), NOW + timedelta(minutes=4, seconds=59), False),  # clock skew
    (NOW + timedelta(minutes=5, seconds=1), NOW, True),
    (datetime(2099, 1, 1, tzinfo=UTC), NOW, True),
    (datetime(1970, 1, 1, tzinfo=UTC), NOW, True),
    (datetime(1999, 12, 31, 23, 59, tzinfo=UTC), NOW, True),
    (datetime(2000, 1, 1, tzinfo=UTC), datetime(2000, 1, 1, tzinfo=UTC), False),  # imported history is kept
])
def test_clamping(claimed, expected, flagged):
    assert clamp_sent_at(claimed, NOW) == (expected, flagged)


def test_a_time_without_zone_is_utc_and_other_zones_compare_correctly():
    assert clamp_sent_at(datetime(2026, 11, 30, 11, 0), NOW) == (datetime(2026, 11, 30, 11, 0, tzinfo=UTC), False)
    tokyo = timezone(timedelta(hours=9))
    assert clamp_sent_at(datetime(2026, 11, 30, 21, 4, tzinfo=tokyo), NOW)[1] is False  # 12:04 UTC
    assert clamp_sent_at(datetime(2026, 11, 30, 21, 6, tzinfo=tokyo), NOW)[1] is True  # 12:06 UTC


def test_configurable_maximum_age(settings):
    settings.RESONANZ_SENT_AT_MAX_AGE_DAYS = 30
    assert clamp_sent_at(NOW - timedelta(days=29), NOW) == (NOW - timedelta(days=29), False)
    assert clamp_sent_at(NOW - timedelta(days=31), NOW) == (NOW, True)
    assert clamp_sent_at(NOW - timedelta(days=31), NOW, oldest=timedelta(days=365))[1] is False


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="time zone"):
        clamp_sent_at(NOW, datetime(2026, 1, 1))
    with pytest.raises(TypeError):
        clamp_sent_at("2026-11-30T12:00:00Z", NOW)


@given(st.datetimes(timezones=st.just(UTC)), st.integers(min_value=0, max_value=100_000))
def test_the_result_is_always_plausible_and_flagged_exactly_when_changed(claimed, days):
    oldest = timedelta(days=days) if days else None
    result, flagged = clamp_sent_at(claimed, NOW, oldest=oldest)
    assert EARLIEST <= result <= NOW + timedelta(minutes=5)
    if oldest is not None:
        assert result >= NOW - oldest
    assert flagged == (result != claimed)
    assert (not flagged) or result == NOW
