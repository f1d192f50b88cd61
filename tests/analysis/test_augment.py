"""Intent names as training examples: which names count, and that resonanz eval adds them to intent sets only."""

from __future__ import annotations

import csv
import json

from resonanz.analysis.augment import label_name_examples, label_text
from resonanz.analysis.evaluate import main


def test_names_become_phrases_codes_and_the_oos_class_are_skipped():
    texts, labels = label_name_examples(["card_arrival", "A12", "17", "oos", "Rechnung-falsch", "card_arrival"],
                                        skip="oos")
    assert texts == ["Rechnung falsch", "card arrival"]
    assert labels == ["Rechnung-falsch", "card_arrival"]
    assert label_text("top_up.failed") == "top up failed"


def _write(path, rows):
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "label"])
        w.writerows(rows)


def _rows(topics: dict[str, list[str]], n: int) -> list[list[str]]:
    return [[f"{words[i % len(words)]} please {i}", lab] for lab, words in topics.items() for i in range(n)]


def _last_json(capsys) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_eval_adds_intent_names_by_default_and_not_to_sentiment(tmp_path, capsys):
    intents = {"card_lost": ["I lost my card", "my card was stolen"], "top_up": ["top up failed", "add money"],
               "exchange_rate": ["which rate", "euro to dollar rate"]}
    _write(tmp_path / "i_train.csv", _rows(intents, 6))
    _write(tmp_path / "i_test.csv", _rows(intents, 2))
    args = ["--train", str(tmp_path / "i_train.csv"), "--test", str(tmp_path / "i_test.csv"), "--no-embeddings",
            "--json"]
    assert main(args) == 0
    assert _last_json(capsys)["label_name_examples"] == 3
    assert main(args + ["--no-label-names"]) == 0
    assert _last_json(capsys)["label_name_examples"] == 0
    sentiment = {"positive": ["great, thanks", "love it"], "negative": ["awful", "terrible service"],
                 "neutral": ["the train leaves at ten", "meeting on Monday"]}
    _write(tmp_path / "s_train.csv", _rows(sentiment, 6))
    _write(tmp_path / "s_test.csv", _rows(sentiment, 2))
    assert main(["--train", str(tmp_path / "s_train.csv"), "--test", str(tmp_path / "s_test.csv"),
                 "--no-embeddings", "--json"]) == 0
    assert _last_json(capsys)["label_name_examples"] == 0
