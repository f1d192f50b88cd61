"""Build an intent set with an "everything else" class from the shared data (none of the shared sets has one).

CLINC150 (the usual out-of-scope benchmark) is not in ../shared/data, so this
assembles the same protocol from BANKING77 and Bitext, deterministically
(fixed seeds), into var/data/intent-oos/ (never committed):

* in scope: BANKING77 minus ``--held-out`` intents chosen at random; their train.csv / test.csv rows;
* "oos" in the training file: train rows of half of the held-out banking intents (at most ``--oos-per-intent``
  each) and Bitext requests (e-commerce support) from half of Bitext's intents;
* "oos" in the test file: test rows of *all* held-out banking intents (the half seen as "oos" in training and
  the half never seen) and Bitext requests from the *other* half of its intents (never seen).

So most test "oos" requests are of kinds the training "oos" examples do not show, as in real traffic; the
near-domain held-out banking intents are the hard part (banking questions the assistant was not taught).
``test_unseen.csv`` keeps only never-seen "oos" kinds, for the strictest reading.

    python bench/oos_set.py                     # then:
    resonanz eval --train var/data/intent-oos/train.csv --test var/data/intent-oos/test.csv
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from resonanz.analysis.datasets import data_dir  # noqa: E402

OOS = "oos"


def _rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def build(root: Path, held_out: int = 10, oos_per_intent: int = 60, bitext_train: int = 20, bitext_test: int = 30,
          seed: int = 7) -> dict[str, list[tuple[str, str]]]:
    rng = random.Random(seed)
    tr = _rows(root / "banking77" / "train.csv")
    te = _rows(root / "banking77" / "test.csv")
    intents = sorted({r["category"] for r in tr})
    held = rng.sample(intents, held_out)
    seen_held, unseen_held = set(held[: held_out // 2]), set(held[held_out // 2 :])
    train: list[tuple[str, str]] = [(r["text"], r["category"]) for r in tr if r["category"] not in held]
    test: list[tuple[str, str]] = [(r["text"], r["category"]) for r in te if r["category"] not in held]
    by: dict[str, list[str]] = {}
    for r in tr:
        if r["category"] in seen_held:
            by.setdefault(r["category"], []).append(r["text"])
    for cat in sorted(by):
        train += [(t, OOS) for t in rng.sample(by[cat], min(oos_per_intent, len(by[cat])))]
    test_seen_banking = [(r["text"], OOS) for r in te if r["category"] in seen_held]
    test_unseen_banking = [(r["text"], OOS) for r in te if r["category"] in unseen_held]
    bx = _rows(root / "bitext" / "Bitext_Sample_Customer_Support_Training_Dataset.csv")
    b_intents = sorted({r["intent"] for r in bx})
    rng.shuffle(b_intents)
    b_train, b_test = set(b_intents[: len(b_intents) // 2]), set(b_intents[len(b_intents) // 2 :])
    b_by: dict[str, list[str]] = {}
    for r in bx:
        b_by.setdefault(r["intent"], []).append(r["instruction"])
    for cat in sorted(b_train):
        train += [(t, OOS) for t in rng.sample(b_by[cat], min(bitext_train, len(b_by[cat])))]
    unseen_bitext = [(t, OOS) for cat in sorted(b_test) for t in rng.sample(b_by[cat], min(bitext_test, len(b_by[cat])))]
    rng.shuffle(train)
    full = test + test_seen_banking + test_unseen_banking + unseen_bitext
    unseen = test + test_unseen_banking + unseen_bitext
    return {"train": train, "test": full, "test_unseen": unseen,
            "_held": [sorted(seen_held), sorted(unseen_held), sorted(b_train), sorted(b_test)]}


def write(path: Path, rows: list[tuple[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "label"])
        w.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=ROOT / "var" / "data" / "intent-oos")
    p.add_argument("--data-dir")
    p.add_argument("--held-out", type=int, default=10, help="BANKING77 intents taken out of scope")
    p.add_argument("--oos-per-intent", type=int, default=60, help="training rows per held-out banking intent")
    args = p.parse_args(argv)
    sets = build(data_dir(args.data_dir), args.held_out, args.oos_per_intent)
    args.out.mkdir(parents=True, exist_ok=True)
    seen, unseen, b_train, b_test = sets.pop("_held")
    for name, rows in sets.items():
        write(args.out / f"{name}.csv", rows)
        n = Counter(lab == OOS for _, lab in rows)
        print(f"{name}.csv: {len(rows)} rows, {n[True]} oos, {len({lab for _, lab in rows}) - 1} intents")
    print(f"banking intents as oos in train and test: {', '.join(seen)}")
    print(f"banking intents as oos in test only: {', '.join(unseen)}")
    print(f"bitext intents as oos in train: {', '.join(b_train)}; in test only: {', '.join(b_test)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
