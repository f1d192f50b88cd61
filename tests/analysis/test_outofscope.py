"""The "everything else" class: found by name, a threshold from training data only, the same rule in eval and analyzer."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from resonanz.analysis import Analyzer
from resonanz.analysis.classifier import StackedClassifier
from resonanz.analysis.evaluate import main
from resonanz.analysis.features import Featurizer
from resonanz.analysis.outofscope import OutOfScope, find_oos_label, fit_threshold
from tests.analysis.oos_support import oos_store


@pytest.mark.parametrize("labels,expected", [
    (["card_lost", "oos", "top_up"], "oos"),
    (["Rechnung", "Sonstiges", "Kündigung"], "Sonstiges"),
    (["a", "Everything_Else", "b"], "Everything_Else"),
    (["a", "out-of-scope", "b"], "out-of-scope"),
    (["card_lost", "top_up"], None),
    (["other", "none", "x"], None),  # two candidates: ambiguous, the operator names it with --oos-label
])
def test_find_oos_label(labels, expected):
    assert find_oos_label(labels) == expected


def test_rule_rejects_when_no_real_intent_is_likely():
    rule = OutOfScope("oos", 0, threshold=0.5)
    p = np.array([[0.1, 0.8, 0.1],    # a clear intent
                  [0.2, 0.4, 0.4],    # no intent reaches 0.5
                  [0.5, 0.45, 0.05]])  # "everything else" most likely
    assert rule.mask(p).tolist() == [False, True, True]


def test_threshold_respects_the_in_scope_budget():
    rng = np.random.default_rng(0)
    n = 2000
    y = rng.integers(0, 4, n)
    proba = np.full((n, 4), 0.05)
    conf = rng.uniform(0.4, 0.95, n)
    proba[np.arange(n), y] = conf
    proba[y == 0] = np.array([0.2, 0.3, 0.25, 0.25])  # "everything else": flat, never argmax
    proba /= proba.sum(axis=1, keepdims=True)
    t = fit_threshold(proba, y, 0, max_inscope_loss=0.05)
    best_in = proba[:, 1:].max(axis=1)
    right_in = (y != 0) & (proba.argmax(axis=1) == y)
    assert (best_in[right_in] < t).mean() <= 0.05
    assert (best_in[y == 0] < t).mean() >= 0.9  # the flat rows fall below it


def _intent_rows(n_per: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    topics = {
        "card_lost": ["I lost my card", "my card was stolen", "card missing, please block it", "can't find my card"],
        "top_up": ["how do I top up", "add money to my account", "top up failed", "top-up by bank transfer"],
        "exchange_rate": ["what exchange rate do you use", "rate for euro to dollar", "currency rate is wrong",
                          "why is the exchange rate so bad"],
        "oos": ["what's the weather tomorrow", "tell me a joke", "who won the match", "recipe for pancakes",
                "how tall is the eiffel tower", "play some music", "what time is it in tokyo", "book a flight"],
    }
    rows = []
    for lab, texts in topics.items():
        for _ in range(n_per):
            t = rng.choice(texts)
            rows.append((f"{t} {rng.choice(['please', 'thanks', '', 'now', 'today'])}".strip(), lab))
    return rows


def test_stacked_classifier_predicts_oos_and_keeps_it_off_without_the_class():
    rows = _intent_rows(30, 1)
    texts, labels = [t for t, _ in rows], [lab for _, lab in rows]
    feat = Featurizer(cues=False).fit(texts)
    clf = StackedClassifier(folds=3, oos_label="oos").fit(feat.transform(texts), None, labels)
    assert clf.oos is not None and clf.oos.label == "oos" and 0.0 <= clf.oos.threshold < 1.0
    pred = clf.predict(feat.transform(["tell me a joke", "I lost my card"]), None)
    assert pred == ["oos", "card_lost"]
    plain = StackedClassifier(folds=3).fit(feat.transform(texts), None, labels)
    assert plain.oos is None


def _write(path, rows):
    import csv

    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "label"])
        w.writerows(rows)
    return path


def test_eval_reports_out_of_scope_recall(tmp_path, capsys):
    train = _write(tmp_path / "train.csv", _intent_rows(30, 1))
    test = _write(tmp_path / "test.csv", _intent_rows(10, 2) + [("write me a poem about the sea", "oos")])
    assert main(["--train", str(train), "--test", str(test), "--no-embeddings", "--json"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    r = json.loads(out[-1])
    assert r["task"] == "intent"
    o = r["out_of_scope"]
    assert o["label"] == "oos" and o["n"] == 11 and 0.0 <= o["recall"] <= 1.0 and "in_scope_accuracy" in o
    assert o["recall"] >= 0.9
    assert all("out_of_scope" in p for p in r["peers"] if p["name"].startswith("tfidf"))
    assert any(line.startswith("out of scope (oos") for line in out)


def test_eval_refuses_an_unknown_oos_label(tmp_path, capsys):
    train = _write(tmp_path / "train.csv", _intent_rows(10, 1))
    assert main(["--train", str(train), "--test", str(train), "--no-embeddings", "--oos-label", "nope"]) == 2
    assert "--oos-label" in capsys.readouterr().err


@pytest.fixture(scope="module")
def oos_analyzer(tmp_path_factory):
    root = tmp_path_factory.mktemp("oos-model")
    oos_store(root)
    return Analyzer(root, embedder=None)


def test_analyzer_flags_requests_outside_every_intent(oos_analyzer):
    assert oos_analyzer.model.oos_label == "other"
    weather, password = oos_analyzer.analyze_batch(["Wie wird das Wetter übermorgen in München?",
                                                    "Ich habe mein Passwort vergessen, wie kann ich es zurücksetzen?"])
    assert weather.intents.out_of_scope and not weather.complexity.bot_answerable
    assert weather.to_dict()["intents"]["out_of_scope"] is True
    assert not password.intents.out_of_scope


def test_models_without_the_class_never_flag(analyzer):
    r = analyzer.analyze("Wie wird das Wetter übermorgen in München?")
    assert r.intents.out_of_scope is False
