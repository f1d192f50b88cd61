"""An online spike detector for count series (mentions per hour) and share series (negative share).

Each step's observation is compared with the expected level (``baseline``: level × hour of day × day of
week, following growth) over several windows at once (5 minutes, 1 hour, 6 and 12 hours by default): a
sudden burst shows in the shortest window first, a slower swell (a day of growing talk) only in the longer
ones. For each window the
rise is measured in units of the counting noise (the Anscombe residual of a Poisson count, or the binomial
spread of a share) plus the extra noise learned for that series and window, so three posts where 0.1 were
due and 3,000 where 100 were due are judged on one scale. How rare such a rise is for this very series
(``tail``) decides: a series that bursts every day needs a bigger burst to alert than one that never does,
and no per-series threshold is needed.

An alert needs a rarity of at least ``threshold`` (3.5: about once in 3,000 steps), at least
``min_count`` items in the window and ``min_excess`` items above the expectation (a quiet product does
not alarm on three posts). After an alert the detector stays quiet for ``cooldown`` and until the rise
has ebbed (rarity below ``rearm`` × threshold in every window), so one incident gives one alert.

The whole state is a small JSON-safe dict (``to_state``/``from_state``), so a worker can persist it
between runs and feed only the new steps.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta

from .baseline import SeasonalLevel, ShareLevel, forgetting_rate
from .clock import DAY, instant
from .tail import Noise, Tail

STATE_VERSION = 2
HOUR = 3600.0
MINUTE = 60.0


def _seconds(value: float | int | timedelta, name: str) -> float:
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a non-negative duration or number, not {value!r}")
    return float(value)


@dataclass(frozen=True)
class DetectorConfig:
    """Settings of a detector; durations in seconds (or ``timedelta``). The defaults are the evaluated ones."""

    step: float = 3600.0                      # the series' fixed step (5 minutes, 1 hour, ...)
    windows: tuple[float, ...] = (5 * MINUTE, HOUR, 6 * HOUR, 12 * HOUR)  # compared windows, each ≥ one step
    threshold: float = 3.5                    # rarity (-log10 probability per step) that raises an alert
    tail_from: float = 3.5                    # scores above this feed the learned tail
    min_count: float = 10.0                   # at least this many items in the window
    min_excess: float = 5.0                   # at least this many items above the expected number
    cooldown: float = 24 * HOUR               # quiet time after an alert
    rearm: float = 0.5                        # a new alert needs every rarity below rearm × threshold first
    warmup: float = 2 * DAY                   # learn only, no alerts, for this long after the first step
    level_half_life: float = 2 * DAY          # how fast the level follows growth
    daily_half_life: float = 7 * DAY          # how fast the hour-of-day rhythm adapts
    weekly_half_life: float = 28 * DAY        # how fast the day-of-week rhythm adapts
    noise_half_life: float = 7 * DAY          # memory of the learned noise
    tail_half_life: float = 28 * DAY          # memory of the learned burstiness
    clip: float = 4.0                         # deviations beyond this many noise units are clipped when learning
    daily: bool = True                        # model the hour-of-day rhythm
    weekly: bool = True                       # model the day-of-week rhythm
    max_gap: float = DAY                      # missing steps up to this long count as zero; longer restarts
    noise_floor: float = 0.05                 # smallest extra noise assumed (log ratio for counts)

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name == "windows":
                ws = tuple(_seconds(w, "each window") for w in (v if isinstance(v, list | tuple) else [v]))
                if not ws:
                    raise ValueError("windows must name at least one duration")
                object.__setattr__(self, "windows", ws)
            elif f.type == "bool":
                if not isinstance(v, bool):
                    raise ValueError(f"{f.name} must be true or false, not {v!r}")
            else:
                object.__setattr__(self, f.name, _seconds(v, f.name))
        if self.step <= 0:
            raise ValueError("step must be longer than zero")
        if self.threshold <= 0:
            raise ValueError("threshold must be above zero")

    @property
    def window_steps(self) -> tuple[int, ...]:
        """The windows in whole steps, shortest first, without repeats (a window is at least one step)."""
        return tuple(sorted({max(1, round(w / self.step)) for w in self.windows}))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["windows"] = list(self.windows)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> DetectorConfig:
        unknown = sorted(set(d) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"unknown detector settings: {', '.join(unknown)}")
        return cls(**d)


@dataclass(frozen=True)
class Alert:
    """A spike: in the ``window`` seconds up to ``timestamp``, ``observed`` where ``expected`` was due.

    ``score`` is the rarity (-log10 of the probability per step of so large a rise in this series),
    ``z`` the rise in noise units. For a share, observed and expected are shares and ``total`` the items.
    """

    timestamp: datetime | float | str
    observed: float
    expected: float
    score: float
    z: float
    window: float
    kind: str = "count"
    total: float | None = None

    @property
    def ratio(self) -> float:
        """How many times the expected level was observed (infinite when nothing was expected)."""
        return self.observed / self.expected if self.expected > 0 else math.inf

    def to_dict(self) -> dict:
        ts = self.timestamp.isoformat() if isinstance(self.timestamp, datetime) else self.timestamp
        return {"timestamp": ts, "kind": self.kind, "observed": self.observed, "expected": self.expected,
                "ratio": None if math.isinf(self.ratio) else self.ratio, "score": self.score, "z": self.z,
                "window": self.window, "total": self.total}


@dataclass
class _Window:
    steps: int
    noise: Noise
    tail: Tail


class SpikeDetector:
    """Feed ``update(timestamp, count)`` (or ``update(timestamp, part, total)``) once per step."""

    def __init__(self, config: DetectorConfig | None = None) -> None:
        self.config = c = config or DetectorConfig()
        self.mode: str | None = None          # "count" or "share", fixed by the first update
        self.origin: float | None = None      # elapsed seconds of step 0
        self.index = -1                       # last step fed
        self.last_alert: int | None = None    # step of the last alert
        self.armed = True
        self.obs: list[float] = []            # the last max(window) steps: observed
        self.exp: list[float] = []            # ... expected
        self.tot: list[float] = []            # ... share mode: items
        self.windows: list[_Window] = []
        self.last_rarity: list[float] = []   # per window, for the last step (what a dashboard may show)
        self.counts = SeasonalLevel(c.step, c.level_half_life, c.daily_half_life, c.weekly_half_life,
                                    c.daily, c.weekly)
        self.shares = ShareLevel(c.step, c.level_half_life)

    def _start(self, mode: str) -> None:
        c = self.config
        self.mode = mode
        floor = c.noise_floor if mode == "count" else c.noise_floor / 50  # shares move in hundredths
        noise_rate = forgetting_rate(c.step, c.noise_half_life)
        tail_rate = forgetting_rate(c.step, c.tail_half_life)
        self.windows = [_Window(m, Noise(noise_rate, floor, c.clip, prior=2 * floor), Tail(c.tail_from, tail_rate))
                        for m in c.window_steps]
        self.last_rarity = [0.0] * len(self.windows)

    # --- the public step -------------------------------------------------------------------------------
    def update(self, timestamp: datetime | float | str, value: float, total: float | None = None) -> Alert | None:
        """Learn one step and return an ``Alert`` if it completes a spike. Raises ValueError on bad input."""
        value = _count(value, "value")
        mode = "count" if total is None else "share"
        if total is not None:
            total = _count(total, "total")
            if value > total:
                raise ValueError(f"value {value:g} is larger than total {total:g}: a share cannot exceed 1")
        if self.mode is not None and mode != self.mode:
            raise ValueError(f"this detector follows a {self.mode} series; it cannot take a {mode} step")
        elapsed, wall = instant(timestamp)
        c = self.config
        if self.origin is None:
            self._start(mode)
            self.origin = elapsed
            return self._step(wall, value, total, timestamp, 0)
        idx = round((elapsed - self.origin) / c.step)
        if idx <= self.index:
            raise ValueError(f"timestamp {timestamp} is not after the previous step "
                             "(steps must arrive once each, in time order)")
        missing = idx - self.index - 1
        if missing * c.step > c.max_gap:
            self.obs, self.exp, self.tot = [], [], []  # too long a silence: compare only new steps
        else:
            for k in range(missing):  # nothing was counted in those steps
                zero_total = None if total is None else 0.0
                self._step(wall - (missing - k) * c.step, 0.0, zero_total, None, self.index + 1)
        return self._step(wall, value, total, timestamp, idx)

    # --- internals -------------------------------------------------------------------------------------
    def _push(self, buf: list[float], v: float) -> None:
        buf.append(v)
        if len(buf) > self.windows[-1].steps:
            del buf[0]

    def _step(self, wall: float, x: float, total: float | None, timestamp, idx: int) -> Alert | None:
        self.index = idx
        if total is None:
            expected = self.counts.expected(wall) if self.counts.ready else x
        else:
            expected = self.shares.share() * total if self.shares.ready else x
        self._push(self.obs, x)
        self._push(self.exp, expected)
        if total is not None:
            self._push(self.tot, total)
        candidates = self._score_and_learn()
        self._learn_level(wall, x, total, expected)
        if timestamp is None:
            return None
        return self._decide(timestamp, idx, candidates)

    def _residual(self, m: int) -> tuple[float, float, float, float, float, float] | None:
        """Over the last m steps: (residual, its counting variance, extra-noise scale, obs, exp, items).

        Counts use the Anscombe residual 2(√(obs+3/8) − √(exp+3/8)), whose counting variance is 1 at any
        volume (so 3 posts where 0.1 were due and 3,000 where 100 were due are judged alike); the extra
        noise of real series is proportional to the volume. Shares use the difference of shares with the
        binomial variance.
        """
        if len(self.obs) < m:
            return None
        obs, exp = sum(self.obs[-m:]), sum(self.exp[-m:])
        if self.mode == "share":
            tot = sum(self.tot[-m:])
            if tot <= 0:
                return None
            p = (exp + 0.5) / (tot + 1)
            return (obs - exp) / tot, p * (1 - p) / tot, 1.0, obs, exp, tot
        r = 2 * (math.sqrt(obs + 0.375) - math.sqrt(exp + 0.375))
        return r, 1.0, max(exp, 1.0), obs, exp, obs

    def _score_and_learn(self) -> list[tuple[float, float, float, float, float, int]]:
        """Score every window on this step (before learning from it); the windows that could alert."""
        c = self.config
        out = []
        for i, w in enumerate(self.windows):
            res = self._residual(w.steps)
            if res is None:
                self.last_rarity[i] = 0.0
                continue
            r, v, scale, obs, exp, items = res
            z = w.noise.z(r, v, scale)
            rarity = w.tail.rarity(z)
            self.last_rarity[i] = rarity
            if items >= c.min_count and obs - exp >= c.min_excess:
                out.append((rarity, z, obs, exp, items, w.steps))
            w.noise.learn(r, v, scale)
            w.tail.learn(z)
        return out

    def _learn_level(self, wall: float, x: float, total: float | None, expected: float) -> None:
        """Learn the expected level from the observation clipped near the expectation (spikes stay out)."""
        c = self.config
        var = self.windows[0].noise.var
        if total is None:
            if self.counts.ready:
                sd = math.sqrt(expected + 1 + var * (expected + 1) ** 2)  # Poisson + extra noise
                x = max(min(max(x, expected - c.clip * sd), expected + c.clip * sd), 0.0)
            self.counts.learn(wall, x)
        else:
            if self.shares.ready and total > 0:
                p = self.shares.share()
                sd = math.sqrt(total * p * (1 - p) + var * total * total)
                x = max(min(max(x, expected - c.clip * sd), expected + c.clip * sd, total), 0.0)
            self.shares.learn(x, total)

    def _decide(self, timestamp, idx: int, candidates) -> Alert | None:
        c = self.config
        if not self.armed and max(self.last_rarity, default=0.0) < c.rearm * c.threshold:
            self.armed = True
        best = max(candidates, default=None)
        if best is None or best[0] < c.threshold or not self.armed:
            return None
        if idx * c.step < c.warmup:
            return None
        if self.last_alert is not None and (idx - self.last_alert) * c.step < c.cooldown:
            return None
        self.last_alert, self.armed = idx, False
        rarity, z, obs, exp, items, m = best
        if self.mode == "share":
            return Alert(timestamp, obs / items, exp / items, rarity, z, m * c.step, "share", items)
        return Alert(timestamp, obs, exp, rarity, z, m * c.step, "count")

    # --- persistence -----------------------------------------------------------------------------------
    def to_state(self) -> dict:
        """Everything needed to continue later, as JSON-safe plain data (a few kilobytes)."""
        return {"version": STATE_VERSION, "config": self.config.to_dict(), "mode": self.mode,
                "origin": self.origin, "index": self.index, "last_alert": self.last_alert, "armed": self.armed,
                "obs": list(self.obs), "exp": list(self.exp), "tot": list(self.tot),
                "noise": [w.noise.to_state() for w in self.windows],
                "tail": [w.tail.to_state() for w in self.windows],
                "counts": self.counts.to_state(), "shares": self.shares.to_state()}

    @classmethod
    def from_state(cls, state: dict) -> SpikeDetector:
        """Rebuild a detector saved by ``to_state``; a state from another version is refused, not guessed."""
        if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
            raise ValueError("saved detector state is missing or from another version; start a new detector")
        try:
            det = cls(DetectorConfig.from_dict(state["config"]))
            if state["mode"] is not None:
                if state["mode"] not in ("count", "share"):
                    raise ValueError(f"unknown mode {state['mode']!r}")
                det._start(state["mode"])
                if len(state["noise"]) != len(det.windows) or len(state["tail"]) != len(det.windows):
                    raise ValueError("the saved windows do not match the settings")
                for w, n, t in zip(det.windows, state["noise"], state["tail"], strict=True):
                    w.noise.load_state(n)
                    w.tail.load_state(t)
            det.origin = None if state["origin"] is None else float(state["origin"])
            det.index = int(state["index"])
            det.last_alert = None if state["last_alert"] is None else int(state["last_alert"])
            det.armed = bool(state["armed"])
            det.obs = [float(v) for v in state["obs"]]
            det.exp = [float(v) for v in state["exp"]]
            det.tot = [float(v) for v in state["tot"]]
            det.counts.load_state(state["counts"])
            det.shares.load_state(state["shares"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"saved detector state is damaged ({exc}); start a new detector") from None
        return det


def _count(v, name: str) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v < 0:
        raise ValueError(f"{name} must be a non-negative number, not {v!r}")
    return float(v)
