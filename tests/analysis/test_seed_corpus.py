import json
from collections import Counter

from resonanz.analysis.model import DEFAULT_INTENTS, SEED_CORPUS
from resonanz.analysis.seed.generate import generate


def records():
    return [json.loads(line) for line in SEED_CORPUS.read_text(encoding="utf-8").splitlines()]


def test_corpus_is_the_generators_output():
    assert [r["text"] for r in records()] == [r["text"] for r in generate()]


def test_covers_both_languages_every_label_and_every_sentiment():
    rs = records()
    assert len(rs) >= 5000
    langs = Counter(r["language"] for r in rs)
    assert langs["de"] > 2000 and langs["en"] > 2000
    intents = Counter(i for r in rs for i in r["intents"])
    assert set(intents) == set(DEFAULT_INTENTS) and min(intents.values()) >= 200
    assert set(Counter(r["sentiment"] for r in rs)) == {"negative", "neutral", "positive"}
    assert {r["complexity"] for r in rs} == {"simple", "complex"}


def test_sentiment_is_not_a_function_of_the_intent():
    by = {}
    for r in records():
        if len(r["intents"]) == 1:
            by.setdefault(r["intents"][0], set()).add(r["sentiment"])
    assert len(by["question"]) >= 2 and len(by["complaint"]) >= 1
    assert len({s for r in records() if not r["intents"] for s in [r["sentiment"]]}) == 3
