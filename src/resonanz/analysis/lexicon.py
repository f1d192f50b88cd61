"""The team's sentiment lexicon (German + English + emoji) with negation and intensifiers.

Why our own: textblob-de misses everyday service language ("Super Hilfe,
danke!" scores 0) and VADER is English only. Scores are in [-1, 1] per
word; a negator within the three preceding tokens flips and damps a word,
an intensifier scales it. The score feeds the classifier as a feature and
is the fallback when no model is loaded.
"""

from __future__ import annotations

import re

_W = {
    # German positive
    "danke": 0.5, "dank": 0.4, "vielen": 0.1, "super": 0.7, "toll": 0.7, "klasse": 0.7, "prima": 0.6, "gut": 0.5,
    "gute": 0.5, "guten": 0.3, "guter": 0.5, "gutes": 0.5, "besser": 0.4, "beste": 0.8, "besten": 0.8, "top": 0.7,
    "perfekt": 0.8, "zufrieden": 0.6, "begeistert": 0.8, "freundlich": 0.6, "freundliche": 0.6, "schnell": 0.4,
    "schnelle": 0.4, "lob": 0.6, "empfehlen": 0.6, "liebe": 0.6, "lieben": 0.5, "schön": 0.6, "schöne": 0.6,
    "schönen": 0.5, "genial": 0.8, "geil": 0.6, "mega": 0.5, "hammer": 0.6, "spitze": 0.7, "hervorragend": 0.9,
    "ausgezeichnet": 0.9, "wunderbar": 0.8, "freue": 0.6, "freu": 0.6, "glücklich": 0.7, "froh": 0.6,
    "kompetent": 0.6, "unkompliziert": 0.5, "respekt": 0.5, "geklappt": 0.4, "gelöst": 0.4, "bravo": 0.7,
    "endlich": 0.2, "lecker": 0.6, "cool": 0.5, "grandios": 0.8, "wahnsinn": 0.4, "hilfreich": 0.5, "lustig": 0.4,
    "gerne": 0.3, "gern": 0.3, "spannend": 0.4, "herzlichen": 0.5, "glückwunsch": 0.7, "frohe": 0.6, "yeah": 0.5,
    # German negative
    "schlecht": -0.7, "schlechte": -0.7, "schlechter": -0.7, "schlechteste": -0.9, "kaputt": -0.6, "defekt": -0.6,
    "sauer": -0.7, "ärgerlich": -0.6, "ärger": -0.6, "enttäuscht": -0.7, "enttäuschend": -0.7, "frechheit": -0.9,
    "katastrophe": -0.9, "unverschämt": -0.9, "unfreundlich": -0.7, "schrott": -0.8, "mist": -0.6, "scheiße": -0.9,
    "scheiss": -0.9, "kacke": -0.8, "nervt": -0.6, "genervt": -0.6, "nervig": -0.6, "peinlich": -0.7,
    "unfassbar": -0.6, "unglaublich": -0.3, "leider": -0.4, "problem": -0.4, "probleme": -0.4, "fehler": -0.4,
    "verspätung": -0.5, "verspätet": -0.5, "ausfall": -0.5, "störung": -0.5, "beschwerde": -0.6, "warte": -0.3,
    "wartezeit": -0.4, "nie": -0.3, "niemals": -0.4, "betrug": -0.9, "abzocke": -0.9, "traurig": -0.6,
    "schlimm": -0.7, "schrecklich": -0.8, "furchtbar": -0.8, "hass": -0.8, "hasse": -0.8, "wütend": -0.8,
    "lächerlich": -0.7, "mies": -0.7, "miese": -0.7, "fail": -0.6, "dumm": -0.6, "blöd": -0.6, "blöde": -0.6,
    "langweilig": -0.5, "deprimierend": -0.7, "krank": -0.4, "angst": -0.5, "tot": -0.5, "chaos": -0.6,
    "zumutung": -0.8, "inkompetent": -0.8, "leid": -0.4, "schade": -0.5, "beschädigt": -0.6, "kündige": -0.5,
    # English positive
    "thanks": 0.5, "thank": 0.5, "great": 0.7, "awesome": 0.8, "amazing": 0.8, "excellent": 0.9, "good": 0.5,
    "best": 0.8, "love": 0.7, "loving": 0.7, "perfect": 0.8, "happy": 0.7, "friendly": 0.6, "helpful": 0.6,
    "recommend": 0.6, "fantastic": 0.8, "impressive": 0.7, "appreciated": 0.6, "nice": 0.5, "fast": 0.3,
    # English negative
    "bad": -0.7, "worst": -0.9, "terrible": -0.8, "awful": -0.8, "horrible": -0.8, "broken": -0.6, "angry": -0.7,
    "disappointed": -0.7, "disappointing": -0.7, "ridiculous": -0.7, "rude": -0.7, "useless": -0.8, "rubbish": -0.8,
    "disaster": -0.9, "fraud": -0.9, "scam": -0.9, "hate": -0.8, "annoying": -0.6, "fed": -0.4, "unacceptable": -0.8,
    "delay": -0.5, "delayed": -0.5, "outage": -0.5, "issue": -0.3, "never": -0.3, "sucks": -0.8,
}
_EMOJI = {
    "😊": 0.6, "😀": 0.6, "😃": 0.6, "😄": 0.6, "😁": 0.6, "😍": 0.8, "🥰": 0.8, "😘": 0.5, "❤": 0.7, "❤️": 0.7,
    "👍": 0.6, "👏": 0.4, "🙏": 0.4, "🎉": 0.6, "🔥": 0.4, "⭐": 0.4, "😂": 0.4, "🤣": 0.4, "☀": 0.3, "😎": 0.5,
    "💪": 0.4, "🙂": 0.3, ":)": 0.5, ":-)": 0.5, ";)": 0.4, ":D": 0.6, "<3": 0.6,
    "😡": -0.8, "🤬": -0.9, "😤": -0.6, "🙄": -0.5, "😞": -0.6, "😢": -0.6, "😭": -0.6, "👎": -0.7, "😩": -0.6,
    "😠": -0.7, "💩": -0.6, "🙃": -0.2, "😒": -0.5, ":(": -0.5, ":-(": -0.5,
}
_NEGATORS = {"nicht", "nich", "kein", "keine", "keinen", "keiner", "nie", "niemals", "ohne", "not", "no", "never",
             "don't", "dont", "doesn't", "isn't", "wasn't", "can't", "cannot", "n't", "nothing", "nichts"}
_INTENSIFIERS = {"sehr": 1.5, "extrem": 1.8, "total": 1.5, "echt": 1.3, "wirklich": 1.3, "richtig": 1.3,
                 "mega": 1.5, "so": 1.2, "voll": 1.4, "absolut": 1.6, "ziemlich": 1.2, "super": 1.4, "very": 1.5,
                 "really": 1.4, "extremely": 1.8, "totally": 1.5, "so much": 1.3, "absolutely": 1.6, "etwas": 0.7,
                 "bisschen": 0.6, "kaum": 0.5, "slightly": 0.6, "bit": 0.7}
_IRONY = re.compile(r"\b(na (super|toll|prima|klasse)|ganz großes kino|oh great|well done|love it|danke für nichts|"
                    r"thanks for nothing|toller service|amazing service|vielen dank auch)\b", re.I)
_TOKEN = re.compile(r"[^\W\d_]+(?:'[a-z]+)?|[:;][-]?[()D]|<3|[\U0001F300-\U0001FAFF\u2600-\u27BF]", re.UNICODE)


def score(text: str) -> tuple[float, int, int]:
    """(polarity in [-1, 1], positive hits, negative hits)."""
    tokens = _TOKEN.findall(text[:5000].lower())
    total = 0.0
    pos = neg = 0
    for i, tok in enumerate(tokens):
        w = _W.get(tok, _EMOJI.get(tok, _EMOJI.get(tok.upper(), 0.0)))
        if not w:
            continue
        prev = tokens[max(0, i - 3) : i]
        for p in prev[-1:]:
            w *= _INTENSIFIERS.get(p, 1.0)
        if any(p in _NEGATORS for p in prev):
            w = -0.6 * w
        total += w
        if w > 0:
            pos += 1
        else:
            neg += 1
    if _IRONY.search(text[:5000]):
        total = min(total, 0.0) - 0.7
        neg += 1
    # Squash: one strong word gives about 0.6, several saturate towards 1.
    polarity = total / (abs(total) + 0.5) if total else 0.0
    return polarity, pos, neg


def probabilities(text: str) -> list[float]:
    """Negative/neutral/positive probabilities from the lexicon and VADER alone (no trained model)."""
    from .features import _vader_compound

    pol = 0.6 * score(text)[0] + 0.4 * _vader_compound(text)
    if abs(pol) < 0.1:
        return [0.15, 0.7, 0.15]
    strong = 0.5 + 0.5 * min(1.0, abs(pol) * 1.5)
    return [strong, 1.0 - strong, 0.0] if pol < 0 else [0.0, 1.0 - strong, strong]
