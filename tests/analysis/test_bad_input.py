"""Whatever arrives, the analyzer returns a defined result and never raises."""

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


def assert_valid(r):
    assert r.language.code in ("de", "en", "other")
    assert r.sentiment.label in ("negative", "neutral", "positive")
    assert -1 <= r.sentiment.score <= 1 and 0 <= r.sentiment.confidence <= 1
    assert 0 <= r.urgency <= 1 and 0 <= r.relevance <= 1
    assert all(0 <= p <= 1 for p in r.intents.probabilities.values())
    r.to_dict()


def assert_defined_nothing(r):
    assert_valid(r)
    assert (r.language.code, r.sentiment.label) == ("other", "neutral")
    assert r.sentiment.confidence <= 0.3 and r.intents.labels == []


@pytest.mark.parametrize("text", [
    "", "   \n\t ", "😀😀🙄", "https://example.com/a?b=c http://x.y", "@foo #bar 123 !!!",
    "\ud800\udfff\ud800", "\x00\x01\x02\x1b[31m", None,
])
def test_empty_emoji_urls_and_broken_unicode(analyzer, text):
    assert_defined_nothing(analyzer.analyze(text))


def test_binary_junk(analyzer):
    junk = os.urandom(4096).decode("latin-1")
    assert_valid(analyzer.analyze(junk))
    assert_valid(analyzer.analyze(os.urandom(2048)))  # bytes, not str


def test_one_megabyte_of_text(analyzer):
    r = analyzer.analyze("Mein Paket ist nicht angekommen. " * 32000)
    assert_valid(r)
    assert r.language.code == "de"


def test_mixed_languages(analyzer):
    r = analyzer.analyze("Hallo, my order is late, bitte schnell helfen, thanks!")
    assert_valid(r)
    assert r.language.code in ("de", "en")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.characters(codec=None), max_size=300))
def test_any_text(analyzer, text):
    assert_valid(analyzer.analyze(text))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.text(max_size=80), st.sampled_from(["🙂", "http://a.b", "Danke!", "\ud83d"])), max_size=8))
def test_any_batch(analyzer, texts):
    results = analyzer.analyze_batch(texts)
    assert len(results) == len(texts)
    for r in results:
        assert_valid(r)
