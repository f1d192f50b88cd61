import json

import pytest

from resonanz.analysis.errors import DataError
from resonanz.analysis.labelled import load_examples, read_columns


def write(tmp_path, name, content):
    p = tmp_path / name
    p.write_text(content, encoding="utf-8")
    return p


def test_csv_with_header(tmp_path):
    p = write(tmp_path, "a.csv", 'text,sentiment,intents\n"Danke, super!",positive,praise\nWo ist mein Paket?,neutral,question\n')
    ex = load_examples(p)
    assert [e.sentiment for e in ex] == ["positive", "neutral"]
    assert ex[1].intents == ["question"]


def test_tsv_without_header_finds_the_label_column(tmp_path):
    rows = "".join(f"{lab}\t{txt}\n" for lab, txt in [("neg", "schlecht"), ("pos", "toll"), ("neg", "mies"), ("pos", "klasse")])
    ex = load_examples(write(tmp_path, "a.tsv", rows))
    assert [e.sentiment for e in ex] == ["negative", "positive", "negative", "positive"]


def test_jsonl_with_intent_lists(tmp_path):
    lines = [{"text": "Ich kündige", "intents": ["churn_risk"]}, {"text": "Gibt es Rabatt?", "intents": ["purchase_interest", "question"]}]
    ex = load_examples(write(tmp_path, "a.jsonl", "\n".join(json.dumps(x) for x in lines)))
    assert ex[1].intents == ["purchase_interest", "question"]


def test_unknown_column_is_rejected_by_name(tmp_path):
    p = write(tmp_path, "a.csv", "text,sentiment,mood\nhallo,neutral,ok\n")
    with pytest.raises(DataError, match="unknown column.*mood"):
        load_examples(p)


def test_empty_label_is_rejected_with_line(tmp_path):
    p = write(tmp_path, "a.csv", "text,sentiment\nhallo,neutral\ntschüss,\n")
    with pytest.raises(DataError, match="line 3: empty sentiment"):
        load_examples(p)


def test_single_class_is_rejected(tmp_path):
    p = write(tmp_path, "a.csv", "text,sentiment\nhallo,neutral\ntschüss,neutral\n")
    with pytest.raises(DataError, match="need at least two classes"):
        load_examples(p)


def test_unknown_sentiment_value(tmp_path):
    p = write(tmp_path, "a.csv", "text,sentiment\nhallo,happy\ntschüss,neutral\n")
    with pytest.raises(DataError, match="unknown sentiment 'happy'"):
        load_examples(p)


def test_read_columns_by_name_and_by_index(tmp_path):
    p = write(tmp_path, "a.tsv", "1\tpositive\tgut\n2\tnegative\tschlecht\n")
    assert read_columns(p, "2", "1") == (["gut", "schlecht"], ["positive", "negative"])
    with pytest.raises(DataError, match="not in the header"):
        read_columns(p, "text", "label")


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        load_examples(tmp_path / "nope.csv")
