"""Shared fixtures: a small model trained once per session, without embeddings, so the suite stays fast."""

from __future__ import annotations

import random

import pytest

from resonanz.analysis.model import seed_examples, train_model
from resonanz.analysis.store import SEED_LEXICON_WEIGHT, ModelStore


def small_seed(n: int = 1500, seed: int = 3):
    ex = seed_examples()
    random.Random(seed).shuffle(ex)
    return ex[:n]


@pytest.fixture(scope="session")
def small_examples():
    return small_seed()


@pytest.fixture(scope="session")
def small_model(small_examples):
    model = train_model(small_examples, embedder=None, folds=3)
    model.lexicon_weight = SEED_LEXICON_WEIGHT  # as build_seed_model does
    return model


@pytest.fixture(scope="session")
def store_dir(tmp_path_factory, small_model):
    """A store whose active version is the small model (read-only for tests that share it)."""
    root = tmp_path_factory.mktemp("models")
    store = ModelStore(root)
    v = store.save(small_model, "seed", {"note": "test subset"})
    store.activate(v)
    return root


@pytest.fixture(scope="session")
def analyzer(store_dir):
    from resonanz.analysis import Analyzer

    return Analyzer(store_dir, embedder=None)
