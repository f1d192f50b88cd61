"""The eval CLI: generic files, named sets (small subsets), zero-shot, JSON on the last line, errors."""

import json

import pytest

from resonanz.analysis import peers
from resonanz.analysis.datasets import data_dir, detect_task
from resonanz.analysis.evaluate import main

POS = ["Danke, alles super gelaufen", "Toller Service, sehr zufrieden", "Great support, thank you", "Läuft perfekt 👍",
       "Klasse, schnell geliefert", "Love the new app", "Sehr freundliche Beratung", "Top, gerne wieder"]
NEG = ["Paket nicht angekommen, Frechheit", "Seit Tagen kein Internet, ich bin sauer", "Worst service ever",
       "Rechnung falsch, schon wieder", "Hotline legt einfach auf 😡", "Broken on arrival, awful", "Nie wieder",
       "Total enttäuscht von euch"]


def write_set(path, rows):
    path.write_text("text,label\n" + "".join(f'"{t}",{lab}\n' for t, lab in rows), encoding="utf-8")
    return path


@pytest.fixture
def files(tmp_path):
    rows = [(t, "positive") for t in POS] + [(t, "negative") for t in NEG]
    return write_set(tmp_path / "train.csv", rows * 2), write_set(tmp_path / "test.csv", rows)


def last_json(capsys):
    out = capsys.readouterr().out.strip().splitlines()
    return json.loads(out[-1])


def test_generic_files_json_report(files, capsys):
    train, test = files
    assert main(["--train", str(train), "--test", str(test), "--no-embeddings", "--json"]) == 0
    r = last_json(capsys)
    for key in ("dataset", "task", "n_train", "n_test", "accuracy", "micro_f1", "macro_f1", "per_class_f1",
                "texts_per_second", "peak_memory_mb", "peers", "ratio"):
        assert key in r
    assert r["n_train"] == 32 and r["n_test"] == 16 and r["task"] == "sentiment"
    names = {p["name"] for p in r["peers"]}
    assert {peers.STRONG_NAME, peers.WEAK_NAME, "textblob-de"} <= names
    assert "weak" in peers.WEAK_NAME and "char" in peers.STRONG_NAME
    assert r["accuracy"] >= 0.9


@pytest.mark.parametrize("labels,task", [
    (["positive", "negative", "neutral"], "sentiment"),
    (["pos", "neg"], "sentiment"),
    (["-1", "0", "1"], "sentiment"),
    (["positive", "negative", "neutral", "mixed"], "sentiment"),  # one extra label: still sentiment
    (["0", "1"], "binary"),
    (["true", "false"], "binary"),
    (["card_arrival", "top_up", "oos"], "intent"),
    (["positive", "card_arrival", "top_up", "oos"], "intent"),
])
def test_task_detection(labels, task):
    assert detect_task(labels) == task


def test_sentiment_set_with_an_extra_label_keeps_its_sentiment_peers(tmp_path, capsys):
    rows = ([(t, "pos") for t in POS] + [(t, "neg") for t in NEG]
            + [("Gut, aber teuer", "mixed"), ("Schnell, aber unfreundlich", "mixed")])
    train, test = write_set(tmp_path / "train.csv", rows * 2), write_set(tmp_path / "test.csv", rows)
    assert main(["--train", str(train), "--test", str(test), "--no-embeddings", "--json"]) == 0
    r = last_json(capsys)
    assert r["task"] == "sentiment"
    assert {"positive", "negative", "mixed"} == set(r["per_class_f1"])  # spellings normalised, the extra kept
    assert "textblob-de" in {p["name"] for p in r["peers"]}


def test_intent_files_are_treated_as_intents(tmp_path, capsys):
    rows = [(t, "lob") for t in POS] + [(t, "beschwerde") for t in NEG] + [
        ("Wann kommt mein Paket?", "frage"), ("Wie ändere ich meine Adresse?", "frage"),
        ("Was kostet der Versand?", "frage"), ("Kann ich per Rechnung zahlen?", "frage")] * 2
    train, test = write_set(tmp_path / "train.csv", rows * 2), write_set(tmp_path / "test.csv", rows)
    assert main(["--train", str(train), "--test", str(test), "--no-embeddings", "--json"]) == 0
    r = last_json(capsys)
    assert r["task"] == "intent" and "out_of_scope" not in r
    assert "textblob-de" not in {p["name"] for p in r["peers"]}


def test_faq_eval_is_inductive_by_default():
    from resonanz.analysis.retrieval.evaluate import _parser

    assert _parser().parse_args(["stackfaq"]).transductive is False
    assert _parser().parse_args(["stackfaq", "--transductive"]).transductive is True


def test_zero_shot_maps_labels(files, capsys, store_dir):
    _, test = files
    assert main(["--test", str(test), "--zero-shot", "--no-embeddings", "--model-dir", str(store_dir), "--json"]) == 0
    r = last_json(capsys)
    assert r["mode"] == "zero-shot" and r["n_train"] == 0
    assert r["label_mapping"] == {"negative": "negative", "positive": "positive"}
    assert r["accuracy"] >= 0.75


def test_bad_file_gives_message_and_exit_code(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nhallo,a\ntschüss,a\n", encoding="utf-8")
    assert main(["--train", str(bad), "--test", str(bad)]) == 2
    assert "only one class" in capsys.readouterr().err


def test_unknown_set_name(capsys):
    assert main(["nope"]) == 2
    assert "unknown data set" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["sb10k", "germeval2017-relevance", "banking77-10shot", "bitext"])
def test_named_sets_on_small_subsets(name, capsys):
    data_dir()  # the benchmark data lives beside the repo in CI
    assert main([name, "--limit", "250", "--no-embeddings", "--json"]) == 0
    r = last_json(capsys)
    assert r["dataset"] == name and r["n_test"] <= 250
    base = next(p for p in r["peers"] if p["name"] == peers.STRONG_NAME)
    assert r["micro_f1"] >= base["micro_f1"] - 0.1
