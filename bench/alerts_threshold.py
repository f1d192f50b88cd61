"""How the early-warning threshold was chosen: the curve over thresholds, and leave-one-series-out.

Usage: .venv/bin/python bench/alerts_threshold.py --series ../shared/data/nab-tweets/*.csv \
           --windows ../shared/data/nab-tweets/windows.json [--set KEY=VALUE ...] [--probation-cap 750]

Each threshold replays every series through the real detector (``resonanz eval alerts`` code, no shortcut)
and scores it with the README's measure. Leave-one-series-out: for each series, the threshold that scores
best on the *other* series (most windows hit plus hit early, at most 0.5 false alarms a week; ties go to
fewer false alarms) is applied to it; the held-out results, summed, estimate what the setting does on a
series it was not chosen on. Other companies' series are unseen series, so that is the figure to trust.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from resonanz.analysis.alerts.evaluate import PROBATION, Score, _setting, run


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--series", nargs="+", type=Path, required=True)
    ap.add_argument("--windows", type=Path, required=True)
    ap.add_argument("--set", dest="settings", action="append", type=_setting, default=[])
    ap.add_argument("--thresholds", type=float, nargs="+",
                    default=[3.0, 3.125, 3.25, 3.375, 3.5, 3.625, 3.75, 3.875, 4.0])
    ap.add_argument("--probation-cap", type=int, default=None)
    ap.add_argument("--budget", type=float, default=0.5, help="false alarms per week allowed")
    args = ap.parse_args(argv)
    scores: dict[float, dict[str, Score]] = {}
    for t in args.thresholds:
        report = run(args.series, args.windows, {**dict(args.settings), "threshold": t}, peers=False,
                     probation=PROBATION, cap=args.probation_cap, progress_factory=_quiet)
        scores[t] = {r["series"]: Score(**{k: r[k] for k in ("series", "windows", "hit", "early",
                                                               "false_alarm_events", "weeks", "alarms",
                                                               "unreachable_windows")})
                     for r in report["systems"][0]["series"]}
        s = Score.total(list(scores[t].values()))
        print(f"threshold {t:6.3f}: recall {s.recall:.2f} ({s.hit}/{s.windows}) early {s.early_recall:.2f} "
              f"false alarms/week {s.false_alarms_per_week:.2f} ({s.false_alarm_events})", flush=True)
    names = list(next(iter(scores.values())))
    held = []
    for h in names:
        def merit(t, h=h):
            s = Score.total([scores[t][n] for n in names if n != h])
            return (s.false_alarms_per_week <= args.budget, s.hit + s.early, -s.false_alarm_events)
        best = max(args.thresholds, key=merit)
        held.append(scores[best][h])
        print(f"held out {h}: threshold chosen on the others {best} -> hit {held[-1].hit}/{held[-1].windows}, "
              f"early {held[-1].early}, false alarm events {held[-1].false_alarm_events}")
    s = Score.total(held)
    print(f"leave-one-series-out: recall {s.recall:.2f} early recall {s.early_recall:.2f} "
          f"false alarms/week {s.false_alarms_per_week:.2f}")
    print("command: .venv/bin/python bench/alerts_threshold.py " + " ".join(argv or sys.argv[1:]))
    return 0


class _quiet:
    def __init__(self, *a, **k) -> None:
        pass

    def __call__(self, n: int = 1) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass


if __name__ == "__main__":
    raise SystemExit(main())
