"""Turning text into index terms: lowercase, German/English lemmas, stop words, char n-grams.

Lemmas (simplemma) make "Verträge" find "Vertrag" and "orders" find "order".
Character n-grams of each lemma give a second, fuzzy field: they survive typos
("cancle") and split German compounds ("Rücksendeetikett" shares grams with
"Etikett"). A query's language is often unknown (two words in a chat), so a
query token is looked up under every form it could take: its surface form and
its German and English lemma; the index scores the best of them.
"""

from __future__ import annotations

import re
from functools import lru_cache

import simplemma

from .stopwords import ALL as STOP_WORDS

LANGUAGES = ("de", "en")
_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)
_PLACEHOLDER = re.compile(r"\{\{[^}]*\}\}")
NGRAM = 4
MAX_TOKEN_LEN = 40


def raw_tokens(text: str) -> list[str]:
    """Lowercase word tokens; template placeholders like {{Order Number}} are dropped."""
    text = _PLACEHOLDER.sub(" ", text or "").lower()
    return [t.replace("’", "'").split("'")[0] for t in _TOKEN.findall(text) if len(t) <= MAX_TOKEN_LEN]


@lru_cache(maxsize=200_000)
def lemma(token: str, language: str) -> str:
    """simplemma lemma, lowercased; unknown languages use German then English."""
    lang: str | tuple[str, ...] = language if language in LANGUAGES else LANGUAGES
    try:
        return simplemma.lemmatize(token, lang=lang).lower()
    except (ValueError, KeyError):  # pragma: no cover - simplemma refuses odd input
        return token


def is_content(token: str) -> bool:
    """A token that can carry meaning: not a stop word, not a lone character."""
    return token not in STOP_WORDS and (len(token) > 1 or token.isdigit())


def doc_terms(text: str, language: str) -> list[str]:
    """Index terms of a document field, lemmatised in the document's language."""
    out = []
    for tok in raw_tokens(text):
        if not is_content(tok):
            continue
        lem = lemma(tok, language)
        if lem in STOP_WORDS:
            continue
        out.append(lem)
    return out


def query_forms(text: str, language: str | None = None) -> list[frozenset[str]]:
    """For each content token of a query, every form it may have in the index."""
    langs = (language,) if language in LANGUAGES else LANGUAGES
    out: list[frozenset[str]] = []
    for tok in raw_tokens(text):
        if not is_content(tok):
            continue
        forms = {tok} | {lemma(tok, lg) for lg in langs}
        forms -= STOP_WORDS
        if forms:
            out.append(frozenset(forms))
    return out


@lru_cache(maxsize=200_000)
def char_ngrams(term: str, n: int = NGRAM) -> tuple[str, ...]:
    """Boundary-marked character n-grams; short terms become one gram so they still match."""
    padded = f"#{term}#"
    if len(padded) <= n:
        return (padded,)
    return tuple(padded[i : i + n] for i in range(len(padded) - n + 1))
