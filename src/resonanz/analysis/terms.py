"""Driving terms: the words and phrases that set a selection of texts apart from a baseline.

When complaints spike, or a product's week turns negative, a person wants to see *why* without reading
everything: "Lieferung verspätet" in 140 of the spike's posts against 12 before. Raw frequency ratios
crown rare words (one mention against none is an infinite ratio) and raw counts crown common ones, so
terms are ranked by the weighted log-odds ratio with an informative Dirichlet prior (Monroe, Colaresi &
Quinn, "Fightin' Words", Political Analysis 2008): each term's log-odds in the selection minus its
log-odds in the baseline, both smoothed towards the term's pooled frequency, divided by its standard
error. The z-score says how sure the difference is, so a term seen 3 times cannot outrank one seen 300.

Terms are simplemma lemmas of German and English words ("Lieferungen" and "Lieferung" are one term),
stop words removed, and bigrams of adjacent words, where a negation may start a bigram ("nicht
angekommen", "not working") though it is never a term alone, and a lone digit too ("2 wochen", not "2").
A term counts once per text: "in how many posts" is what a reader understands, and one post repeating a
word twenty times does not drive a spike.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from .language import detect_language
from .retrieval.stopwords import ALL as STOP_WORDS
from .retrieval.text import LANGUAGES, lemma, raw_tokens

NEGATIONS = frozenset({"not", "no", "never", "nor", "without", "nicht", "kein", "keine", "keinen", "keinem",
                       "keiner", "keines", "nie", "niemals", "ohne", "nichts"})
_NOISE = re.compile(r"https?://\S+|www\.\S+|\S+@\S+\.\w+|@\w+")
_CLAUSE = re.compile(r"[.!?;:,()\[\]\n\r\t\"“”„]+")


@dataclass(frozen=True)
class DrivingTerm:
    term: str                 # a lemma or "lemma lemma"
    z: float                  # how sure the over-representation is (standard errors of the log-odds ratio)
    count: int                # texts in the selection that contain the term
    baseline_count: int       # texts in the baseline that contain it

    def to_dict(self) -> dict:
        return {"term": self.term, "z": round(self.z, 3), "count": self.count, "baseline_count": self.baseline_count}


Text = str | tuple[str, str | None]


def text_terms(text: str, language: str | None = None) -> set[str]:
    """The unigram and bigram terms of one text (each once). An unknown language is detected."""
    text = _NOISE.sub(" ", text or "")
    if language not in LANGUAGES:
        detected = detect_language(text).code
        language = detected if detected in LANGUAGES else None
    lang = language or ""
    out: set[str] = set()
    for clause in _CLAUSE.split(text):             # no bigram across a full stop or comma
        prev: str | None = None                    # previous lemma or negation; None after a stop word
        for tok in raw_tokens(clause):
            if tok in NEGATIONS:
                prev = tok
                continue
            lem = None if tok in STOP_WORDS or (len(tok) < 2 and not tok.isdigit()) else lemma(tok, lang)
            if lem is not None and lem not in STOP_WORDS:
                if len(lem) > 1:                   # a lone digit says something only in a bigram ("2 wochen")
                    out.add(lem)
                if prev is not None:
                    out.add(f"{prev} {lem}")
            else:
                lem = None
            prev = lem
    return out


def _count(texts: Iterable[Text]) -> tuple[Counter, int]:
    counts: Counter = Counter()
    n = 0
    for item in texts:
        text, lang = (item, None) if isinstance(item, str) else item
        counts.update(text_terms(text, lang))
        n += 1
    return counts, n


def driving_terms(selection: Sequence[Text], baseline: Sequence[Text], top: int = 20, min_count: int = 3,
                  min_z: float = 1.96, prior: float = 1.0, background: Counter | None = None) -> list[DrivingTerm]:
    """Terms over-represented in ``selection`` against ``baseline``, most certain first.

    Each text is a string or ``(text, language)`` (``"de"``/``"en"``; anything else is detected). The prior
    for a term is ``prior`` × its count in ``background`` (default: selection and baseline pooled, as in
    Monroe et al.). Only terms in at least ``min_count`` selected texts and with z ≥ ``min_z`` are kept.
    """
    if not isinstance(selection, Sequence) or not isinstance(baseline, Sequence) or isinstance(selection, str) \
            or isinstance(baseline, str):
        raise TypeError("selection and baseline must be lists of texts")
    if prior <= 0 or not math.isfinite(prior):
        raise ValueError("prior must be a positive number")
    sel, n_sel = _count(selection)
    base, n_base = _count(baseline)
    if not n_sel or not n_base:
        return []
    return log_odds(sel, base, top=top, min_count=min_count, min_z=min_z, prior=prior, background=background)


def log_odds(sel: Counter, base: Counter, top: int = 20, min_count: int = 3, min_z: float = 1.96,
             prior: float = 1.0, background: Counter | None = None,
             totals: tuple[float, float] | None = None) -> list[DrivingTerm]:
    """The weighted log-odds ratio with an informative Dirichlet prior, on term counts of two corpora.

    ``totals`` (all terms counted in the selection, in the baseline) lets a caller pass ``base`` with only
    the selection's terms filled in, which is all the formula needs (idea clusters label many groups).
    """
    vocab = [t for t, c in sel.items() if c >= min_count]
    if not vocab:
        return []
    n_i, n_j = totals if totals is not None else (float(sum(sel.values())), float(sum(base.values())))
    if background is None:
        bg, bg_total = None, n_i + n_j          # the pooled counts of both sides
    else:
        bg, bg_total = background, float(sum(background.values())) or 1.0
    scale = prior * (n_i + n_j) / bg_total      # alpha_w = prior × pooled count (a background is rescaled)
    y_i = np.array([sel[t] for t in vocab], dtype=float)
    y_j = np.array([base.get(t, 0) for t in vocab], dtype=float)
    pooled = y_i + y_j if bg is None else np.array([bg.get(t, 0) for t in vocab], dtype=float)
    a_w = np.maximum(pooled * scale, 0.01)
    a_0 = max(bg_total * scale, float(a_w.sum()))
    delta = (np.log(y_i + a_w) - np.log(n_i + a_0 - y_i - a_w)) - (np.log(y_j + a_w) - np.log(n_j + a_0 - y_j - a_w))
    z = delta / np.sqrt(1 / (y_i + a_w) + 1 / (y_j + a_w))
    order = sorted(range(len(vocab)), key=lambda k: (-z[k], vocab[k]))  # ties: alphabetical, deterministic
    out = []
    for k in order:
        if z[k] < min_z or len(out) >= top:
            break
        out.append(DrivingTerm(vocab[k], float(z[k]), int(y_i[k]), int(y_j[k])))
    return out
