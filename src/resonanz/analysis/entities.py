"""Products, brands and competitors from the operator's catalog, plus key phrases.

Fuzzy matching (rapidfuzz) over 1-3 word windows catches typos and
inflections ("Fritzbox"/"FritzBox 7590", "Vodafon"); names of four
characters or fewer must match exactly, or every short word would hit.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

_WORD = re.compile(r"[\w][\w\-\+\.&']*", re.UNICODE)
STOP = set(
    "der die das und oder aber ich du er sie es wir ihr mein meine ist sind war bin hat habe hab nicht kein keine "
    "ein eine einen dem den des zu zum zur mit von für auf an in im am aus bei nach seit wie was wann wo warum "
    "noch schon auch nur sehr so dass da hier mal bitte danke euch euer eure uns mir mich dir dich sich man "
    "the a an and or but i you he she it we they my your is are was were be been have has had not no to of for on "
    "in at by with from as this that these those me us him her them our their do does did can could would will "
    "just so very please thanks hi hello hallo".split()
)


@dataclass
class CatalogEntry:
    name: str
    kind: str = "product"  # product, brand, competitor or company
    aliases: list[str] = field(default_factory=list)


@dataclass
class Catalog:
    """What the operator sells and who they compete with. ``company`` entries drive relevance."""

    entries: list[CatalogEntry] = field(default_factory=list)
    threshold: float = 88.0

    @classmethod
    def from_dict(cls, data: dict) -> Catalog:
        """{"products": [{"name": .., "aliases": [..]}, ..], "competitors": [...], "brands": [...], "company": [...]}"""
        entries = []
        for key, kind in (("products", "product"), ("brands", "brand"), ("competitors", "competitor"),
                          ("company", "company"), ("companies", "company")):
            for item in data.get(key, []):
                if isinstance(item, str):
                    item = {"name": item}
                entries.append(CatalogEntry(item["name"], kind, list(item.get("aliases", []))))
        return cls(entries)

    def _index(self) -> tuple[list[str], list[CatalogEntry]]:
        if getattr(self, "_idx", None) is None:
            keys, owners = [], []
            for e in self.entries:
                for alias in [e.name, *e.aliases]:
                    if alias.strip():
                        keys.append(alias.lower().strip())
                        owners.append(e)
            self._idx = (keys, owners)
        return self._idx


@dataclass
class Entity:
    text: str
    name: str
    kind: str
    score: float
    start: int
    end: int


def find_entities(text: str, catalog: Catalog | None, limit_chars: int = 5000) -> list[Entity]:
    if not catalog or not catalog.entries or not text:
        return []
    keys, owners = catalog._index()
    text = text[:limit_chars]
    words = list(_WORD.finditer(text))
    found: dict[str, Entity] = {}
    for n in (3, 2, 1):
        for i in range(len(words) - n + 1):
            start, end = words[i].start(), words[i + n - 1].end()
            cand = text[start:end].lower().strip(".'")
            if n == 1 and cand in STOP:
                continue
            hit = process.extractOne(cand, keys, scorer=fuzz.ratio, score_cutoff=catalog.threshold)
            if not hit:
                continue
            key, sc, j = hit
            if len(key) <= 4 and cand != key:
                continue
            ent = owners[j]
            prev = found.get(ent.name)
            if prev is None or sc > prev.score:
                found[ent.name] = Entity(text[start:end], ent.name, ent.kind, round(sc / 100, 3), start, end)
    return sorted(found.values(), key=lambda e: e.start)


def key_phrases(text: str, k: int = 5) -> list[str]:
    """Most frequent runs of content words (no stop words), longer runs first; cheap and language-neutral."""
    runs: list[str] = []
    cur: list[str] = []
    for m in _WORD.finditer(text[:5000]):
        w = m.group(0).strip(".'-")
        if w.lower() in STOP or len(w) < 3 or w.isdigit():
            if cur:
                runs.append(" ".join(cur[:3]))
            cur = []
        else:
            cur.append(w)
    if cur:
        runs.append(" ".join(cur[:3]))
    counts = Counter(r.lower() for r in runs)
    first = {}
    for r in runs:
        first.setdefault(r.lower(), r)
    ranked = sorted(counts, key=lambda r: (-counts[r], -len(r.split()), -len(r)))
    return [first[r] for r in ranked[:k]]
