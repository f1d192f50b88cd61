"""Abuse aimed at people is recognised in German and English; anger at a product is not abuse."""

from __future__ import annotations

import pytest

from resonanz.analysis.abuse import abusive_terms, is_abusive


@pytest.mark.parametrize("text", [
    "Du bist echt ein Idiot, lies doch die Anleitung.",
    "Was für ein Vollidiot hat das geschrieben?",
    "Halt die Fresse, niemand hat dich gefragt.",
    "fick dich",
    "You're a moron if you think that works.",
    "Shut up, nobody asked you.",
    "ＩＤＩＯＴ",  # full-width letters
])
def test_insults_and_attacks_are_abusive(text):
    assert is_abusive(text), text


@pytest.mark.parametrize("text", [
    "Scheiße, die App stürzt schon wieder ab!",
    "This update is garbage and I hate it.",
    "Die Treppe im Lager ist defekt, bitte reparieren.",
    "Der Patriot-Tarif ist zu teuer.",
    "Wie kündige ich mein Abo?",
    "",
])
def test_complaints_and_plain_questions_are_not(text):
    assert not is_abusive(text), abusive_terms(text)


def test_the_terms_found_are_named_once():
    assert abusive_terms("Idiot! IDIOT! halt die klappe") == ["halt die klappe", "idiot"]
