"""Scores used to compare model versions and to report evaluations."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import f1_score

from .features import clean_text


def classification_scores(y_true: list[str], y_pred: list[str]) -> dict:
    labels = sorted(set(y_true) | set(y_pred))
    per = f1_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    acc = float(np.mean([a == b for a, b in zip(y_true, y_pred, strict=True)])) if y_true else 0.0
    return {
        "accuracy": round(acc, 4),
        "micro_f1": round(float(f1_score(y_true, y_pred, average="micro", zero_division=0)), 4),
        "macro_f1": round(float(f1_score(y_true, y_pred, average="macro", zero_division=0)), 4),
        "per_class_f1": {lab: round(float(f), 4) for lab, f in zip(labels, per, strict=True)},
    }


def score_model(model, examples, embedder=None, cache=None) -> float:
    """One number for "is this version better": mean of sentiment macro-F1 and intent micro-F1
    over the labels the held-back examples carry."""
    from .model import embed_texts

    texts = [clean_text(e.text) for e in examples]
    E = embed_texts(embedder, texts, cache) if model.embedder_name else None
    sent_p, int_p = model.predict(texts, E)
    parts = []
    s_idx = [i for i, e in enumerate(examples) if e.sentiment]
    if s_idx and sent_p is not None:
        names = ("negative", "neutral", "positive")
        pred = [names[int(sent_p[i].argmax())] for i in s_idx]
        parts.append(f1_score([examples[i].sentiment for i in s_idx], pred, average="macro", zero_division=0))
    i_idx = [i for i, e in enumerate(examples) if e.intents is not None]
    if i_idx and int_p is not None:
        labels = model.intent_labels
        truth = np.array([[lab in (examples[i].intents or []) for lab in labels] for i in i_idx])
        pred = int_p[i_idx] >= 0.5
        parts.append(f1_score(truth, pred, average="micro", zero_division=0))
    return round(float(np.mean(parts)), 4) if parts else 0.0
