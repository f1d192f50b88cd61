"""Abuse aimed at people: insults and hostile phrases in German and English.

The community holds a new member's post for a moderator when it reads as abusive (issue 14, "spam and
abuse"). The intent model has no such label (the seed corpus has none, and a customer's anger at a product
is a complaint, not abuse), so this is a short, explicit list the team can read and extend: words that insult
a person, matched as whole words (German compounds by their insulting ending, "Vollidiot"), and phrases that
attack the reader. Swearing about a thing ("Scheiße, das geht nicht") is not on it.
"""

from __future__ import annotations

import re
import unicodedata

#: insults as whole words (lower case)
INSULTS = frozenset({
    # German
    "idiot", "idioten", "idiotin", "arschloch", "arschlöcher", "wichser", "hurensohn", "hurensöhne", "schlampe",
    "fotze", "spast", "spasti", "missgeburt", "trottel", "vollpfosten", "penner", "depp", "deppen", "dummkopf",
    "drecksack", "mistkerl", "miststück", "schwachkopf", "versager", "bastard", "kanake", "schwuchtel",
    # English
    "asshole", "assholes", "bitch", "bitches", "moron", "morons", "retard", "retarded", "dickhead", "cunt",
    "motherfucker", "scumbag", "douchebag", "faggot", "imbecile", "wanker", "twat", "dumbass", "jackass",
})
#: German compounds that end in an insult ("Vollidiot", "Riesenarschloch")
INSULT_ENDINGS = ("idiot", "idioten", "arschloch", "wichser", "trottel", "depp", "deppen", "versager")
#: phrases that attack the reader
PHRASES = (
    r"halt (?:die|deine) (?:fresse|klappe|schnauze)", r"halt'?s maul", r"fick dich", r"verpiss dich",
    r"du bist (?:so )?(?:dumm|bescheuert|behindert)", r"shut (?:the fuck )?up", r"fuck (?:you|off)",
    r"kill yourself", r"go die", r"you(?:'re| are) (?:so )?(?:stupid|an idiot|a moron|retarded)",
)
_PHRASE = re.compile(r"\b(?:" + "|".join(PHRASES) + r")\b")
_WORD = re.compile(r"[^\W\d_]+")


def _normal(text: str) -> str:
    """Lower case and NFKC (full-width letters become plain ones). Spelling games ("A*schloch") are not
    guessed at: a reporter or moderator catches those."""
    return unicodedata.normalize("NFKC", text or "").lower().replace("’", "'")


def abusive_terms(text: str) -> list[str]:
    """The insults and hostile phrases found in ``text`` (empty when none), for the moderator's note."""
    normal = _normal(text)
    found = [m.group(0) for m in _PHRASE.finditer(normal)]
    for word in _WORD.findall(normal):
        if word in INSULTS or (len(word) > 6 and word.endswith(INSULT_ENDINGS)):
            found.append(word)
    return list(dict.fromkeys(found))


def is_abusive(text: str) -> bool:
    return bool(abusive_terms(text))
