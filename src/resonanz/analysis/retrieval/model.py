"""The values that cross the engine's boundary: documents in, hits and answers out."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Document:
    """A knowledge-base article as the engine sees it.

    ``history`` holds questions this article is known to answer: example questions
    written by an editor and inbound questions of resolved conversations whose
    reply used the article. They are how the ranking learns from agents.
    """

    id: str
    title: str
    body: str
    language: str = "en"
    history: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Hit:
    """One ranked document; ``score`` is the fused ranking score (only its order matters)."""

    doc_id: str
    score: float
    lexical: float
    dense: float


@dataclass(frozen=True)
class Answer:
    """The best document with a calibrated probability that it answers the query."""

    doc_id: str
    confidence: float
