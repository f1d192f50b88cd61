"""Two simple detectors that ``resonanz eval alerts`` replays beside ours, through the same interface.

* ``RollingZScore``: how many standard deviations the step lies above the mean of the previous day.
* ``SeasonalMedian``: how far the step lies above the median of the same time of day over the previous
  week, in units of the spread (MAD) of those values: a seasonal baseline without any learning.

They share the minimum volume, the cooldown and the warm-up of our detector, so the comparison is about
the model. Their thresholds are the best each reached on the five NAB tweet series at no more than 0.5
false alarms a week (z ≥ 20 and ≥ 30 spreads; the textbook 3-4 gives several false alarms a day there),
chosen on the same data they are scored on: a generous comparison for the peers.
"""

from __future__ import annotations

import math
import statistics
from collections import deque

from .clock import DAY, instant
from .detector import Alert


class _Peer:
    name = "peer"

    def __init__(self, step: float, threshold: float, cooldown: float = DAY, min_count: float = 10.0,
                 min_excess: float = 5.0, warmup: float = 2 * DAY) -> None:
        self.step, self.threshold, self.cooldown, self.warmup = step, threshold, cooldown, warmup
        self.min_count, self.min_excess = min_count, min_excess
        self.origin: float | None = None
        self.last_alert = -math.inf
        self.last_index = -1
        self.values: deque[float] = deque(maxlen=2)

    def _index(self, timestamp) -> int:
        """The step number; steps missing since the last one count as zero, as in our detector."""
        elapsed, _ = instant(timestamp)
        if self.origin is None:
            self.origin = elapsed
        idx = round((elapsed - self.origin) / self.step)
        if idx <= self.last_index:
            raise ValueError(f"timestamp {timestamp} is not after the previous step")
        for _ in range(min(idx - self.last_index - 1, self.values.maxlen or 0)):
            self._push(0.0)
        self.last_index = idx
        return idx

    def _push(self, v: float) -> None:
        self.values.append(v)

    def _maybe(self, timestamp, idx: int, x: float, expected: float | None, z: float | None) -> Alert | None:
        if expected is None or z is None or z < self.threshold:
            return None
        if x < self.min_count or x - expected < self.min_excess or idx * self.step < self.warmup:
            return None
        if (idx - self.last_alert) * self.step < self.cooldown:
            return None
        self.last_alert = idx
        return Alert(timestamp, x, expected, z, z, self.step, "count")


class RollingZScore(_Peer):
    name = "rolling z-score (1 day)"

    def __init__(self, step: float, threshold: float = 20.0, window: float = DAY, **kw) -> None:
        super().__init__(step, threshold, **kw)
        self.values: deque[float] = deque(maxlen=max(2, round(window / step)))
        self.total = 0.0
        self.squares = 0.0

    def _push(self, v: float) -> None:
        if len(self.values) == self.values.maxlen:
            old = self.values[0]
            self.total -= old
            self.squares -= old * old
        self.values.append(v)
        self.total += v
        self.squares += v * v

    def update(self, timestamp, value: float, total: float | None = None) -> Alert | None:
        idx = self._index(timestamp)
        z = expected = None
        n = len(self.values)
        if n == self.values.maxlen:
            expected = self.total / n
            sd = math.sqrt(max(self.squares / n - expected * expected, 0.0))
            z = (value - expected) / max(sd, 1.0)
        self._push(float(value))
        return self._maybe(timestamp, idx, value, expected, z)


class SeasonalMedian(_Peer):
    name = "seasonal median (same time, 7 days)"

    def __init__(self, step: float, threshold: float = 30.0, days: int = 7, **kw) -> None:
        super().__init__(step, threshold, **kw)
        self.period = max(1, round(DAY / step))
        self.values: deque[float] = deque(maxlen=self.period * days)
        self.days = days

    def update(self, timestamp, value: float, total: float | None = None) -> Alert | None:
        idx = self._index(timestamp)
        z = expected = None
        if len(self.values) == self.values.maxlen:
            same = [self.values[-self.period * k] for k in range(1, self.days + 1)]
            expected = statistics.median(same)
            mad = statistics.median(abs(v - expected) for v in same)
            z = (value - expected) / (1.4826 * mad + math.sqrt(expected + 1))
        self._push(float(value))
        return self._maybe(timestamp, idx, value, expected, z)
