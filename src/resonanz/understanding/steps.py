"""The pipeline step that reads every inbound message and public post (batched, in the worker)."""

from __future__ import annotations

import hashlib

from resonanz.understanding.actions import store_analyses
from resonanz.understanding.engine import catalog, get_analyzer
from resonanz.understanding.models import Analysis


def text_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "replace")).hexdigest()


def analyze(items: list) -> None:
    """Read the batch in one engine call per kind of text; what was read before (a retried batch, an
    unchanged post) is not read again."""
    kind = items[0].pipeline_kind  # "message" or "post": also the name of Analysis's link to it
    todo = [i for i in items if kind == "post" or i.direction == "inbound"]
    if not todo:
        return
    known = dict(Analysis.objects.filter(**{f"{kind}__in": todo}).values_list(f"{kind}_id", "text_hash"))
    todo = [i for i in todo if i.pk not in known or (known[i.pk] and known[i.pk] != text_hash(i.analysis_text))]
    if not todo:
        return
    analyzer, entries = get_analyzer(), catalog()
    pairs = []
    for public in (False, True):  # public texts are judged for relevance, messages to us are relevant
        group = [i for i in todo if (kind == "post" or i.is_public) == public]
        if group:
            results = analyzer.analyze_batch([i.analysis_text for i in group], catalog=entries,
                                             kind="post" if public else "message")
            pairs.extend(zip(group, results, strict=True))
    store_analyses(pairs)
