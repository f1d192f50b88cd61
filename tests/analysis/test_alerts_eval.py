"""`resonanz eval alerts`: the README's measure on hand-counted cases, and the command on synthetic files."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import numpy as np
import pytest

from resonanz.analysis.alerts.evaluate import Score, main, score_alarms, skipped_points

STEP = 300.0
WEEK = 7 * 86400


def test_measure_counts_hits_early_hits_and_merged_false_alarms():
    t = [i * STEP for i in range(1000)]          # 1,000 five-minute points; the first 150 are skipped
    windows = [(t[100], t[200]), (t[400], t[500]), (t[700], t[800])]
    alarms = [
        120,        # inside window 1 but in the skipped part: not counted at all
        190,        # window 1, second half: a hit, not early
        450,        # window 2 exactly at its midpoint: a hit and early (the first half includes the midpoint)
        600, 610,   # outside, 50 minutes apart: one false-alarm event
        690,        # 80 steps = 6 h 40 min after 610: a second event
        900,        # a third
        130,        # outside every window but skipped
    ]
    s = score_alarms("x", t, alarms, windows)
    assert (s.windows, s.hit, s.early, s.false_alarm_events, s.alarms) == (3, 2, 1, 3, 6)
    assert s.weeks == pytest.approx((t[-1] - t[150]) / WEEK)
    assert s.recall == pytest.approx(2 / 3) and s.early_recall == pytest.approx(1 / 3)
    assert s.unreachable_windows == 0


def test_alarms_less_than_six_hours_apart_chain_into_one_event():
    t = [i * STEP for i in range(2000)]
    chain = [300, 360, 420, 480]                 # each 5 h after the one before: one event over 15 hours
    assert score_alarms("x", t, chain, []).false_alarm_events == 1
    assert score_alarms("x", t, [300, 372], []).false_alarm_events == 2   # exactly 6 h apart: two


def test_window_over_before_scoring_starts_is_reported_unreachable():
    t = [i * STEP for i in range(1000)]
    s = score_alarms("x", t, [50, 500], [(t[10], t[60]), (t[450], t[550])])
    assert (s.hit, s.unreachable_windows) == (1, 1)
    nab = score_alarms("x", t, [50, 500], [(t[10], t[60]), (t[450], t[550])], probation=0.15, cap=20)
    assert (nab.hit, nab.unreachable_windows) == (2, 0)
    assert skipped_points(15902) == 2385 and skipped_points(15902, cap=750) == 750


def test_overall_figures_are_sums_not_means():
    a = Score("a", windows=4, hit=3, early=2, false_alarm_events=1, weeks=6.0)
    b = Score("b", windows=1, hit=0, early=0, false_alarm_events=5, weeks=1.0)
    total = Score.total([a, b])
    assert total.recall == pytest.approx(3 / 5) and total.early_recall == pytest.approx(2 / 5)
    assert total.false_alarms_per_week == pytest.approx(6 / 7)


def write_series(path, start: datetime, counts, total=None):
    lines = ["timestamp,value" + (",total" if total else "")]
    for i, c in enumerate(counts):
        ts = (start + timedelta(seconds=STEP * i)).strftime("%Y-%m-%d %H:%M:%S")
        lines.append(f"{ts},{c}" + (f",{total[i]}" if total else ""))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def labelled(tmp_path):
    """Two weeks of five-minute counts with a day/night rhythm and two bursts; the first burst and a quiet
    day are labelled, so the right answer is: one hit (early), one miss, one false alarm."""
    rng = np.random.default_rng(11)
    start = datetime(2026, 3, 2)
    n = 288 * 14
    hours = (np.arange(n) * STEP / 3600) % 24
    lam = 6 * (1 + 0.8 * np.sin((hours - 9) / 24 * 2 * np.pi))
    counts = rng.poisson(lam)
    bursts = {288 * 8 + 150: 20, 288 * 11 + 160: 20}   # the second one is not labelled
    for i, mult in bursts.items():
        counts[i:i + 6] = rng.poisson(lam[i:i + 6] * mult)
    path = write_series(tmp_path / "brand.csv", start, counts.tolist())
    windows = {"brand.csv": []}
    for i in (288 * 8 + 150, 288 * 13 + 100):          # the first burst, and a quiet day
        centre = start + timedelta(seconds=STEP * i)
        windows["brand.csv"].append([str(centre - timedelta(hours=12)), str(centre + timedelta(hours=12))])
    wpath = tmp_path / "windows.json"
    wpath.write_text(json.dumps(windows), encoding="utf-8")
    return path, wpath


def last_json(capsys) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_command_replays_ours_and_two_peers_and_prints_the_three_figures(labelled, capsys):
    series, windows = labelled
    assert main(["--series", str(series), "--windows", str(windows), "--json"]) == 0
    report = last_json(capsys)
    names = [s["name"] for s in report["systems"]]
    assert names[0] == "resonanz" and len(names) == 3
    assert any("z-score" in n for n in names) and any("seasonal" in n for n in names)
    ours = report["systems"][0]
    assert [r["series"] for r in ours["series"]] == ["brand.csv"]
    o = ours["overall"]
    assert (o["hit"], o["early"], o["windows"]) == (1, 1, 2)            # the labelled burst, at its start
    assert o["false_alarm_events"] == 1                                  # the unlabelled burst
    assert o["recall"] == 0.5 and o["early_recall"] == 0.5
    assert o["false_alarms_per_week"] == pytest.approx(1 / o["weeks"], rel=1e-3)
    assert report["settings"]["threshold"] == 3.5 and "step" not in report["settings"]


def test_command_table_and_settings_override(labelled, capsys):
    series, windows = labelled
    assert main(["--series", str(series), "--windows", str(windows), "--no-peers", "--set", "threshold=50"]) == 0
    out = capsys.readouterr().out
    assert "recall" in out and "false alarms/week" in out and "brand.csv" in out and "overall" in out
    assert "0.00 ( 0/2 )" in out                                         # nothing is that rare
    assert "z-score" not in out
    assert main(["--series", str(series), "--windows", str(windows), "--set", "step=60"]) == 2
    assert main(["--series", str(series), "--windows", str(windows), "--set", "sensitivity=3"]) == 2
    assert "sensitivity" in capsys.readouterr().err


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "not valid JSON"),
    ('{"brand.csv": [["2026-03-02 10:00", "2026-03-01 10:00"]]}', "ends before it starts"),
    ('{"brand.csv": [["soon", "later"]]}', "not an ISO date"),
    ('{"other.csv": []}', "no windows for brand.csv"),
])
def test_bad_windows_file_is_refused_with_a_reason(labelled, tmp_path, capsys, content, message):
    series, _ = labelled
    bad = tmp_path / "bad.json"
    bad.write_text(content, encoding="utf-8")
    assert main(["--series", str(series), "--windows", str(bad)]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(("rows", "message"), [
    ("timestamp,value\n2026-03-02 10:00,5\n2026-03-02 09:55,5\n", "not after the line before"),
    ("timestamp,value\n2026-03-02 10:00,5\n2026-03-02 10:05,-3\n", "non-negative"),
    ("timestamp,value\n2026-03-02 10:00,5\n2026-03-02 10:05,many\n", "not a number"),
    ("timestamp,value\nyesterday,5\ntoday,6\n", "neither an ISO date"),
    ("timestamp,value,total\n2026-03-02 10:00,5,3\n2026-03-02 10:05,1,3\n", "larger than total"),
    ("timestamp,value\n2026-03-02 10:00,5\n", "at least two points"),
    ("", "empty"),
])
def test_bad_series_file_is_refused_with_file_and_line(tmp_path, capsys, rows, message):
    path = tmp_path / "s.csv"
    path.write_text(rows, encoding="utf-8")
    windows = tmp_path / "w.json"
    windows.write_text('{"s.csv": []}', encoding="utf-8")
    assert main(["--series", str(path), "--windows", str(windows)]) == 2
    err = capsys.readouterr().err
    assert message in err and "s.csv" in err


def test_share_series_and_epoch_timestamps_without_header(tmp_path, capsys):
    rng = np.random.default_rng(5)
    n = 288 * 10
    total = rng.poisson(40, n)
    neg = rng.binomial(total, 0.1)
    spike = 288 * 8 + 100
    neg[spike:spike + 12] = (total[spike:spike + 12] * 0.6).astype(int)
    t0 = int(datetime(2026, 3, 2).timestamp())
    path = tmp_path / "negative.csv"
    path.write_text("".join(f"{t0 + int(STEP) * i},{neg[i]},{total[i]}\n" for i in range(n)), encoding="utf-8")
    windows = tmp_path / "w.json"
    windows.write_text(json.dumps({"negative.csv": [[t0 + STEP * (spike - 60), t0 + STEP * (spike + 60)]]}),
                       encoding="utf-8")
    assert main(["--series", str(path), "--windows", str(windows), "--no-peers", "--json"]) == 0
    o = last_json(capsys)["systems"][0]["overall"]
    assert (o["hit"], o["early"], o["false_alarm_events"]) == (1, 1, 0)


def test_django_command_dispatches_with_a_progress_bar(labelled, capsys):
    from resonanz.understanding.management.commands.eval import Command

    series, windows = labelled
    Command().run_from_argv(["resonanz", "eval", "alerts", "--series", str(series), "--windows", str(windows),
                             "--no-peers", "--json"])
    captured = capsys.readouterr()
    assert json.loads(captured.out.strip().splitlines()[-1])["systems"][0]["overall"]["hit"] == 1
    assert "replaying series" in captured.err                             # the tqdm bar on stderr
