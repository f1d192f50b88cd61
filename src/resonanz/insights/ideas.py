"""Ideas on the dashboard: the selection's items the engine read as a suggestion or idea, grouped by similarity
(``analysis.clusters``: sentence embeddings when the knowledge base has an embedder, TF-IDF otherwise), each
group with its size, its trend and its most typical examples.

**Trend.** The newest items of the period and of the period before it are clustered together, so a group
knows how many of its items fall in each: the period's count against the previous one's, and counts per
week of the period (per day for a week or less) for a small sparkline. A group shown has at least two items
in the period itself; one that only existed before is not news. Clustering embeds texts (seconds on a CPU
for hundreds of new ones), so the dashboard loads this after the page and keeps it for a few minutes.
"""

from __future__ import annotations

from datetime import timedelta

from resonanz.analysis.clusters import cluster_texts
from resonanz.insights.models import Fact

INTENT = "suggestion"   # the engine's "Suggestion or idea"
HOUR = timedelta(hours=1)
SAMPLE = 300            # newest items per period
TOP = 8


def _facts(sel, sample: int) -> list[Fact]:
    return list(sel.facts().filter(intents__contains=f",{INTENT},").select_related("post", "message")
                .order_by("-at", "-pk")[:sample])


def _text(f: Fact) -> str:
    item = f.post or f.message
    return " ".join((item.analysis_text or "").split())


def step_of(sel) -> timedelta:
    return timedelta(days=1) if sel.days <= 7 else timedelta(days=7)


def clusters(sel, *, sample: int = SAMPLE, top: int = TOP, embed=None) -> dict:
    """``{"groups": [...], "sampled": bool, "total": n}``; each group: label, size (in the period), previous
    (its items in the period before), change, weeks (counts per step of the period, oldest first), examples
    (text, sentiment, time and where it is; most typical first) and the conversations and posts behind it (ids, for making an idea of it)."""
    now, before = _facts(sel, sample), _facts(sel.previous, sample)
    facts = now + before
    if len(now) < 2:
        return {"groups": [], "sampled": False, "total": len(now)}
    texts = [_text(f) for f in facts]
    vectors = None
    if embed is None:
        from resonanz.knowledge.embedding import cached_embedder

        embedder = cached_embedder()
        embed = embedder.embed_passages if embedder is not None else None
    if embed is not None:
        vectors = embed(texts)
    step = step_of(sel)
    steps = max(1, -(-(sel.end - sel.start) // step))
    groups = []
    for c in cluster_texts(texts, vectors, languages=[f.language for f in facts], min_size=2):
        inside = [facts[i] for i in c.members if i < len(now)]
        if len(inside) < 2:
            continue
        previous = sum(1 for i in c.members if i >= len(now))
        weeks = [0] * steps
        for f in inside:
            # counted back from the end: the last column is the newest whole week, a partial one is the oldest
            weeks[steps - 1 - min(steps - 1, max(0, int((sel.end - f.hour - HOUR) // step)))] += 1
        examples, seen = [], set()
        for f in [facts[i] for i in c.examples if i < len(now)] + inside:  # the most typical, each text once
            if _text(f).lower() not in seen and len(examples) < 3:
                seen.add(_text(f).lower())
                examples.append(f)
        groups.append({
            "label": c.label, "size": len(inside), "previous": previous,
            "change": (len(inside) - previous) / previous if previous else None, "weeks": weeks,
            "examples": [{"text": _text(f)[:300], "sentiment": f.sentiment, "at": f.at, "post_id": f.post_id,
                          "conversation_id": f.message.conversation_id if f.message_id else None}
                         for f in examples[:3]],
            "conversations": sorted({f.message.conversation_id for f in inside if f.message_id}),
            "posts": sorted({f.post_id for f in inside if f.post_id}),
            "title": _text(examples[0])[:120] if examples else c.label[:120],
        })
    groups.sort(key=lambda g: (-g["size"], g["label"]))
    return {"groups": groups[:top], "sampled": len(now) == sample, "total": len(now)}
