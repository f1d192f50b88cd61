"""``resonanz eval alerts``: replay labelled series through the spike detector and two simple peers.

The measure is the one defined in ``shared/data/nab-tweets/README.md``. For each series the counts are
replayed in time order (each detector sees only the past) and the times of the alarms are recorded; the
first 15 % of the points are skipped (alarms there are not counted: NAB's probationary period). Then

* recall: the share of windows with at least one alarm inside the window;
* early recall: the share of windows with an alarm in the first half of the window;
* false alarms per week: alarm events outside every window per week of data, where alarms less than
  6 hours apart count as one event.

The overall figures are sums over the series (windows hit / windows, events / weeks). "Weeks of data"
are those scored, from the first point after the skipped part to the last point. Window bounds are
inclusive, and the first half ends at the window's midpoint, inclusive. A window that ends inside the
skipped part cannot be hit; the report counts such windows so that the best possible recall is visible.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import AnalysisError, DataError
from .clock import DAY
from .detector import DetectorConfig, SpikeDetector
from .peers import RollingZScore, SeasonalMedian
from .series import Series, read_series, read_windows

PROBATION = 0.15
MERGE_GAP = 6 * 3600.0
WEEK = 7 * DAY
TARGET = {"recall": 0.90, "early_recall": 0.80, "false_alarms_per_week": 0.5}


@dataclass
class Score:
    """One system on one series (or summed over several): the counts behind the three figures."""

    series: str
    windows: int = 0
    hit: int = 0
    early: int = 0
    false_alarm_events: int = 0
    weeks: float = 0.0
    alarms: int = 0
    unreachable_windows: int = 0      # windows over before the first scored point

    @property
    def recall(self) -> float:
        return self.hit / self.windows if self.windows else math.nan

    @property
    def early_recall(self) -> float:
        return self.early / self.windows if self.windows else math.nan

    @property
    def false_alarms_per_week(self) -> float:
        return self.false_alarm_events / self.weeks if self.weeks else math.nan

    def to_dict(self) -> dict:
        return {**asdict(self), "recall": _r(self.recall), "early_recall": _r(self.early_recall),
                "false_alarms_per_week": _r(self.false_alarms_per_week), "weeks": _r(self.weeks)}

    @classmethod
    def total(cls, scores: list[Score], name: str = "overall") -> Score:
        out = cls(name)
        for s in scores:
            out.windows += s.windows
            out.hit += s.hit
            out.early += s.early
            out.false_alarm_events += s.false_alarm_events
            out.weeks += s.weeks
            out.alarms += s.alarms
            out.unreachable_windows += s.unreachable_windows
        return out


def _r(x: float) -> float | None:
    return None if math.isnan(x) else round(x, 4)


def skipped_points(n: int, probation: float = PROBATION, cap: int | None = None) -> int:
    """How many leading points are skipped: the first ``probation`` share (NAB also caps it at 750)."""
    k = math.floor(probation * n)
    return min(k, cap) if cap is not None else k


def score_alarms(name: str, elapsed: list[float], alarm_steps: list[int], windows: list[tuple[float, float]],
                 probation: float = PROBATION, cap: int | None = None) -> Score:
    """Score alarms (indices into ``elapsed``) against labelled windows by the README's measure."""
    first = skipped_points(len(elapsed), probation, cap)
    if first >= len(elapsed):
        raise DataError(f"{name}: the series is too short to score after skipping {first} points")
    times = sorted(elapsed[i] for i in alarm_steps if i >= first)
    start = elapsed[first]
    s = Score(name, windows=len(windows), weeks=(elapsed[-1] - start) / WEEK, alarms=len(times))
    for a, b in windows:
        s.unreachable_windows += b < start
        s.hit += any(a <= t <= b for t in times)
        s.early += any(a <= t <= a + (b - a) / 2 for t in times)
    outside = [t for t in times if not any(a <= t <= b for a, b in windows)]
    s.false_alarm_events = sum(1 for k, t in enumerate(outside) if k == 0 or t - outside[k - 1] >= MERGE_GAP)
    return s


# --- replay --------------------------------------------------------------------------------------------

Factory = Callable[[float], object]


def systems(settings: dict | None = None, peers: bool = True) -> dict[str, Factory]:
    """Name → factory(step) of every detector replayed: ours first, then the peers."""
    cfg = dict(settings or {})

    def ours(step: float) -> SpikeDetector:
        return SpikeDetector(DetectorConfig(**{**cfg, "step": step}))

    out: dict[str, Factory] = {"resonanz": ours}
    if peers:
        base = DetectorConfig(**{**cfg, "step": 300})
        common = {"cooldown": base.cooldown, "min_count": base.min_count, "min_excess": base.min_excess,
                  "warmup": base.warmup}
        out[RollingZScore.name] = lambda step: RollingZScore(step, **common)
        out[SeasonalMedian.name] = lambda step: SeasonalMedian(step, **common)
    return out


def replay(series: Series, detector, progress: Callable[[int], None] | None = None) -> list[int]:
    """Feed every point in order; the indices of the points at which the detector alarmed."""
    alarms = []
    totals = series.totals
    for i, (ts, v) in enumerate(zip(series.timestamps, series.values, strict=True)):
        alert = detector.update(ts, v) if totals is None else detector.update(ts, v, totals[i])
        if alert is not None:
            alarms.append(i)
        if progress is not None and i % 1000 == 999:
            progress(1000)
    if progress is not None:
        progress(len(series.values) % 1000)
    return alarms


def _tqdm_progress(desc: str, total: int, unit: str):
    from tqdm import tqdm

    bar = tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=False)

    class _Bar:
        def __call__(self, n: int = 1) -> None:
            bar.update(n)

        def __enter__(self):
            return self

        def __exit__(self, *exc) -> None:
            bar.close()

    return _Bar()


def run(series_paths: list[Path], windows_path: Path, settings: dict | None = None, peers: bool = True,
        probation: float = PROBATION, cap: int | None = None, progress_factory=None) -> dict:
    """Evaluate every system on every series; the report as plain data."""
    windows = read_windows(windows_path)
    series = [read_series(p) for p in series_paths]
    for s in series:
        if s.name not in windows:
            raise DataError(f"{windows_path}: no windows for {s.name} (write \"{s.name}\": [] if it has none)")
    named = systems(settings, peers)
    total = sum(len(s.values) for s in series) * len(named)
    make_bar = progress_factory or _tqdm_progress
    report = {"probation": probation, "probation_cap": cap, "merge_hours": MERGE_GAP / 3600, "target": TARGET,
              "settings": DetectorConfig(**{**(settings or {}), "step": 300}).to_dict(), "systems": []}
    del report["settings"]["step"]
    with make_bar("replaying series", total, "steps") as bar:
        for name, factory in named.items():
            scores = []
            for s in series:
                alarms = replay(s, factory(s.step), bar)
                scores.append(score_alarms(s.name, s.elapsed, alarms, windows[s.name], probation, cap))
            overall = Score.total(scores)
            report["systems"].append({"name": name, "series": [x.to_dict() for x in scores],
                                      "overall": overall.to_dict(), "meets_target": _meets(overall)})
    return report


def _meets(s: Score) -> bool:
    return (s.recall >= TARGET["recall"] and s.early_recall >= TARGET["early_recall"]
            and s.false_alarms_per_week <= TARGET["false_alarms_per_week"])


def format_table(report: dict) -> str:
    head = f"{'system':<38} {'series':<26} {'recall':>13} {'early recall':>13} {'false alarms/week':>20}"
    lines = [head, "-" * len(head)]
    for sysr in report["systems"]:
        for row in [*sysr["series"], sysr["overall"]]:
            lines.append(
                f"{sysr['name']:<38} {row['series']:<26} "
                f"{_fmt(row['recall']):>5} ({row['hit']:>2}/{row['windows']:<2}) "
                f"{_fmt(row['early_recall']):>5} ({row['early']:>2}/{row['windows']:<2}) "
                f"{_fmt(row['false_alarms_per_week']):>5} ({row['false_alarm_events']:>2}/{row['weeks']:5.1f} wk)")
        lines.append("")
    ours = report["systems"][0]["overall"]
    if ours["unreachable_windows"]:
        best = (ours["windows"] - ours["unreachable_windows"]) / ours["windows"]
        lines.append(f"{ours['unreachable_windows']} window(s) end inside the skipped first "
                     f"{report['probation']:.0%} of their series: no detector can hit them "
                     f"(best possible recall {best:.2f}).")
    t = report["target"]
    lines.append(f"target: recall >= {t['recall']}, early recall >= {t['early_recall']}, "
                 f"false alarms/week <= {t['false_alarms_per_week']}; "
                 f"resonanz {'meets' if report['systems'][0]['meets_target'] else 'misses'} it.")
    return "\n".join(lines)


def _fmt(x: float | None) -> str:
    return "  -  " if x is None else f"{x:.2f}"


def _setting(text: str) -> tuple[str, object]:
    key, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key.strip(), json.loads(value)
    except json.JSONDecodeError:
        raise argparse.ArgumentTypeError(f"{key}: {value!r} is not a number, true/false or a JSON list") from None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="resonanz eval alerts", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--series", nargs="+", required=True, type=Path, metavar="FILE",
                   help="CSV files of timestamp,value (a third column 'total' makes a share series)")
    p.add_argument("--windows", required=True, type=Path, metavar="FILE",
                   help='JSON {"<series file name>": [["start", "end"], ...]}')
    p.add_argument("--set", dest="settings", action="append", type=_setting, default=[], metavar="KEY=VALUE",
                   help="override a detector setting (durations in seconds), e.g. --set threshold=7")
    p.add_argument("--probation", type=float, default=PROBATION,
                   help="share of leading points skipped (default 0.15, as the README defines)")
    p.add_argument("--probation-cap", type=int, default=None, metavar="POINTS",
                   help="skip at most this many points (NAB's own scorer caps at 750)")
    p.add_argument("--no-peers", action="store_true", help="replay only our detector")
    p.add_argument("--json", action="store_true", help="print one JSON object on the last line")
    return p


def main(argv: list[str] | None = None, progress_factory=None) -> int:
    args = build_parser().parse_args(argv)
    if not 0 <= args.probation < 1:
        print("error: --probation must be at least 0 and below 1", file=sys.stderr)
        return 2
    if any(key == "step" for key, _ in args.settings):
        print("error: the step is read from each series file; it cannot be set", file=sys.stderr)
        return 2
    try:
        report = run(args.series, args.windows, dict(args.settings), not args.no_peers, args.probation,
                     args.probation_cap, progress_factory)
    except (AnalysisError, OSError, TypeError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(format_table(report))
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
