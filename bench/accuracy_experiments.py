"""Variants of the trained classifier, scored on validation data first and on the test split only at the end.

Protocol (so settings do not come from test splits): every variant is scored on
validation data carved from the training side (SB-10k: its official dev split;
other sets: a stratified 10 % of the training split, seed 0), a setting is picked
there, and the same setting then runs on every set's test split. Embeddings come
from the shared cache (``embcache``), so a variant costs only its training time.

    python bench/accuracy_experiments.py banking77 --on val --variants base,joint1,joint2
    python bench/accuracy_experiments.py sb10k --on test --variants base,joint1
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

from sklearn.model_selection import train_test_split

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from resonanz.analysis import datasets  # noqa: E402
from resonanz.analysis.classifier import StackedClassifier  # noqa: E402
from resonanz.analysis.embcache import EmbeddingCache, embed_cached  # noqa: E402
from resonanz.analysis.embedder import get_embedder  # noqa: E402
from resonanz.analysis.features import Featurizer, clean_text  # noqa: E402
from resonanz.analysis.metrics import classification_scores  # noqa: E402

VARIANTS: dict[str, dict] = {
    "base": {},
    "joint1": {"joint": 1.0},
    "joint2": {"joint": 2.0},
    "names": {"names": True},
    "joint1+names": {"joint": 1.0, "names": True},
    "C0.5": {"C_svm": 0.5},
    "joint1-C0.5": {"joint": 1.0, "C_svm": 0.5},
}


def _sb10k_dev(root: Path) -> tuple[list[str], list[str]]:
    with (root / "sb10k" / "split_dev.tsv").open(encoding="utf-8") as fh:
        rows = [r for r in csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE) if r]
    return [r[2] for r in rows], [r[1] for r in rows]


def split_for(name: str, on: str, root: Path) -> datasets.Split:
    s = datasets.load_named(name, root)
    if on == "test":
        return s
    if name == "sb10k":
        x, y = _sb10k_dev(root)
        return datasets.Split(f"{name}-dev", s.task, s.language, s.train_texts, s.train_labels, x, y)
    strat = s.train_labels if min(s.train_labels.count(v) for v in set(s.train_labels)) >= 2 else None
    tr_x, va_x, tr_y, va_y = train_test_split(s.train_texts, s.train_labels, test_size=0.1, random_state=0,
                                              stratify=strat)
    return datasets.Split(f"{name}-val", s.task, s.language, tr_x, tr_y, va_x, va_y)


def label_text(label: str) -> str:
    """An intent's name as a request-like phrase: "card_arrival" -> "card arrival"."""
    return label.replace("_", " ").replace("-", " ").strip()


def run_variant(split, name: str, embedder, cache, folds: int = 4) -> dict:
    v = dict(VARIANTS[name])
    names = v.pop("names", False)
    tr_x, tr_y = list(split.train_texts), list(split.train_labels)
    if names and split.task == "intent":
        labs = sorted(set(tr_y))
        tr_x += [label_text(lab) for lab in labs]
        tr_y += labs
    tr = [clean_text(t) for t in tr_x]
    te = [clean_text(t) for t in split.test_texts]
    Etr = embed_cached(embedder, tr_x, cache) if embedder else None
    Ete = embed_cached(embedder, split.test_texts, cache) if embedder else None
    t0 = time.perf_counter()
    feat = Featurizer(cues=split.task != "intent").fit(tr)
    clf = StackedClassifier(folds=folds, **v).fit(feat.transform(tr), Etr, tr_y)
    pred = clf.predict(feat.transform(te), Ete)
    scores = classification_scores(split.test_labels, pred)
    return {"set": split.name, "variant": name, "accuracy": scores["accuracy"], "micro_f1": scores["micro_f1"],
            "macro_f1": scores["macro_f1"], "seconds": round(time.perf_counter() - t0, 1),
            "n_train": len(tr), "n_test": len(te)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("name", choices=sorted(datasets.NAMED))
    p.add_argument("--on", choices=["val", "test"], default="val")
    p.add_argument("--variants", default="base")
    p.add_argument("--no-embeddings", action="store_true")
    p.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "accuracy.jsonl")
    args = p.parse_args(argv)
    split = split_for(args.name, args.on, datasets.data_dir())
    embedder = None if args.no_embeddings else get_embedder()
    cache = EmbeddingCache()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for name in args.variants.split(","):
        r = run_variant(split, name, embedder, cache)
        r["embeddings"] = embedder is not None
        print(json.dumps(r), flush=True)
        with args.out.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(r) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
