"""Turning texts into model inputs: sparse TF-IDF (word + char n-grams) plus a few dense cues.

Char n-grams carry typos, slang and German compounds ("Glasfaseranschluss")
that word n-grams miss; the dense cues (our lexicon, VADER, punctuation,
emoji, URLs) give the linear models polarity knowledge that a few thousand
labelled texts cannot teach.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from . import lexicon

MAX_CHARS = 5000  # beyond this a text adds cost, not signal
_URL = re.compile(r"https?://\S+|www\.\S+")
_MENTION = re.compile(r"@\w+")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def clean_text(text) -> str:
    """A safe, bounded string: no lone surrogates or control junk, at most MAX_CHARS characters."""
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = str(text)[: MAX_CHARS * 2]
    text = _SURROGATE.sub("\ufffd", text)
    text = "".join(ch if ch in "\n\t" or unicodedata.category(ch)[0] != "C" else " " for ch in text)
    return text[:MAX_CHARS].strip()


def normalize_for_tfidf(text: str) -> str:
    text = _URL.sub(" URL ", text)
    return _MENTION.sub(" @USER ", text)


_vader = None


def _vader_compound(text: str) -> float:
    global _vader
    if _vader is None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        _vader = SentimentIntensityAnalyzer()
    return float(_vader.polarity_scores(text[:1000])["compound"])


def dense_cues(texts: list[str]) -> np.ndarray:
    rows = []
    for t in texts:
        pol, pos, neg = lexicon.score(t)
        n = max(len(t), 1)
        rows.append([
            pol, min(pos, 5) / 5, min(neg, 5) / 5, _vader_compound(t),
            min(t.count("!"), 5) / 5, min(t.count("?"), 5) / 5,
            sum(c.isupper() for c in t) / n, min(len(t), 1000) / 1000,
            min(len(_URL.findall(t)), 3) / 3, 1.0 if t.startswith("@") or " @" in t else 0.0,
        ])
    return np.asarray(rows, dtype=np.float32).reshape(len(texts), 10)


class Featurizer:
    """Fits the vocabularies once; produces the sparse matrix the linear models read."""

    def __init__(self, max_word: int = 60000, max_char: int = 120000, cues: bool = True) -> None:
        self.word = TfidfVectorizer(ngram_range=(1, 2), min_df=1, max_features=max_word, sublinear_tf=True,
                                    lowercase=True, token_pattern=r"(?u)\b\w+\b|[!?]")
        self.char = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, max_features=max_char,
                                    sublinear_tf=True, lowercase=True)
        self.cues = cues
        self.cue_weight = 1.0

    def fit(self, texts: list[str]) -> Featurizer:
        norm = [normalize_for_tfidf(t) for t in texts]
        self.word.fit(norm)
        self.char.fit(norm)
        return self

    def transform(self, texts: list[str]) -> sp.csr_matrix:
        norm = [normalize_for_tfidf(t) for t in texts]
        parts = [self.word.transform(norm), self.char.transform(norm)]
        if self.cues:
            parts.append(sp.csr_matrix(dense_cues(texts) * self.cue_weight))
        return sp.hstack(parts, format="csr")
