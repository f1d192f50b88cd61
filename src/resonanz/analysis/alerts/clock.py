"""Timestamps as the detector needs them: elapsed time for the step count, wall-clock time for the rhythm.

A company's customers keep local hours, so the daily and weekly rhythm is read from the wall clock of the
timestamp as given (pass aware datetimes in the company's time zone), while steps are counted in elapsed
seconds, so a daylight-saving change neither skips nor repeats a step.
"""

from __future__ import annotations

import math
from datetime import datetime

_EPOCH = datetime(1970, 1, 1)
DAY = 86400.0
WEEK = 7 * DAY


def instant(timestamp: datetime | float | int | str) -> tuple[float, float]:
    """(elapsed seconds since 1970, wall-clock seconds since 1970) of a datetime, ISO string or epoch."""
    if isinstance(timestamp, str):
        try:
            timestamp = datetime.fromisoformat(timestamp.strip())
        except ValueError:
            raise ValueError(f"timestamp {timestamp!r} is not an ISO date and time") from None
    if isinstance(timestamp, datetime):
        wall = (timestamp.replace(tzinfo=None) - _EPOCH).total_seconds()
        return (timestamp.timestamp() if timestamp.tzinfo else wall), wall
    if isinstance(timestamp, bool) or not isinstance(timestamp, int | float):
        raise TypeError(f"timestamp must be a datetime, an ISO string or epoch seconds, not {type(timestamp).__name__}")
    if not math.isfinite(timestamp):
        raise ValueError(f"timestamp {timestamp!r} is not a finite number")
    return float(timestamp), float(timestamp)


def hour_of_day(wall: float) -> float:
    return (wall % DAY) / 3600.0


def day_of_week(wall: float) -> int:
    """Monday = 0 (1 January 1970 was a Thursday)."""
    return int((wall // DAY + 3) % 7)
