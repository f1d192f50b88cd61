"""The analysis result: plain dataclasses with ``to_dict()`` for JSON storage and the API."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class LanguageResult:
    code: str  # de, en or other
    confidence: float


@dataclass
class SentimentResult:
    label: str  # negative, neutral or positive
    score: float  # -1 .. 1
    confidence: float
    probabilities: dict[str, float] = field(default_factory=dict)


@dataclass
class IntentResult:
    labels: list[str]  # the chosen ones (probability >= threshold)
    probabilities: dict[str, float]
    # the model has an "everything else" class and this text falls to it (outofscope.py): hand over, do not answer
    out_of_scope: bool = False


@dataclass
class ComplexityResult:
    label: str  # simple or complex
    bot_answerable: bool
    reasons: list[str] = field(default_factory=list)


@dataclass
class EntityResult:
    text: str
    name: str
    kind: str  # product, brand, competitor or company
    score: float
    start: int
    end: int


@dataclass
class AnalysisResult:
    language: LanguageResult
    sentiment: SentimentResult
    intents: IntentResult
    urgency: float
    complexity: ComplexityResult
    entities: list[EntityResult]
    key_phrases: list[str]
    relevance: float
    model_version: str
    embeddings_used: bool = False

    def to_dict(self) -> dict:
        return asdict(self)
