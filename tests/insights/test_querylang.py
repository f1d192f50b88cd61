"""The listening-query language: boolean logic, phrases, lemmas, and errors with their position."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from resonanz.insights.querylang import Document, QuerySyntaxError, matches, parse, words


def hit(query: str, text: str, language: str | None = "de") -> bool:
    return matches(parse(query), Document.of(text, language))


def test_lemmas_find_inflections_in_german_and_english():
    assert hit("Lieferung", "Drei Lieferungen kamen zu spät")
    assert hit("kündigen", "Ich habe gestern gekündigt")
    assert hit("delivery", "Two deliveries were late", "en")
    assert not hit("Lieferung", "Der Versand war schnell")


def test_boolean_operators_parentheses_and_implicit_and():
    text = "Die Lieferung von Acme kam kaputt an"
    assert hit("Acme AND Lieferung", text)
    assert hit("Acme Lieferung", text)                       # adjacent words: AND
    assert not hit("Acme AND Rechnung", text)
    assert hit("Rechnung OR Lieferung", text)
    assert hit("Acme AND NOT Rechnung", text)
    assert not hit("Acme AND NOT Lieferung", text)
    assert hit("(Rechnung OR kaputt) AND Acme", text)
    assert not hit("(Rechnung OR Preis) AND Acme", text)
    assert hit("Acme UND NICHT Rechnung", text)               # German keywords
    assert hit("acme and lieferung", text) and not hit("acme and not lieferung", text)  # keywords in any case
    assert not hit('acme "and" lieferung', text)               # quoted, "and" is a word to look for
    assert hit("liefer*", text) and not hit("rechn*", text)


def test_quoted_phrases_need_the_words_in_order():
    assert hit('"kaputt angekommen"', "Das Paket ist kaputt angekommen")
    assert not hit('"angekommen kaputt"', "Das Paket ist kaputt angekommen")
    assert hit('"Lieferung verspätet"', "Meine Lieferungen verspäteten sich")


@pytest.mark.parametrize("query, position", [
    ("", 0), ("   ", 0), ("(Acme", 0), ("Acme)", 4), ('"offen', 0), ("Acme AND", 8), ("OR Acme", 0),
    ("Acme OR OR x", 8), ("NOT Acme", 0), ("()", 0), ("a AND (b OR )", 12), ("!!!", 0), ("x*", 0),
    ("Acme NOT", 8),
])
def test_invalid_queries_are_refused_with_the_position(query, position):
    with pytest.raises(QuerySyntaxError) as err:
        parse(query)
    assert err.value.position == position
    assert f"at character {position + 1}" in str(err.value)


def test_words_lists_what_the_query_looks_for():
    assert words(parse('(Acme OR "Acme Corp") NOT Spam')) == ["Acme", "Acme Corp"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(list('ab "()*-ü') + [" AND ", " OR ", " NOT ", "  "]), max_size=25).map("".join)
       | st.text(max_size=60))
def test_any_input_parses_or_fails_with_a_position_inside_the_text(text):
    try:
        node = parse(text)
    except QuerySyntaxError as exc:
        assert 0 <= exc.position <= len(text)
    else:
        matches(node, Document.of("a b ab", "en"))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["Acme", "Lieferung", "kaputt", "Preis", "liefer*", '"kaputt an"', "AND", "OR",
                                 "NOT", "(", ")"]), min_size=1, max_size=8).map(" ".join),
       st.sampled_from(["Die Lieferung von Acme kam kaputt an", "Preis zu hoch", "Acme", "Lieferungen verspätet"]))
def test_the_query_index_finds_exactly_what_evaluating_every_query_finds(query, text):
    """Anchors only skip queries that cannot match: the index and the plain evaluation always agree."""
    from resonanz.insights.querylang import QueryIndex

    try:
        node = parse(query)
    except QuerySyntaxError:
        return
    doc = Document.of(text, "de")
    assert QueryIndex([(1, node)]).matching(doc) == ([1] if matches(node, doc) else [])
