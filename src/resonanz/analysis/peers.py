"""The peers every evaluation runs beside ours: VADER, textblob-de and TF-IDF + linear SVM baselines.

The TF-IDF + SVM peer is the strong standard one (character 2-5-grams plus word
1-2-grams, C chosen by cross-validation on the training split): word n-grams
alone throw away emoticons, typos and German compounds and make any ratio to
them look better than it is. The word-only variant is still run, labelled weak,
because earlier figures were measured against it.
"""

from __future__ import annotations

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import FeatureUnion, make_pipeline
from sklearn.svm import LinearSVC

STRONG_NAME = "tfidf-char2-5+word1-2-linearsvc"
WEAK_NAME = "tfidf-word1-2-linearsvc (weak: word n-grams only)"
C_GRID = (0.1, 0.3, 1.0)


def tfidf_svm(C: float = 1.0) -> object:
    """The strong standard baseline: char_wb 2-5-gram and word 1-2-gram TF-IDF, one linear SVM."""
    union = FeatureUnion([
        ("word", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)),
        ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)),
    ])
    return make_pipeline(union, LinearSVC(C=C))


def tfidf_svm_tuned(texts: list[str], labels: list[str], folds: int = 3) -> object:
    """The strong baseline with C picked from C_GRID by stratified cross-validation on the training data only."""
    smallest = min(labels.count(v) for v in set(labels))
    if smallest < 2:
        return tfidf_svm().fit(texts, labels)
    cv = StratifiedKFold(n_splits=min(folds, smallest), shuffle=True, random_state=0)
    search = GridSearchCV(tfidf_svm(), {"linearsvc__C": list(C_GRID)}, cv=cv, scoring="accuracy", refit=True)
    return search.fit(texts, labels).best_estimator_


def tfidf_word_svm() -> object:
    """The weak baseline earlier figures used: word 1-2-gram TF-IDF only (no emoticons, no subwords)."""
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
