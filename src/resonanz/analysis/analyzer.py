"""``Analyzer``: one call from text to language, sentiment, intents, urgency, complexity, entities, relevance.

The trained models give sentiment and intent probabilities; urgency,
complexity and relevance are derived from them with explicit rules, because
operators must be able to see why a message was escalated or answered by
the bot. Every input gives a result: junk, empty or unreadable text gets
language "other", neutral sentiment and a low confidence.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from . import lexicon
from .embcache import RecentCache
from .entities import Catalog, find_entities, key_phrases
from .features import clean_text
from .language import detect_language, has_content
from .model import DEFAULT_INTENTS, EngineModel, embed_texts
from .result import (
    AnalysisResult,
    ComplexityResult,
    EntityResult,
    IntentResult,
    LanguageResult,
    SentimentResult,
)
from .store import ModelStore

SENTIMENTS = ("negative", "neutral", "positive")
_DEFAULT = object()
_URGENT = re.compile(r"\b(dringend|sofort|eilig|umgehend|heute noch|urgent|asap|immediately|right now|"
                     r"frist|deadline)\b|!!!", re.I)
URGENCY_WEIGHT = {"legal_threat": 0.9, "outage": 0.8, "churn_risk": 0.75, "complaint": 0.55, "purchase_interest": 0.4,
                  "question": 0.3, "suggestion": 0.1, "praise": 0.05, "spam": 0.0}
EMOTIONAL = ("complaint", "churn_risk", "legal_threat")
BOT_INTENTS = ("question",)
CUSTOMER_INTENTS = ("question", "complaint", "praise", "suggestion", "purchase_interest", "churn_risk",
                    "legal_threat", "outage")


def unsure_mask(sent, intents, unsure: float = 0.6, threshold: float = 0.5, band: float = 0.25,
                n: int = 0) -> np.ndarray:
    """The fast path's rule (values set a priori): which texts the static vectors leave unsure, so the encoder
    reads them. Sentiment whose top probability is below ``unsure``, or an intent within ``band`` of its
    ``threshold`` (it decides routing and the bot). ``resonanz eval --fast`` scores the same rule."""
    mask = np.zeros(n if sent is None and intents is None else len(sent if sent is not None else intents), dtype=bool)
    if sent is not None:
        mask |= sent.max(axis=1) < unsure
    if intents is not None:
        mask |= (np.abs(intents - threshold) < band).any(axis=1)
    return mask


class Analyzer:
    """Analyses texts with the active model of a ``ModelStore`` (or lexicons only when ``model_dir`` is None).

    ``embedder``: by default the configured one (``get_embedder()``) if the
    model was trained with embeddings; pass None to run without (lower quality,
    about ten times faster). ``recent``: how many texts' vectors to keep in
    memory (0: none), so a text seen again is not embedded again. ``fast``: an
    embedder approximating the encoder's vectors cheaply (``static.py``); the
    model predicts on its vectors first, and only texts whose sentiment is
    below ``fast_unsure`` or with an intent within ``fast_band`` of the
    threshold are embedded by the encoder and predicted again.
    """

    def __init__(self, model_dir: Path | str | None = None, embedder=_DEFAULT, *, labels: list[str] | None = None,
                 intent_threshold: float = 0.5, recent: int = 4096, fast=None, fast_unsure: float = 0.6,
                 fast_band: float = 0.25) -> None:
        self.store = ModelStore(model_dir) if model_dir else None
        self.version, self.model = ("lexicon-only", None)
        if self.store:
            self.version, self.model = self.store.load_active()
        if embedder is _DEFAULT:
            embedder = None
            if self.model is not None and self.model.embedder_name:
                from .embedder import get_embedder

                embedder = get_embedder()
        self.embedder = embedder
        self.recent = RecentCache(recent)  # vectors of the last texts: repeated texts are not embedded again
        self.fast, self.fast_unsure, self.fast_band = fast, fast_unsure, fast_band
        self.fast_counts = [0, 0]  # texts decided on the fast vectors, texts that needed the encoder
        self.labels = list(labels) if labels else None
        self.intent_threshold = intent_threshold

    def reload(self) -> str:
        """Switch to the store's active version; on a broken file the current model stays in use."""
        if self.store:
            version, model = self.store.load_active()
            self.version, self.model = version, model
        return self.version

    def analyze(self, text: str, *, catalog: Catalog | None = None, kind: str = "message") -> AnalysisResult:
        return self.analyze_batch([text], catalog=catalog, kind=kind)[0]

    def analyze_batch(self, texts: list[str], *, catalog: Catalog | None = None, kind: str = "message",
                      batch_size: int = 64) -> list[AnalysisResult]:
        out: list[AnalysisResult] = []
        for i in range(0, len(texts), batch_size):
            out.extend(self._batch(list(texts[i : i + batch_size]), catalog, kind))
        return out

    def _predict_embedded(self, sub: list[str]):
        """Encoder vectors for every text; with a ``fast`` embedder, only for the texts its vectors leave unsure."""
        if self.fast is None:
            return self.model.predict(sub, embed_texts(self.embedder, sub, self.recent))
        s, ip = self.model.predict(sub, self.fast.embed_queries(sub))
        unsure = unsure_mask(s, ip, self.fast_unsure, self.intent_threshold, self.fast_band, len(sub))
        idx = np.flatnonzero(unsure)
        self.fast_counts[0] += len(sub) - len(idx)
        self.fast_counts[1] += len(idx)
        if len(idx):
            part = [sub[i] for i in idx]
            s2, ip2 = self.model.predict(part, embed_texts(self.embedder, part, self.recent))
            if s is not None:
                s[idx] = s2
            if ip is not None:
                ip[idx] = ip2
        return s, ip

    # -----------------------------------------------------------------------
    def _batch(self, raw: list, catalog: Catalog | None, kind: str) -> list[AnalysisResult]:
        texts = [clean_text(t) for t in raw]
        langs = [detect_language(t) for t in texts]
        real = [i for i, t in enumerate(texts) if has_content(t)]
        sent_p = np.tile([0.0, 1.0, 0.0], (len(texts), 1))
        int_p: np.ndarray | None = None
        used_emb = False
        if real:
            sub = [texts[i] for i in real]
            if self.model is not None:
                if self.embedder is not None and self.model.embedder_name:
                    s, ip = self._predict_embedded(sub)
                    used_emb = True
                else:
                    s, ip = self.model.predict(sub, None)
                if s is not None:
                    sent_p[real] = s
                if ip is not None:
                    int_p = np.zeros((len(texts), ip.shape[1]))
                    int_p[real] = ip
            else:
                sent_p[real] = [lexicon.probabilities(t) for t in sub]
        labels = self.model.intent_labels if self.model is not None else []
        outside = np.zeros(len(texts), dtype=bool)
        if int_p is not None and real:
            outside[real] = self.model.out_of_scope(int_p[real], self.intent_threshold)
        results = []
        for i, t in enumerate(texts):
            probs = {} if int_p is None else {lab: round(float(p), 4) for lab, p in zip(labels, int_p[i], strict=True)}
            if self.labels is not None:
                probs = {k: v for k, v in probs.items() if k in self.labels}
            results.append(self._result(t, langs[i], sent_p[i], probs, i in set(real), catalog, kind, used_emb,
                                        bool(outside[i])))
        return results

    def _result(self, text, lang, sp, probs, real, catalog, kind, used_emb, outside=False) -> AnalysisResult:
        j = int(np.argmax(sp))
        conf = float(sp[j])
        if not real:
            conf = 0.0
        elif lang.code == "other":
            conf *= 0.6  # the models learnt German and English
        score = float(np.clip(sp[2] - sp[0], -1, 1))
        chosen = sorted((k for k, v in probs.items() if v >= self.intent_threshold), key=lambda k: -probs[k])
        if not real:
            chosen = []
        urgency = self._urgency(text, probs, sp) if real else 0.0
        complexity = self._complexity(text, chosen, probs, sp, real)
        if outside and complexity.bot_answerable:  # belongs to no taught intent: never answered automatically
            complexity = ComplexityResult(complexity.label, False, complexity.reasons + ["out of scope"])
        ents = [EntityResult(**e.__dict__) for e in find_entities(text, catalog)]
        relevance = self._relevance(probs, ents, kind, real)
        return AnalysisResult(
            language=LanguageResult(lang.code, lang.confidence),
            sentiment=SentimentResult(SENTIMENTS[j] if real else "neutral", round(score if real else 0.0, 4),
                                      round(conf, 4), {s: round(float(p), 4) for s, p in zip(SENTIMENTS, sp, strict=True)}),
            intents=IntentResult(chosen, probs, outside),
            urgency=round(urgency, 4), complexity=complexity, entities=ents,
            key_phrases=key_phrases(text) if real else [], relevance=round(relevance, 4),
            model_version=self.version, embeddings_used=used_emb,
        )

    @staticmethod
    def _urgency(text: str, probs: dict, sp) -> float:
        """Expected urgency of the intents, raised by negativity and explicit urgency words."""
        base = max([URGENCY_WEIGHT.get(k, 0.3) * v for k, v in probs.items()] + [0.1])
        base += 0.15 * float(sp[0])
        if _URGENT.search(text):
            base += 0.2
        return float(min(1.0, max(0.0, base)))

    @staticmethod
    def _complexity(text, chosen, probs, sp, real) -> ComplexityResult:
        reasons = []
        if sp[0] >= 0.6 and any(probs.get(k, 0) >= 0.4 for k in EMOTIONAL):
            reasons.append("emotional")
        if "legal_threat" in chosen:
            reasons.append("legal")
        if len([c for c in chosen if c != "spam"]) > 1:
            reasons.append("several concerns")
        if len(text) > 400:
            reasons.append("long")
        label = "complex" if reasons else "simple"
        bot = (real and label == "simple" and bool(chosen) and set(chosen) <= set(BOT_INTENTS)
               and sp[0] < 0.5)
        return ComplexityResult(label, bool(bot), reasons)

    @staticmethod
    def _relevance(probs: dict, ents: list[EntityResult], kind: str, real: bool) -> float:
        """How likely the text concerns the company: naming it or its products counts most."""
        if not real:
            return 0.0
        spam = probs.get("spam", 0.0)
        service = max([probs.get(k, 0.0) for k in CUSTOMER_INTENTS] + [0.0])
        named = max([e.score for e in ents if e.kind in ("company", "brand", "product")] + [0.0])
        if kind == "message":  # addressed to the company: relevant unless spam
            return 1.0 - 0.9 * spam
        rel = 0.15 + 0.35 * service + 0.5 * named
        return float(min(1.0, max(0.0, rel * (1.0 - 0.8 * spam))))


__all__ = ["Analyzer", "DEFAULT_INTENTS", "EngineModel"]
