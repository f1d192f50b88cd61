"""Driving terms: what sets a spike's texts apart, as a person reading them would say it."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest

from resonanz.analysis.terms import DrivingTerm, driving_terms, log_odds, text_terms

EVERYDAY_DE = ["Wie kann ich meine Adresse ändern?", "Danke für die schnelle Antwort!", "Gibt es den Tarif auch für Studenten?",
               "Die neue App gefällt mir gut.", "Wann öffnet der Laden am Samstag?", "Ich möchte meinen Vertrag verlängern."]
EVERYDAY_EN = ["How do I change my password?", "Great service, thanks a lot!", "Is there a student discount?",
               "Love the new design of the app.", "When does the store open on Sunday?", "I want to upgrade my plan."]
SPIKE_DE = ["Meine Lieferung ist verspätet, schon wieder!", "Lieferungen verspäten sich seit Tagen",
            "Paket nicht angekommen, Lieferung verspätet", "Wo bleibt meine Lieferung? Total verspätet."]
SPIKE_EN = ["My delivery is delayed again", "Deliveries delayed for days now", "Package not arrived, delivery delayed"]


def corpus(n: int, pool: list[str], seed: int) -> list[str]:
    rng = random.Random(seed)
    return [rng.choice(pool) for _ in range(n)]


def test_a_delivery_spike_is_explained_by_delivery_terms():
    baseline = corpus(400, EVERYDAY_DE + EVERYDAY_EN, 1)
    selection = corpus(80, EVERYDAY_DE + EVERYDAY_EN, 2) + corpus(60, SPIKE_DE, 3) + corpus(40, SPIKE_EN, 4)
    terms = driving_terms(selection, baseline)
    top = [t.term for t in terms[:6]]
    assert {"lieferung", "verspäten", "delivery", "delay"} <= set(top) | {t.term for t in terms}
    assert top[0] in {"lieferung", "verspäten", "lieferung verspäten", "delivery", "delay", "delivery delay"}
    by = {t.term: t for t in terms}
    assert by["lieferung"].count == 60 and by["lieferung"].baseline_count == 0   # "Lieferungen" is "Lieferung"
    assert "nicht ankommen" in by and "nicht" not in by                          # negation only inside a phrase
    assert not {t.term for t in terms} & {"meine", "ist", "the", "my", "wieder", "for"}
    assert all(t.z >= 1.96 for t in terms) and [t.z for t in terms] == sorted((t.z for t in terms), reverse=True)
    assert all(not t.term.startswith(("adresse", "password", "tarif")) for t in terms)


def test_swapping_sides_finds_the_other_sides_terms():
    a = corpus(200, SPIKE_EN, 5)
    b = corpus(200, EVERYDAY_EN, 6)
    assert {t.term for t in driving_terms(a, b)[:3]} & {"delivery", "delay", "delivery delay"}
    assert not {t.term for t in driving_terms(b, a)} & {"delivery", "delay"}


def test_certainty_beats_ratio_three_mentions_do_not_outrank_three_hundred():
    sel = Counter({"rare": 3, "common": 300, "filler": 2000})
    base = Counter({"common": 60, "filler": 2000})
    terms = log_odds(sel, base, min_z=0)
    assert [t.term for t in terms][:2] == ["common", "rare"]


def test_matches_the_formula_of_monroe_colaresi_and_quinn():
    sel = Counter({"a": 30, "b": 10, "c": 60})
    base = Counter({"a": 10, "b": 20, "c": 70})
    got = {t.term: t.z for t in log_odds(sel, base, min_count=1, min_z=-99, prior=0.5)}
    n_i, n_j = 100, 100
    alpha = {w: 0.5 * (sel[w] + base[w]) for w in sel}
    a0 = sum(alpha.values())
    for w in sel:
        d = (math.log((sel[w] + alpha[w]) / (n_i + a0 - sel[w] - alpha[w]))
             - math.log((base[w] + alpha[w]) / (n_j + a0 - base[w] - alpha[w])))
        assert got[w] == pytest.approx(d / math.sqrt(1 / (sel[w] + alpha[w]) + 1 / (base[w] + alpha[w])))


def test_a_term_counts_once_per_text():
    spam = ["gratis " * 20 + "gewinnspiel"]
    terms = driving_terms(spam * 5, corpus(100, EVERYDAY_DE, 7), min_count=1)
    by = {t.term: t for t in terms}
    assert by["gratis"].count == 5 and by["gratis gratis"].count == 5


def test_a_lone_digit_or_an_indefinite_pronoun_is_no_term():
    """A PR manager's "what drives negative posts" list once read "jemand" and "2"."""
    terms = text_terms("Hat jemand seit 2 Wochen kein Paket bekommen? Niemand antwortet", "de")
    assert {"2 woche", "paket", "antworten"} <= terms
    assert not {"jemand", "niemand", "2"} & terms
    assert "404" in text_terms("Fehler 404 beim Bezahlen", "de")


def test_terms_are_lemmas_in_the_texts_language_detected_when_unknown():
    assert {"vertrag", "kündigen"} <= text_terms("Ich habe alle Verträge gekündigt")
    assert {"order", "return"} <= text_terms("I returned two orders")
    assert text_terms("Paket nicht angekommen", "de") >= {"paket", "ankommen", "nicht ankommen"}
    assert "ankommen lieferung" not in text_terms("Nicht angekommen. Lieferung fehlt", "de")  # no bigram across a stop
    assert text_terms("@kundenservice https://example.com/x?y=1 !!!", "de") == set()


def test_language_given_per_text():
    sel = [("Die Rechnung ist falsch", "de")] * 10 + [("The bill is wrong", "en")] * 10
    terms = {t.term for t in driving_terms(sel, [("Alles gut", "de"), ("All good", "en")] * 20)}
    assert {"rechnung", "falsch", "bill", "wrong"} <= terms


def test_empty_and_bad_input():
    assert driving_terms([], ["a text"]) == [] and driving_terms(["a text"], []) == []
    assert driving_terms(["", "   "], ["", "!!!"]) == []
    with pytest.raises(TypeError):
        driving_terms("not a list", ["x"])
    with pytest.raises(ValueError):
        driving_terms(["x"], ["y"], prior=0)
    assert DrivingTerm("x", 2.0, 3, 1).to_dict() == {"term": "x", "z": 2.0, "count": 3, "baseline_count": 1}


def test_deterministic():
    sel = corpus(100, SPIKE_DE + EVERYDAY_DE, 8)
    base = corpus(300, EVERYDAY_DE, 9)
    assert driving_terms(sel, base) == driving_terms(list(sel), list(base))
