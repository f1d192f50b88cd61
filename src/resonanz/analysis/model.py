"""The trained part of the engine: sentiment and intent classifiers sharing one featurizer.

``EngineModel`` is what a model version stores on disk (joblib). It holds
no embedder, only the embedder's name: vectors are computed by the caller
(and cached), and a model trained with embeddings refuses to run without
the same embedder rather than silently degrade.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .classifier import MultiLabelClassifier, StackedClassifier
from .embcache import EmbeddingCache, embed_cached
from .features import Featurizer, clean_text
from .labelled import Example, check_examples
from .outofscope import OutOfScope, find_oos_label

SEED_CORPUS = Path(__file__).parent / "seed" / "corpus.jsonl"
DEFAULT_INTENTS = ("question", "complaint", "praise", "suggestion", "purchase_interest", "churn_risk",
                   "legal_threat", "outage", "spam")


@dataclass
class EngineModel:
    featurizer: Featurizer
    sentiment: StackedClassifier | None
    intents: MultiLabelClassifier | None
    embedder_name: str | None
    counts: dict = field(default_factory=dict)
    # Share of the team's lexicon (+VADER) in the sentiment output. The seed corpus is ours and narrow;
    # the lexicon is independent knowledge that carries over to texts unlike the corpus (general tweets).
    lexicon_weight: float = 0.0
    # The intents' "everything else" class, if the training labels had one (found by name; outofscope.py).
    oos_label: str | None = None

    def predict(self, texts: list[str], E: np.ndarray | None) -> tuple[np.ndarray | None, np.ndarray | None]:
        """(sentiment probabilities over negative/neutral/positive, intent probabilities) per text."""
        X = self.featurizer.transform(texts)
        E = E if self.embedder_name else None
        sent = None
        if self.sentiment is not None:
            p = self.sentiment.predict_proba(X, E)
            sent = np.zeros((len(texts), 3))
            for j, c in enumerate(self.sentiment.classes_):
                sent[:, ("negative", "neutral", "positive").index(c)] = p[:, j]
            if self.lexicon_weight:
                from .lexicon import probabilities

                lex = np.array([probabilities(t) for t in texts])
                sent = (1 - self.lexicon_weight) * sent + self.lexicon_weight * lex
        intents = self.intents.predict_proba(X, E) if self.intents is not None else None
        return sent, intents

    @property
    def intent_labels(self) -> list[str]:
        return list(self.intents.labels) if self.intents is not None else []

    def out_of_scope(self, intent_proba: np.ndarray, threshold: float) -> np.ndarray:
        """Per text: does it belong to no taught intent? The eval's rule, with the analyzer's intent threshold
        (one-vs-rest probabilities: no real intent reaching it means none fits). All False without the class."""
        labels = self.intent_labels
        if not self.oos_label or self.oos_label not in labels or len(labels) < 3:
            return np.zeros(len(intent_proba), dtype=bool)
        return OutOfScope(self.oos_label, labels.index(self.oos_label), threshold).mask(intent_proba)


def seed_examples() -> list[Example]:
    """The team's bilingual seed corpus as examples."""
    out = []
    with SEED_CORPUS.open(encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            out.append(Example(text=r["text"], sentiment=r["sentiment"], intents=r["intents"], language=r["language"],
                               meta={"source": "seed", "urgency": r["urgency"], "complexity": r["complexity"],
                                     "template": r.get("template", "")}))
    return out


def embed_texts(embedder, texts: list[str], cache: EmbeddingCache | None, progress=None) -> np.ndarray | None:
    if embedder is None:
        return None
    return embed_cached(embedder, texts, cache, progress=progress)


def train_model(examples: list[Example], embedder=None, cache: EmbeddingCache | None = None,
                intent_labels: list[str] | None = None, progress=None, folds: int = 4) -> EngineModel:
    """Fit featurizer, sentiment and intent classifiers on whatever labels the examples carry."""
    check_examples(examples)
    texts = [clean_text(e.text) for e in examples]
    weights = np.array([e.weight for e in examples], dtype=float)
    if embedder is not None:  # the seed corpus's vectors ship with the package (analysis/seedvectors.py)
        from .seedvectors import seeded_cache

        cache = seeded_cache(embedder, cache)[0]
    E = embed_texts(embedder, texts, cache, progress)
    feat = Featurizer().fit(texts)
    X = feat.transform(texts)
    s_idx = [i for i, e in enumerate(examples) if e.sentiment]
    sentiment = None
    if len({examples[i].sentiment for i in s_idx}) >= 2:
        sentiment = StackedClassifier(folds=folds).fit(
            X[s_idx], None if E is None else E[s_idx], [examples[i].sentiment for i in s_idx], weights[s_idx])
    i_idx = [i for i, e in enumerate(examples) if e.intents is not None]
    intents = None
    if i_idx:
        sets = [list(examples[i].intents or []) for i in i_idx]
        labels = intent_labels or sorted({lab for s in sets for lab in s})
        sets = [[lab for lab in s if lab in labels] for s in sets]
        intents = MultiLabelClassifier(folds=min(folds, 3), knn=False).fit(
            X[i_idx], None if E is None else E[i_idx], sets, labels, weights[i_idx])
    counts = {
        "examples": len(examples),
        "sentiment": dict(Counter(examples[i].sentiment for i in s_idx)),
        "intents": dict(Counter(lab for i in i_idx for lab in (examples[i].intents or []))),
        "languages": dict(Counter(e.language or "?" for e in examples)),
        "trained_at": time.time(),
    }
    oos = find_oos_label(intents.labels) if intents is not None else None
    return EngineModel(feat, sentiment, intents, getattr(embedder, "name", None), counts, oos_label=oos)
