"""``resonanz eval``: measure the engine on a named benchmark set or any labelled files.

Prints a table, and with --json one JSON object on the last line. Peers run
in the same command (TF-IDF + linear SVM always; VADER on English and
textblob-de on German sentiment sets), so ratios compare like with like on
this machine today rather than with a number from another day.
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
from .classifier import StackedClassifier
from .embcache import EmbeddingCache, embed_cached
from .errors import AnalysisError, DataError
from .features import Featurizer, clean_text
from .labelled import normalize_sentiment, read_columns
from .language import detect_language
from .metrics import classification_scores


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


def _run_ours(split, embedder, quick: bool) -> tuple[list[str], dict]:
    tr = [clean_text(t) for t in split.train_texts]
    te = [clean_text(t) for t in split.test_texts]
    Etr = Ete = None
    if embedder is not None:
        Etr = _embed(embedder, split.train_texts, "train")
        Ete = _embed(embedder, split.test_texts, "test")
    t0 = time.perf_counter()
    feat = Featurizer(cues=split.task != "intent").fit(tr)
    clf = StackedClassifier(folds=3 if quick else 4, C_svm=1.0)
    clf.fit(feat.transform(tr), Etr, split.train_labels)
    train_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    pred = clf.predict(feat.transform(te), Ete)
    model_s = time.perf_counter() - t1
    info = {"train_seconds": round(train_s, 1), "texts_per_second_without_embeddings": round(len(te) / model_s, 1)}
    if embedder is not None:
        rate = _embed_rate(embedder, split.test_texts)
        info["embedder"] = embedder.name
        info["embedder_texts_per_second"] = round(rate, 1)
        info["texts_per_second"] = round(1 / (model_s / len(te) + 1 / rate), 1)
    else:
        info["texts_per_second"] = info["texts_per_second_without_embeddings"]
    return pred, info


def _run_zero_shot(split, embedder, model_dir: Path) -> tuple[list[str], dict]:
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
    return pred, info


def _peer(name: str, fn, texts, truth) -> dict:
    t = time.perf_counter()
    pred = fn(texts)
    dt = time.perf_counter() - t
    return {"name": name, **classification_scores(truth, pred), "texts_per_second": round(len(texts) / dt, 1)}


def _baseline(split) -> dict:
    t = time.perf_counter()
    m = peers.tfidf_svm().fit(split.train_texts, split.train_labels)
    t1 = time.perf_counter()
    pred = list(m.predict(split.test_texts))
    dt = time.perf_counter() - t1
    return {"name": "tfidf-linearsvc", **classification_scores(split.test_labels, pred),
            "texts_per_second": round(len(split.test_texts) / dt, 1), "train_seconds": round(t1 - t, 1)}


def _subsample(texts, labels, n: int, seed: int = 0):
    if not n or n >= len(texts):
        return texts, labels
    idx = np.random.default_rng(seed).choice(len(texts), n, replace=False)
    return [texts[i] for i in idx], [labels[i] for i in idx]


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
    p.add_argument("--limit", type=int, default=0, help="use at most N training and N test texts (quick checks)")
    return p


def _load(args) -> datasets.Split:
    if args.name:
        return datasets.load_named(args.name, datasets.data_dir(args.data_dir))
    if not (args.test and (args.train or args.zero_shot)):
        raise DataError("give a data set name, or --train FILE --test FILE (or --test FILE --zero-shot)")
    te_x, te_y = read_columns(args.test, args.text_col, args.label_col)
    tr_x, tr_y = read_columns(args.train, args.text_col, args.label_col) if args.train else ([], [])
    is_sent = all(normalize_sentiment(v) for v in set(te_y))
    sample = te_x[:200]
    langs = [detect_language(t).code for t in sample]
    lang = max(set(langs), key=langs.count) if langs else "other"
    return datasets.Split(Path(args.test).stem, "sentiment" if is_sent else "classification", lang,
                          tr_x, tr_y, te_x, te_y)


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
    if args.zero_shot:
        mapping = {lab: normalize_sentiment(lab) for lab in sorted(set(truth))}
        unmapped = [lab for lab, m in mapping.items() if m is None]
        if unmapped:
            raise DataError(f"--zero-shot maps sentiment labels only; no counterpart for {unmapped}")
        report["label_mapping"] = mapping
        truth = [mapping[lab] for lab in truth]
        model_dir = Path(args.model_dir or Path(os.path.expanduser("~")) / ".cache" / "resonanz" / "seed-models")
        pred, info = _run_zero_shot(split, embedder, model_dir)
    else:
        pred, info = _run_ours(split, embedder, quick=bool(args.limit))
    report.update(classification_scores(truth, pred))
    report.update(info)
    report["peak_memory_mb"] = _peak_mb()
    peer_list = []
    if split.task == "sentiment" and split.language == "en":
        peer_list.append(_peer("vader", peers.vader_labels, split.test_texts, truth))
    if split.task == "sentiment" and split.language == "de":
        peer_list.append(_peer("textblob-de", peers.textblob_de_labels, split.test_texts, truth))
    if split.train_texts:
        b = _baseline(split)
        if args.zero_shot:
            b["name"] += " (trained on the set's train split)"
        peer_list.append(b)
    report["peers"] = peer_list
    report["ratio"] = {p["name"]: {"micro_f1": round(report["micro_f1"] / p["micro_f1"], 3) if p["micro_f1"] else None,
                                   "macro_f1": round(report["macro_f1"] / p["macro_f1"], 3) if p["macro_f1"] else None}
                       for p in peer_list}
    return report


def format_table(r: dict) -> str:
    lines = [f"{r['dataset']} ({r['task']}, {r['mode']}): n_train={r['n_train']} n_test={r['n_test']}",
             f"{'system':<34} {'accuracy':>9} {'micro_f1':>9} {'macro_f1':>9} {'texts/s':>9}"]
    rows = [{"name": "resonanz", **r}] + r["peers"]
    for p in rows:
        lines.append(f"{p['name']:<34} {p['accuracy']:>9.4f} {p['micro_f1']:>9.4f} {p['macro_f1']:>9.4f} "
                     f"{p['texts_per_second']:>9.1f}")
    per = sorted(r["per_class_f1"].items(), key=lambda kv: kv[1])
    shown = per if len(per) <= 12 else per[:12]
    lines.append(("per-class F1 (resonanz)" if len(per) <= 12 else f"lowest 12 of {len(per)} per-class F1")
                 + ": " + ", ".join(f"{k}={v:.3f}" for k, v in shown))
    if r.get("label_mapping"):
        lines.append("label mapping: " + ", ".join(f"{k}->{v}" for k, v in r["label_mapping"].items()))
    extra = {k: r[k] for k in ("texts_per_second_without_embeddings", "embedder_texts_per_second", "train_seconds",
                               "peak_memory_mb", "embedder", "model_version") if k in r}
    lines.append("; ".join(f"{k}={v}" for k, v in extra.items()))
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
