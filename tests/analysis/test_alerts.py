"""The spike detector on synthetic series whose truth we know: rhythm, growth, spikes, quiet products, shares."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from resonanz.analysis.alerts import Alert, DetectorConfig, SpikeDetector

START = datetime(2026, 3, 2)  # a Monday
HOUR = timedelta(hours=1)


def rhythm(t: datetime, base: float, growth_per_day: float = 0.0) -> float:
    """Mentions per hour: busy afternoons, quiet nights, calmer weekends, optional steady growth."""
    daily = 1 + 0.8 * math.sin((t.hour - 9) / 24 * 2 * math.pi)      # peak mid-afternoon, trough at night
    weekly = 0.6 if t.weekday() >= 5 else 1.0
    days = (t - START).total_seconds() / 86400
    return base * daily * weekly * (1 + growth_per_day) ** days


def hourly(days: int, base: float, seed: int = 1, growth: float = 0.0, spikes: dict[int, float] | None = None):
    """(timestamps, counts) with Poisson noise; ``spikes`` maps an hour index to a multiplier."""
    rng = np.random.default_rng(seed)
    ts, counts = [], []
    for i in range(days * 24):
        t = START + i * HOUR
        lam = rhythm(t, base, growth) * (spikes or {}).get(i, 1.0)
        ts.append(t)
        counts.append(int(rng.poisson(lam)))
    return ts, counts


def run(det: SpikeDetector, ts, counts, totals=None) -> list[tuple[int, Alert]]:
    out = []
    for i, (t, c) in enumerate(zip(ts, counts, strict=True)):
        a = det.update(t, c) if totals is None else det.update(t, c, totals[i])
        if a is not None:
            out.append((i, a))
    return out


def hourly_detector(**kw) -> SpikeDetector:
    return SpikeDetector(DetectorConfig(step=3600, **kw))


def test_rhythm_and_growth_alone_raise_no_alert():
    # four weeks with a strong day/night and weekday/weekend rhythm and 3 % growth a day (x2.3 over the run)
    ts, counts = hourly(28, base=40, growth=0.03)
    assert run(hourly_detector(), ts, counts) == []


def test_spike_alerts_once_at_its_start_with_expected_and_observed():
    spike = 21 * 24 + 14                    # day 21 (a Monday), 14:00
    ts, counts = hourly(28, base=40, spikes={spike: 4.0, spike + 1: 5.0, spike + 2: 4.0, spike + 3: 3.0})
    alerts = run(hourly_detector(), ts, counts)
    assert [i for i, _ in alerts] == [spike]
    a = alerts[0][1]
    assert a.timestamp == ts[spike] and a.kind == "count"
    assert a.observed == counts[spike]
    assert 0.6 * rhythm(ts[spike], 40) < a.expected < 1.5 * rhythm(ts[spike], 40)  # the rhythm's level
    assert a.ratio > 2.5 and a.score >= 3.0 and a.z > 3.5
    assert json.loads(json.dumps(a.to_dict()))["observed"] == a.observed


def test_same_count_is_normal_in_the_afternoon_but_a_spike_at_night():
    ts, counts = hourly(21, base=40, seed=5)
    afternoon_peak = max(counts[-48:])
    night = 20 * 24 + 3                     # last day, 03:00, when about 8 per hour are expected
    assert run(hourly_detector(), ts, counts) == []
    counts[night] = afternoon_peak
    alerts = run(hourly_detector(), ts, counts)
    assert [i for i, _ in alerts] == [night]


def test_quiet_product_does_not_alarm_on_three_posts_but_does_on_thirty():
    rng = np.random.default_rng(2)
    ts = [START + i * HOUR for i in range(24 * 21)]
    quiet = [int(v) for v in rng.poisson(0.1, len(ts))]   # one post every ten hours
    burst_at = len(ts) - 30
    three = list(quiet)
    three[burst_at] = 3
    assert run(hourly_detector(), ts, three) == []
    thirty = list(quiet)
    thirty[burst_at] = 30
    assert [i for i, _ in run(hourly_detector(), ts, thirty)] == [burst_at]


def test_cooldown_merges_one_incident_and_separates_the_next():
    a, b, c = 21 * 24 + 10, 21 * 24 + 16, 25 * 24 + 10   # b six hours after a, c four days later
    ts, counts = hourly(28, base=40, spikes={a: 6.0, b: 6.0, c: 6.0})
    assert [i for i, _ in run(hourly_detector(), ts, counts)] == [a, c]
    assert [i for i, _ in run(hourly_detector(cooldown=3600, rearm=1.0), ts, counts)] == [a, b, c]


def test_no_alert_during_warmup():
    ts, counts = hourly(10, base=40, spikes={30: 10.0, 8 * 24: 10.0})
    assert [i for i, _ in run(hourly_detector(), ts, counts)] == [8 * 24]


def test_state_survives_json_between_worker_runs():
    ts, counts = hourly(28, base=40, spikes={20 * 24 + 12: 5.0, 26 * 24 + 15: 5.0})
    whole = [(i, a.to_dict()) for i, a in run(hourly_detector(), ts, counts)]
    det = hourly_detector()
    split = []
    for start in range(0, len(ts), 100):   # a worker that wakes up every 100 hours
        for i in range(start, min(start + 100, len(ts))):
            a = det.update(ts[i], counts[i])
            if a is not None:
                split.append((i, a.to_dict()))
        saved = json.dumps(det.to_state())
        assert len(saved) < 8000
        det = SpikeDetector.from_state(json.loads(saved))
    assert len(whole) == 2 and split == whole


def test_negative_share_alerts_on_a_rise_in_share_not_in_volume():
    rng = np.random.default_rng(3)
    ts = [START + i * HOUR for i in range(24 * 21)]
    totals = [int(v) for v in rng.poisson(120, len(ts))]
    negatives = [int(rng.binomial(n, 0.1)) for n in totals]
    rise = 18 * 24 + 9
    doubled_volume = list(totals)
    doubled_volume[rise] *= 3                       # three times the posts, same mood: not a share alert
    negatives_same_mood = list(negatives)
    negatives_same_mood[rise] = int(doubled_volume[rise] * 0.1)
    assert run(hourly_detector(), ts, negatives_same_mood, doubled_volume) == []
    angry = list(negatives)
    angry[rise] = int(totals[rise] * 0.35)          # a third of the posts negative
    alerts = run(hourly_detector(), ts, angry, totals)
    assert [i for i, _ in alerts] == [rise]
    a = alerts[0][1]
    assert a.kind == "share" and a.total == totals[rise]
    assert a.observed == pytest.approx(angry[rise] / totals[rise]) and 0.07 < a.expected < 0.13


def test_share_needs_volume():
    ts = [START + i * HOUR for i in range(24 * 10)]
    totals = [4] * len(ts)
    negatives = [0] * len(ts)
    negatives[-5] = 4                               # all four posts negative in one hour: too few to judge
    assert run(hourly_detector(), ts, negatives, totals) == []


def test_missing_steps_count_as_zero_and_long_silence_restarts_windows():
    ts, counts = hourly(21, base=40)
    keep = [i for i in range(len(ts)) if not (200 <= i < 203)]   # three hours without a row
    det = hourly_detector()
    assert run(det, [ts[i] for i in keep], [counts[i] for i in keep]) == []
    assert det.index == len(ts) - 1
    later = ts[-1] + timedelta(days=3)              # beyond max_gap: no zero-filling of three days
    det.update(later, 40)
    assert det.index == len(ts) - 1 + 72 and len(det.obs) == 1


def test_daylight_saving_change_neither_skips_nor_repeats_a_step():
    berlin = ZoneInfo("Europe/Berlin")
    t0 = datetime(2026, 3, 20, tzinfo=UTC)
    det = SpikeDetector(DetectorConfig(step=3600))
    for i in range(24 * 14):                        # across 29 March 2026, when clocks go forward
        det.update((t0 + i * HOUR).astimezone(berlin), 20)
    assert det.index == 24 * 14 - 1


def test_five_minute_steps_with_iso_strings_and_epoch_seconds():
    det_iso = SpikeDetector(DetectorConfig(step=300))
    det_epoch = SpikeDetector(DetectorConfig(step=300))
    rng = np.random.default_rng(4)
    for i in range(288 * 4):
        t = START + timedelta(minutes=5 * i)
        v = int(rng.poisson(5)) if i != 288 * 3 else 200
        a = det_iso.update(t.isoformat(), v)
        b = det_epoch.update(t.replace(tzinfo=UTC).timestamp(), v)
        assert (a is None) == (b is None)
        if a is not None:
            assert a.window in (300, 3600, 21600) and a.observed >= 200 and a.ratio > 3
    assert det_iso.last_alert == 288 * 3


@pytest.mark.parametrize(("args", "message"), [
    ((START, -1), "non-negative"),
    ((START, float("nan")), "non-negative"),
    ((START, True), "non-negative"),
    ((START, 5, 3), "larger than total"),
    (("yesterday", 5), "ISO"),
    ((None, 5), "timestamp must be"),
])
def test_bad_steps_are_refused_with_a_reason(args, message):
    det = hourly_detector()
    with pytest.raises((ValueError, TypeError), match=message):
        det.update(*args)


def test_time_must_move_forward_and_mode_must_not_change():
    det = hourly_detector()
    det.update(START, 5)
    with pytest.raises(ValueError, match="not after the previous step"):
        det.update(START, 6)
    with pytest.raises(ValueError, match="not after the previous step"):
        det.update(START - HOUR, 6)
    with pytest.raises(ValueError, match="count series"):
        det.update(START + HOUR, 2, 10)
    det.update(START + HOUR, 6)                     # the refused steps changed nothing
    assert det.index == 1


def test_damaged_or_foreign_state_is_refused():
    det = hourly_detector()
    for i in range(5):
        det.update(START + i * HOUR, 10)
    state = det.to_state()
    with pytest.raises(ValueError, match="another version"):
        SpikeDetector.from_state({**state, "version": 999})
    with pytest.raises(ValueError, match="damaged"):
        SpikeDetector.from_state({**state, "noise": []})
    with pytest.raises(ValueError, match="damaged"):
        SpikeDetector.from_state({k: v for k, v in state.items() if k != "counts"})
    with pytest.raises(ValueError, match="unknown detector settings"):
        SpikeDetector.from_state({**state, "config": {**state["config"], "sensitivity": 3}})


def test_config_validates_and_accepts_timedeltas():
    cfg = DetectorConfig(step=timedelta(minutes=5), windows=[timedelta(minutes=5), timedelta(hours=1)],
                         cooldown=timedelta(hours=6))
    assert cfg.step == 300 and cfg.window_steps == (1, 12) and cfg.cooldown == 21600
    assert DetectorConfig(step=3600).window_steps == (1, 6, 12)     # 5 min and 1 h both round to one step
    with pytest.raises(ValueError, match="step"):
        DetectorConfig(step=0)
    with pytest.raises(ValueError, match="cooldown"):
        DetectorConfig(cooldown=-5)
    with pytest.raises(ValueError, match="daily"):
        DetectorConfig(daily="yes")
