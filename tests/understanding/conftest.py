from __future__ import annotations

import shutil

import pytest


@pytest.fixture(scope="session")
def seed_model_dir(tmp_path_factory):
    """The out-of-the-box model, built once per test session (without embeddings, for speed)."""
    from resonanz.analysis import ModelStore, build_seed_model

    path = tmp_path_factory.mktemp("seed-model")
    build_seed_model(ModelStore(path))
    return path


@pytest.fixture
def model_dir(seed_model_dir, tmp_path, settings):
    """A private copy of the seed model store, so tests that train or roll back don't disturb others."""
    from resonanz.understanding import engine

    path = tmp_path / "models"
    shutil.copytree(seed_model_dir, path)
    settings.RESONANZ_MODEL_DIR = path
    engine.reset()
    yield path
    engine.reset()
