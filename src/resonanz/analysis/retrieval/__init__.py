"""Search and ranking core of the knowledge base: hybrid BM25 + embeddings, calibrated answers.

Public API::

    from resonanz.analysis.retrieval import Document, RetrievalIndex, load, save

    index = RetrievalIndex(get_embedder())          # embedder may be None: lexical only
    index.add_many([Document(id, title, body, "de", history_questions), ...])
    index.search("Wie kündige ich?", k=10)          # -> list[Hit]
    index.answer("Wie kündige ich?", threshold=0.9) # -> Answer(doc_id, confidence) | None
    index.record_feedback(doc_id, query, helpful=True)
    save(index, "var/kb-index"); index = load("var/kb-index", get_embedder())
"""

from .index import DEFAULT_THRESHOLD, RetrievalIndex
from .model import Answer, Document, Hit
from .ranking import RankConfig
from .store import load, save

__all__ = ["DEFAULT_THRESHOLD", "Answer", "Document", "Hit", "RankConfig", "RetrievalIndex", "load", "save"]
