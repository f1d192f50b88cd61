"""Model versions on disk: one directory per version, a manifest, and an "active" pointer.

Layout under ``root``::

    ACTIVE                 name of the active version (replaced atomically)
    versions/<name>/model.joblib
    versions/<name>/manifest.json   metrics, created, data counts, sha256 of model.joblib

A version is activated only after its file loads and its checksum matches,
so a corrupt or missing file raises ``ModelFileError`` naming the file and
the previous version stays active.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import joblib

from .errors import ModelFileError, NoActiveModel
from .features import clean_text
from .labelled import Example, check_examples
from .metrics import score_model
from .model import EngineModel, seed_examples, train_model

MODEL_FILE = "model.joblib"
# Fixed a priori (equal trust), not tuned on any benchmark: see EngineModel.lexicon_weight.
SEED_LEXICON_WEIGHT = 0.5
TRAINED_LEXICON_WEIGHT = 0.25
MANIFEST = "manifest.json"


@dataclass
class TrainResult:
    """What ``ModelStore.train`` did: the candidate, its score and the active one's on the same held-back data."""

    version: str
    activated: bool
    candidate_score: float
    active_score: float | None
    previous_version: str | None
    n_train: int
    n_holdout: int
    seconds: float

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class ModelStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        (self.root / "versions").mkdir(parents=True, exist_ok=True)
        self._cache: dict[str, EngineModel] = {}

    # -- versions -------------------------------------------------------------
    def version_dir(self, version: str) -> Path:
        return self.root / "versions" / version

    def list_versions(self) -> list[dict]:
        """Manifests of every version, oldest first, each with ``active`` set."""
        active = self.active_version()
        out = []
        for d in sorted((self.root / "versions").iterdir()):
            mf = d / MANIFEST
            try:
                man = json.loads(mf.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                man = {"version": d.name, "error": f"unreadable manifest {mf}"}
            man["active"] = d.name == active
            out.append(man)
        return sorted(out, key=lambda m: (m.get("created", ""), m["version"]))

    def active_version(self) -> str | None:
        p = self.root / "ACTIVE"
        return p.read_text(encoding="utf-8").strip() or None if p.exists() else None

    def _new_name(self, kind: str) -> str:
        n = len(list((self.root / "versions").iterdir())) + 1
        return f"{kind}-{n:04d}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}"

    def save(self, model: EngineModel, kind: str, metrics: dict, extra: dict | None = None) -> str:
        name = self._new_name(kind)
        d = self.version_dir(name)
        d.mkdir(parents=True)
        path = d / MODEL_FILE
        joblib.dump(model, path, compress=3)
        manifest = {
            "version": name, "kind": kind, "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "metrics": metrics, "counts": model.counts, "embedder": model.embedder_name,
            "intent_labels": model.intent_labels, "sha256": _sha256(path), **(extra or {}),
        }
        (d / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
        return name

    def load(self, version: str) -> EngineModel:
        """The model of ``version``; ModelFileError naming the file if it is missing, altered or unreadable."""
        if version in self._cache:
            return self._cache[version]
        d = self.version_dir(version)
        path, mf = d / MODEL_FILE, d / MANIFEST
        if not mf.is_file():
            raise ModelFileError(mf, "manifest missing")
        if not path.is_file():
            raise ModelFileError(path, "model file missing")
        try:
            manifest = json.loads(mf.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise ModelFileError(mf, f"manifest is not valid JSON ({exc})") from exc
        if manifest.get("sha256") and manifest["sha256"] != _sha256(path):
            raise ModelFileError(path, "checksum does not match the manifest (file corrupt or altered)")
        try:
            model = joblib.load(path)
        except Exception as exc:  # unpickling junk can raise almost anything
            raise ModelFileError(path, f"cannot be loaded ({type(exc).__name__}: {exc})") from exc
        if not isinstance(model, EngineModel):
            raise ModelFileError(path, f"holds a {type(model).__name__}, not an EngineModel")
        self._cache = {version: model}
        return model

    def load_active(self) -> tuple[str, EngineModel]:
        v = self.active_version()
        if not v:
            raise NoActiveModel(f"no active model in {self.root}; build the seed model first")
        return v, self.load(v)

    def activate(self, version: str) -> None:
        """Point ACTIVE at ``version`` after checking it loads; on error nothing changes."""
        self.load(version)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".active")
        with os.fdopen(fd, "w") as fh:
            fh.write(version)
        os.replace(tmp, self.root / "ACTIVE")

    def rollback(self, version: str) -> None:
        """Make an earlier version active again (same checks as activate)."""
        if not self.version_dir(version).is_dir():
            raise ModelFileError(self.version_dir(version), "no such version")
        self.activate(version)

    # -- training -------------------------------------------------------------
    def train(self, examples: list[Example], *, embedder=None, cache=None, include_seed: bool = True,
              holdout: float = 0.2, seed: int = 0, correction_weight: float = 2.0,
              intent_labels: list[str] | None = None, progress=None) -> TrainResult:
        """Train a candidate on seed + ``examples``; activate it only if it scores >= the active model.

        Both are scored on the same held-back part of ``examples`` (never
        trained on), so operator data decides, not the seed corpus.
        """
        t0 = time.time()
        check_examples(examples, "training examples")
        rng = random.Random(seed)
        idx = list(range(len(examples)))
        rng.shuffle(idx)
        n_hold = int(len(idx) * holdout) if len(idx) >= 10 else 0
        hold = [examples[i] for i in idx[:n_hold]]
        train_ex = [Example(e.text, e.sentiment, e.intents, e.language, e.weight * correction_weight, e.meta)
                    for e in (examples[i] for i in idx[n_hold:])]
        base = seed_examples() if include_seed else []
        candidate = train_model(base + train_ex, embedder, cache, intent_labels, progress)
        candidate.lexicon_weight = TRAINED_LEXICON_WEIGHT if include_seed else 0.0
        if not hold:  # too little data to hold anything back: score on the seed model's own terms
            hold = [examples[i] for i in idx]
        cand_score = score_model(candidate, hold, embedder, cache)
        prev = self.active_version()
        active_score = None
        if prev:
            try:
                active_score = score_model(self.load(prev), hold, embedder, cache)
            except ModelFileError:
                active_score = None  # a broken active model is never better than a working candidate
        metrics = {"holdout_score": cand_score, "active_score": active_score, "n_holdout": len(hold)}
        version = self.save(candidate, "trained", metrics, {"parent": prev})
        activated = active_score is None or cand_score >= active_score
        if activated:
            self.activate(version)
        return TrainResult(version, activated, cand_score, active_score, prev, len(base) + len(train_ex),
                           len(hold), round(time.time() - t0, 1))


def build_seed_model(store: ModelStore, embedder=None, cache=None, activate: bool = True,
                     progress=None, stage=None) -> str:
    """Train the out-of-the-box model from the seed corpus, save it as a version, activate it.

    Metrics come from holding back a fifth of the *templates* (not of the
    texts): variants of one template are near-duplicates, so a random split
    would only measure memorisation. Still a sanity check, not a benchmark.

    Every seed text is embedded once, up front (``progress`` counts exactly
    the corpus); the shipped seed vectors (``seedvectors``) make that step
    instant when they match. ``stage(text)`` hears what happens next.
    """
    say = stage or (lambda _text: None)
    examples = seed_examples()
    if embedder is not None:
        from .model import embed_texts
        from .seedvectors import seeded_cache

        cache, why = seeded_cache(embedder, cache)
        say(f"seed vectors: {why}")
        embed_texts(embedder, [clean_text(e.text) for e in examples], cache, progress)
        progress = None
    say("training the check model (80 % of the templates; the rest scores it)")
    started = time.perf_counter()
    templates = sorted({e.meta.get("template", "") for e in examples})
    random.Random(7).shuffle(templates)
    held = set(templates[: len(templates) // 5])
    train_part = [e for e in examples if e.meta.get("template", "") not in held]
    hold_part = [e for e in examples if e.meta.get("template", "") in held]
    check = train_model(train_part, embedder, cache, progress=progress)
    check.lexicon_weight = SEED_LEXICON_WEIGHT
    metrics = {"seed_holdout_score": score_model(check, hold_part, embedder, cache),
               "seed_holdout": "20% of templates held out"}
    say(f"check model: held-out score {metrics['seed_holdout_score']:.3f} after {time.perf_counter() - started:.0f} s; "
        "training the full model (about as long again)")
    model = train_model(examples, embedder, cache, progress=progress)
    model.lexicon_weight = check.lexicon_weight = SEED_LEXICON_WEIGHT
    version = store.save(model, "seed", metrics)
    if activate:
        store.activate(version)
    return version
