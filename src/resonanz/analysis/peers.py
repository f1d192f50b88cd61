"""The peers every evaluation runs beside ours: VADER, textblob-de and a TF-IDF + linear SVM baseline."""

from __future__ import annotations

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC


def tfidf_svm() -> object:
    """The plain baseline the issue calibrates against: word 1-2-gram TF-IDF and a linear SVM."""
    return make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1), LinearSVC(C=1.0))


def vader_labels(texts: list[str]) -> list[str]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    sia = SentimentIntensityAnalyzer()
    out = []
    for t in texts:
        c = sia.polarity_scores(t)["compound"]
        out.append("positive" if c >= 0.05 else "negative" if c <= -0.05 else "neutral")
    return out


def textblob_de_labels(texts: list[str]) -> list[str]:
    # PatternTokenizer: the default tokenizer needs NLTK data that would be downloaded.
    from textblob_de import PatternTokenizer, TextBlobDE

    tok = PatternTokenizer()
    out = []
    for t in texts:
        p = TextBlobDE(t, tokenizer=tok).sentiment.polarity
        out.append("positive" if p > 0 else "negative" if p < 0 else "neutral")
    return out
