"""The expected level of a series: what the detector compares each new step against.

Counts follow the day and the week (a brand is discussed at lunch, little at night, less on Sunday) and
drift as a product grows, so the expected count is ``level × hour-of-day factor × day-of-week factor``,
a multiplicative Holt-Winters model with exponential forgetting. The factors are learned from what the
detector sees (nothing to configure per series). A share (negative posts out of all posts) has no such
rhythm worth modelling at this size, so its expected value is a forgetting average of the share.

Each slot starts as a plain running mean and only then forgets at its configured half-life, so the first
day already gives a usable profile. Spikes are clipped before they are learned (see ``SpikeDetector``), so
an incident does not teach the detector that incidents are normal; a lasting new level is absorbed slowly.
"""

from __future__ import annotations

import math

from .clock import DAY, day_of_week, hour_of_day

HOURS = 24
DAYS = 7
MIN_FACTOR = 0.05  # a slot where nothing ever happens still gets a small expectation, never a division by 0


def forgetting_rate(step: float, half_life: float, share_of_time: float = 1.0) -> float:
    """Per-update weight of an exponential average whose memory halves after ``half_life`` seconds.

    A slot updated only a share of the time (one hour of the day: 1/24) gets fewer updates per half-life.
    """
    updates = max(half_life * share_of_time / step, 1.0)
    return 1.0 - 0.5 ** (1.0 / updates)


class SeasonalLevel:
    """Expected count per step: level × hour-of-day profile (interpolated) × day-of-week profile."""

    def __init__(self, step: float, level_half_life: float, daily_half_life: float, weekly_half_life: float,
                 daily: bool = True, weekly: bool = True) -> None:
        self.daily = daily and step < DAY / 2     # a daily series has no hour of day
        self.weekly = weekly and step <= DAY
        self.a_level = forgetting_rate(step, level_half_life)
        self.a_daily = forgetting_rate(step, daily_half_life, 1 / HOURS)
        self.a_weekly = forgetting_rate(step, weekly_half_life, 1 / DAYS)
        self.level = 0.0
        self.n_level = 0.0
        self.hour = [1.0] * HOURS
        self.n_hour = [0.0] * HOURS
        self.day = [1.0] * DAYS
        self.n_day = [0.0] * DAYS

    # --- state -----------------------------------------------------------------------------------------
    def to_state(self) -> dict:
        return {"level": self.level, "n_level": self.n_level, "hour": self.hour, "n_hour": self.n_hour,
                "day": self.day, "n_day": self.n_day}

    def load_state(self, s: dict) -> None:
        self.level, self.n_level = float(s["level"]), float(s["n_level"])
        self.hour, self.n_hour = _floats(s["hour"], HOURS), _floats(s["n_hour"], HOURS)
        self.day, self.n_day = _floats(s["day"], DAYS), _floats(s["n_day"], DAYS)

    # --- model -----------------------------------------------------------------------------------------
    @property
    def ready(self) -> bool:
        return self.n_level > 0

    def _hour_slots(self, wall: float) -> tuple[int, int, float]:
        h = hour_of_day(wall) - 0.5  # slot j is centred on the middle of hour j
        j0 = math.floor(h)
        return j0 % HOURS, (j0 + 1) % HOURS, h - j0

    def hour_factor(self, wall: float) -> float:
        if not self.daily:
            return 1.0
        j0, j1, f = self._hour_slots(wall)
        return (1 - f) * self.hour[j0] + f * self.hour[j1]

    def day_factor(self, wall: float) -> float:
        return self.day[day_of_week(wall)] if self.weekly else 1.0

    def expected(self, wall: float) -> float:
        return self.level * self.hour_factor(wall) * self.day_factor(wall)

    def learn(self, wall: float, x: float) -> None:
        hf, df = self.hour_factor(wall), self.day_factor(wall)
        self.n_level += 1
        self.level += max(self.a_level, 1 / self.n_level) * (x / (hf * df) - self.level)
        if self.level <= 1e-12:
            self.level = 0.0
            return  # nothing to learn about the shape of silence
        if self.daily:
            j0, j1, f = self._hour_slots(wall)
            err = x / (self.level * df) - hf
            for j, w in ((j0, 1 - f), (j1, f)):
                if w > 0:
                    self.n_hour[j] += w
                    self.hour[j] = max(self.hour[j] + max(self.a_daily, 1 / self.n_hour[j]) * w * err, MIN_FACTOR)
            _normalise(self, "hour", self.n_hour)
        if self.weekly:
            d = day_of_week(wall)
            self.n_day[d] += 1
            target = x / (self.level * self.hour_factor(wall))
            self.day[d] = max(self.day[d] + max(self.a_weekly, 1 / self.n_day[d]) * (target - self.day[d]),
                              MIN_FACTOR)
            _normalise(self, "day", self.n_day)


def _normalise(model: SeasonalLevel, name: str, seen: list[float]) -> None:
    """Keep a profile's mean at 1 (the level carries the size) once every slot has been seen."""
    if min(seen) <= 0:
        return
    profile = getattr(model, name)
    mean = sum(profile) / len(profile)
    if mean > 0 and abs(mean - 1) > 1e-9:
        setattr(model, name, [v / mean for v in profile])
        model.level *= mean


class ShareLevel:
    """Expected share (for example negative posts out of all posts) as a forgetting ratio of two sums."""

    def __init__(self, step: float, half_life: float) -> None:
        self.a = forgetting_rate(step, half_life)
        self.part = 0.0
        self.whole = 0.0
        self.n = 0.0

    def to_state(self) -> dict:
        return {"part": self.part, "whole": self.whole, "n": self.n}

    def load_state(self, s: dict) -> None:
        self.part, self.whole, self.n = float(s["part"]), float(s["whole"]), float(s["n"])

    @property
    def ready(self) -> bool:
        return self.whole > 0

    def share(self) -> float:
        return self.part / self.whole if self.whole > 0 else 0.0

    def learn(self, part: float, whole: float) -> None:
        self.n += 1
        a = max(self.a, 1 / self.n)
        self.part += a * (part - self.part)
        self.whole += a * (whole - self.whole)


def _floats(values, n: int) -> list[float]:
    out = [float(v) for v in values]
    if len(out) != n:
        raise ValueError(f"expected {n} values in the saved profile, found {len(out)}")
    return out


__all__ = ["DAY", "SeasonalLevel", "ShareLevel", "forgetting_rate"]
