"""The analyzer's fast path: the model reads cheap vectors first and asks the encoder only about unsure texts."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from resonanz.analysis import Analyzer, ModelStore
from resonanz.analysis.model import train_model


class Fake:
    """16-d vectors from the text's hash; counts what it embeds."""

    dim = 16

    def __init__(self, name: str) -> None:
        self.name, self.version, self.seen = name, "1", []

    def embed_queries(self, texts):
        self.seen.extend(texts)
        out = np.array([np.random.default_rng(int(hashlib.sha1(t.encode()).hexdigest()[:8], 16))
                        .standard_normal(self.dim) for t in texts], dtype=np.float32).reshape(len(texts), self.dim)
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    embed_passages = embed_queries


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, small_examples):
    model = train_model(small_examples[:400], Fake("fake-encoder"), None, folds=2)
    root = tmp_path_factory.mktemp("fast")
    store = ModelStore(root)
    store.activate(store.save(model, "seed", {}))
    return root


TEXTS = ["Wann kommt mein Paket?", "Danke, super Service!", "Seit drei Tagen kein Internet, ich kündige.",
         "Do you ship to Austria?", "This is the worst support ever"]


def test_confident_texts_skip_the_encoder(model_dir):
    enc = Fake("fake-encoder")
    a = Analyzer(model_dir, embedder=enc, fast=Fake("fake-static"), fast_unsure=0.0, fast_band=0.0, recent=0)
    results = a.analyze_batch(TEXTS)
    assert enc.seen == [] and a.fast_counts == [len(TEXTS), 0]
    assert all(r.embeddings_used for r in results)


def test_unsure_texts_get_the_encoder_and_its_answer(model_dir):
    enc = Fake("fake-encoder")
    fast = Analyzer(model_dir, embedder=enc, fast=Fake("fake-static"), fast_unsure=1.01, recent=0)
    plain = Analyzer(model_dir, embedder=Fake("fake-encoder"), recent=0)
    got, want = fast.analyze_batch(TEXTS), plain.analyze_batch(TEXTS)
    assert sorted(enc.seen) == sorted(TEXTS) and fast.fast_counts == [0, len(TEXTS)]
    assert [r.sentiment.probabilities for r in got] == [r.sentiment.probabilities for r in want]
    assert [r.intents.probabilities for r in got] == [r.intents.probabilities for r in want]


def test_repeated_text_is_embedded_once(model_dir):
    enc = Fake("fake-encoder")
    a = Analyzer(model_dir, embedder=enc)
    a.analyze_batch(TEXTS)
    a.analyze_batch(TEXTS[:2])
    assert sorted(enc.seen) == sorted(TEXTS)
