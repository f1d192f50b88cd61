"""Choose the classifier's settings by cross-validation on the training split, then score them on test once.

Round 3 of the accuracy work (issue 18). Fitting the whole stack for every variant
costs too much on two shared cores, so this computes a bank of out-of-fold scores
once per base model (the stack's own folds: StratifiedKFold, 4 folds, seed 0, on
the training split only) and evaluates every combination of base models by a
second cross-validation of the combiner over those out-of-fold rows. That CV
figure is what a setting is chosen by. With ``--test`` each base model is also
fitted on the whole training split and every combination is scored on the test
split in the same run (reported, never used for choosing), next to the strong
TF-IDF peer.

The base models are the product's own (``StackedClassifier._fit_base``), so the
chosen combination is exactly what ``resonanz eval`` then runs by default.

    python bench/accuracy_cv.py banking77-10shot --test
    python bench/accuracy_cv.py sb10k --test --names   # --names: intent names as examples (intent sets only)
    python bench/accuracy_cv.py --train var/data/intent-oos/train.csv --test-file var/data/intent-oos/test.csv
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from resonanz.analysis import datasets, peers  # noqa: E402
from resonanz.analysis.augment import label_text  # noqa: E402
from resonanz.analysis.classifier import C_EMB_GRID, StackedClassifier, _TiedMeta  # noqa: E402
from resonanz.analysis.embcache import EmbeddingCache, embed_cached  # noqa: E402
from resonanz.analysis.embedder import get_embedder  # noqa: E402
from resonanz.analysis.features import Featurizer, clean_text  # noqa: E402
from resonanz.analysis.labelled import read_columns  # noqa: E402
from resonanz.analysis.metrics import classification_scores  # noqa: E402

# base model name -> StackedClassifier settings and which part of _meta_features it yields
BASES = {
    "svm": ({}, 0),
    "svm-C0.3": ({"C_svm": 0.3}, 0),
    "joint": ({"joint": 1.0, "emb_prep": "std"}, 0),
    "lr-raw": ({"C_emb": 20.0}, 1),
    "knn-raw": ({"C_emb": 20.0}, 2),
    "knn-ctr": ({"emb_prep": "std", "C_emb": 1.0}, 2),
    "proto-ctr": ({"emb_prep": "std", "C_emb": 1.0, "knn": False, "proto": True}, 2),
    **{f"lr-std-{C}": ({"emb_prep": "std", "C_emb": C}, 1) for C in C_EMB_GRID},
    # class weights off (micro-F1 sets with a dominant class): --bases svm-nobal,lr-std-nobal-...
    "svm-nobal": ({"balanced": False}, 0),
    **{f"lr-std-nobal-{C}": ({"emb_prep": "std", "C_emb": C, "balanced": False}, 1) for C in C_EMB_GRID},
}


def _part(clf: StackedClassifier, base, X, E, which: int) -> np.ndarray:
    k = len(clf.classes_)
    m = clf._meta_features(base, X, E)
    w = 1 if k == 2 else k
    return m[:, which * w : (which + 1) * w]


def bank(names: list[str], X, E, y, classes, folds: int, extra=None, Xte=None, Ete=None) -> tuple[dict, dict]:
    """Out-of-fold scores of each base model on the training rows (and its test scores when Xte is given)."""
    oof: dict[str, np.ndarray] = {}
    test: dict[str, np.ndarray] = {}
    skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    splits = list(skf.split(np.zeros(len(y)), y))
    groups: dict[tuple, list[str]] = {}
    for n in names:  # base models that share one fit (lr-raw and knn-raw) are fitted once
        kw = BASES[n][0]
        groups.setdefault(tuple(sorted(kw.items())), []).append(n)
    for key, members in groups.items():
        t = time.perf_counter()
        clf = StackedClassifier(**dict(key))
        clf.classes_ = classes
        clf.use_emb, clf.emb_dim = True, E.shape[1]
        clf.C_emb_ = clf.C_emb
        Xa, Ea, ya = (X, E, y) if extra is None else extra["all"]
        clf.prep = None
        if clf.emb_prep == "std":
            from resonanz.analysis.classifier import _EmbPrep

            clf.prep = _EmbPrep().fit(Ea)
        if "knn" not in dict(key):
            clf.knn = any(BASES[m][1] == 2 for m in members)
        svm_only = all(BASES[m][1] == 0 for m in members) and not clf.joint  # no embedding model to fit
        w_all = np.ones(len(ya))
        for tr, te in splits:
            tr_all = tr if extra is None else np.concatenate([tr, extra["idx"]])
            base = clf._fit_base(Xa[tr_all], None if svm_only else Ea[tr_all], ya[tr_all], w_all[tr_all])
            for m in members:
                p = _part(clf, base, X[te], E[te], BASES[m][1])
                oof.setdefault(m, np.zeros((len(y), p.shape[1])))[te] = p
        if Xte is not None:
            base = clf._fit_base(Xa, None if svm_only else Ea, ya, w_all)
            for m in members:
                test[m] = _part(clf, base, Xte, Ete, BASES[m][1])
        print(f"  base {'+'.join(members)}: {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
    return oof, test


def _meta(parts: list[np.ndarray], y: np.ndarray, k: int):
    if k > 10:
        return _TiedMeta().fit(parts, y)
    return LogisticRegression(C=1.0, max_iter=1000).fit(np.hstack(parts), y)


def _proba(meta, parts: list[np.ndarray], k: int) -> np.ndarray:
    return meta.predict_proba(parts) if k > 10 else meta.predict_proba(np.hstack(parts))


def evaluate_combo(parts, y, k, test_parts=None, folds: int = 5):
    """CV accuracy of the combiner over the out-of-fold rows, and (optionally) test predictions."""
    pred = np.zeros(len(y), dtype=int)
    for tr, te in StratifiedKFold(n_splits=folds, shuffle=True, random_state=1).split(np.zeros(len(y)), y):
        meta = _meta([p[tr] for p in parts], y[tr], k)
        pred[te] = _proba(meta, [p[te] for p in parts], k).argmax(axis=1)
    out = {"cv_pred": pred}
    if test_parts is not None:
        meta = _meta(parts, y, k)
        out["test_pred"] = _proba(meta, test_parts, k).argmax(axis=1)
    return out


def _chosen_lr(oof: dict, y: np.ndarray, k: int, prefix: str = "lr-std-") -> str:
    """As the product does (C_emb="auto"): the standardised model's C with the best out-of-fold accuracy."""
    best = None
    for C in C_EMB_GRID:
        d = oof[f"{prefix}{C}"]
        acc = float((((d[:, 0] > 0).astype(int) if k == 2 else d.argmax(axis=1)) == y).mean())
        if best is None or acc > best[0] + 1e-9:
            best = (acc, C)
    return f"{prefix}{best[1]}"


def load(args) -> datasets.Split:
    if args.name:
        return datasets.load_named(args.name, datasets.data_dir())
    tr_x, tr_y = read_columns(args.train, "text", "label")
    te_x, te_y = read_columns(args.test_file, "text", "label")
    return datasets.Split(Path(args.test_file).parent.name, datasets.detect_task(tr_y + te_y), "en",
                          tr_x, tr_y, te_x, te_y)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("name", nargs="?")
    p.add_argument("--train")
    p.add_argument("--test-file")
    p.add_argument("--test", action="store_true", help="also score every combination on the test split")
    p.add_argument("--names", action="store_true", help="intent names as one more training example each")
    p.add_argument("--folds", type=int, default=4)
    p.add_argument("--bases", default="svm,joint,lr-raw,knn-raw,knn-ctr,proto-ctr," + ",".join(f"lr-std-{C}" for C in C_EMB_GRID))
    p.add_argument("--peer", action="store_true", help="run the strong TF-IDF peer on test in the same run")
    p.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "accuracy_cv.jsonl")
    args = p.parse_args(argv)
    split = load(args)
    t0 = time.perf_counter()
    embedder, cache = get_embedder(), EmbeddingCache()
    tr_x, tr_y = list(split.train_texts), list(split.train_labels)
    classes = np.array(sorted(set(tr_y)))
    index = {c: i for i, c in enumerate(classes)}
    y = np.array([index[v] for v in tr_y])
    k = len(classes)
    tr = [clean_text(t) for t in tr_x]
    te = [clean_text(t) for t in split.test_texts]
    extra_texts = [label_text(c) for c in classes] if args.names and split.task == "intent" else []
    feat = Featurizer(cues=split.task != "intent").fit(tr + extra_texts)
    X = feat.transform(tr)
    E = embed_cached(embedder, tr_x, cache)
    Xte = Ete = None
    if args.test:
        Xte, Ete = feat.transform(te), embed_cached(embedder, split.test_texts, cache)
    extra = None
    if extra_texts:
        import scipy.sparse as sp

        Xn, En = feat.transform(extra_texts), embed_cached(embedder, extra_texts, cache)
        extra = {"all": (sp.vstack([X, Xn], format="csr"), np.vstack([E, En]), np.concatenate([y, np.arange(k)])),
                 "idx": np.arange(len(y), len(y) + k)}
    print(f"{split.name}: features and embeddings in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    names = args.bases.split(",")
    oof, test = bank(names, X, E, y, classes, args.folds, extra, Xte, Ete)
    combos = {"svm only (no embeddings)": ["svm"]}
    if {"lr-raw", "knn-raw"} <= set(oof):
        combos["round 2 default: svm + lr-raw + knn-raw"] = ["svm", "lr-raw", "knn-raw"]
    if all(f"lr-std-{C}" in oof for C in C_EMB_GRID):
        lr = _chosen_lr(oof, y, k)
        combos[f"svm + {lr} (auto C)"] = ["svm", lr]
        if "knn-ctr" in oof:
            combos[f"svm + {lr} + knn-ctr"] = ["svm", lr, "knn-ctr"]
            if "knn-raw" in oof:
                combos[f"svm + {lr} + knn-raw"] = ["svm", lr, "knn-raw"]
            if "joint" in oof:
                combos[f"joint + {lr} + knn-ctr"] = ["joint", lr, "knn-ctr"]
            if "proto-ctr" in oof:
                combos[f"svm + {lr} + knn-ctr + proto-ctr"] = ["svm", lr, "knn-ctr", "proto-ctr"]
        if "joint" in oof:
            combos[f"joint + {lr}"] = ["joint", lr]
    if "svm-nobal" in oof and all(f"lr-std-nobal-{C}" in oof for C in C_EMB_GRID):
        lr = _chosen_lr(oof, y, k, "lr-std-nobal-")
        combos[f"svm-nobal + {lr} (auto C)"] = ["svm-nobal", lr]
        if "knn-ctr" in oof:
            combos[f"svm-nobal + {lr} + knn-ctr"] = ["svm-nobal", lr, "knn-ctr"]
    if "joint" in oof and "lr-raw" in oof:
        combos["joint + lr-raw + knn-raw"] = ["joint", "lr-raw", "knn-raw"]
    truth_te = split.test_labels
    args.out.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    for label, parts in combos.items():
        r = evaluate_combo([oof[n] for n in parts], y, k, [test[n] for n in parts] if args.test else None)
        cv = classification_scores([classes[i] for i in y], [classes[i] for i in r["cv_pred"]])
        row = {"set": split.name, "names": bool(extra_texts), "combo": label, "cv_accuracy": cv["accuracy"],
               "cv_macro_f1": cv["macro_f1"]}
        if args.test:
            ts = classification_scores(truth_te, [classes[i] for i in r["test_pred"]])
            row.update(test_accuracy=ts["accuracy"], test_macro_f1=ts["macro_f1"])
        rows.append(row)
        print(json.dumps(row), flush=True)
    best = max(rows, key=lambda r: r["cv_accuracy"])
    summary = {"set": split.name, "chosen_by_cv": best["combo"], "seconds": round(time.perf_counter() - t0)}
    if args.peer and args.test:
        m = peers.tfidf_svm_tuned(split.train_texts, split.train_labels)
        summary["peer"] = {"name": peers.STRONG_NAME,
                           **classification_scores(truth_te, [str(v) for v in m.predict(split.test_texts)])}
        summary["peer"].pop("per_class_f1", None)
    print(json.dumps(summary), flush=True)
    with args.out.open("a", encoding="utf-8") as fh:
        for row in rows + [summary]:
            fh.write(json.dumps(row) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
