"""Label names as training examples for intent sets (few examples per intent).

An intent's name usually says what it is about ("card_arrival", "Rechnung
falsch"); as one more training example it gives the embedding models an anchor
that ten paraphrases may miss. Chosen in round 3 of the accuracy work by
cross-validation on BANKING77's 10-shot training split (docs/benchmarks.md).
Names that are codes ("A12", "17") say nothing and are skipped, as is the
"everything else" class (its name is not a request).
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\W\d_]{3,}")


def label_text(label: str) -> str:
    """An intent's name as a request-like phrase: "card_arrival" -> "card arrival"."""
    return " ".join(str(label).replace("_", " ").replace("-", " ").replace(".", " ").split())


def label_name_examples(labels, skip: str | None = None) -> tuple[list[str], list[str]]:
    """(texts, labels): one example per label whose name has a word in it, except ``skip``."""
    texts, out = [], []
    for lab in sorted({str(v) for v in labels}):
        if lab == skip or not _WORD.search(lab):
            continue
        texts.append(label_text(lab))
        out.append(lab)
    return texts, out
