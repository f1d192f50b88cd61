"""Whatever a customer types, search answers with a list and the bot with an answer or nothing."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resonanz.analysis.retrieval import Document, RetrievalIndex
from resonanz.analysis.retrieval.stopwords import ALL as STOP_WORDS
from resonanz.analysis.retrieval.testing import HashEmbedder

INDEX = RetrievalIndex(HashEmbedder(dim=64))
INDEX.add_many([
    Document("a", "Vertrag kündigen", "Kündigung im Kundenkonto, Frist drei Monate.", "de", ["Abo beenden"]),
    Document("b", "Reset password", "Use the forgot-password link on the login page.", "en"),
    Document("c", "Lieferzeit", "Wir liefern in 2-3 Werktagen.", "de"),
])
LEXICAL = RetrievalIndex(None)
LEXICAL.add_many(INDEX.records[s].doc for s in INDEX.slot_of.values())  # type: ignore[union-attr]

QUERIES = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(categories=["Zs", "P", "S", "Cc"]), max_size=50),
    st.lists(st.sampled_from(sorted(STOP_WORDS)), max_size=12).map(" ".join),
    st.sampled_from(["{{Order Number}}", "\x00", "ß" * 500, "🙂" * 40, "a" * 20_000, "k\u0308ündigen"]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(QUERIES, st.integers(min_value=0, max_value=20))
def test_search_never_fails(query: str, k: int) -> None:
    for index in (INDEX, LEXICAL):
        hits = index.search(query, k=k)
        assert len(hits) <= k
        assert all(h.doc_id in index for h in hits)
        best = index.answer(query, threshold=0.0)
        assert best is None or (best.doc_id in index and 0.0 <= best.confidence <= 1.0)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(sorted(STOP_WORDS)), min_size=1, max_size=10).map(" ".join))
def test_stop_words_alone_find_nothing(query: str) -> None:
    assert INDEX.search(query) == []
    assert INDEX.answer(query, threshold=0.0) is None


def test_huge_query_is_refused_quickly() -> None:
    assert INDEX.search("Vertrag kündigen " * 70_000) == []  # about 1 MB
