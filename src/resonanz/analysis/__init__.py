"""The text-understanding engine: plain Python, no Django imports.

Texts in, results out; models are versioned on disk. The Django side stores
results and feeds corrections back (see docs/ARCHITECTURE.md).

Public API::

    store = ModelStore(path); build_seed_model(store)          # once, at setup
    analyzer = Analyzer(path)                                  # loads the active version
    results = analyzer.analyze_batch(texts, catalog=Catalog.from_dict(...), kind="post")
    store.train([Example(text, sentiment=..., intents=[...]), ...])   # corrections, imports
    store.list_versions(); store.rollback(version); analyzer.reload()
"""

from .analyzer import Analyzer
from .entities import Catalog, CatalogEntry
from .errors import AnalysisError, DataError, ModelFileError, NoActiveModel
from .labelled import Example, load_examples
from .model import DEFAULT_INTENTS
from .result import AnalysisResult
from .store import ModelStore, TrainResult, build_seed_model

__all__ = [
    "Analyzer", "AnalysisResult", "AnalysisError", "Catalog", "CatalogEntry", "DataError", "DEFAULT_INTENTS",
    "Example", "ModelFileError", "ModelStore", "NoActiveModel", "TrainResult", "build_seed_model", "load_examples",
]
