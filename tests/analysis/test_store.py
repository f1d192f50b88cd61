"""Model versions: train activates only if not worse, rollback, corrupt or missing files."""

import json

import pytest

from resonanz.analysis import Analyzer, Example, ModelFileError, ModelStore, NoActiveModel
from resonanz.analysis.store import MODEL_FILE, build_seed_model


@pytest.fixture
def store(tmp_path, small_model):
    s = ModelStore(tmp_path / "models")
    s.activate(s.save(small_model, "seed", {}))
    return s


def corrections():
    pos = ["Danke, {} hat alles perfekt gelöst!", "Thanks, {} fixed it in no time!", "Top Service von {}, gerne wieder"]
    neg = ["{} ist seit Tagen kaputt, ich bin sauer", "Still waiting on {}, this is ridiculous", "{} schon wieder ausgefallen"]
    names = ["Glasfaser", "Tarifwechsel", "Rückruf", "Lieferung", "Router", "Kundenkarte", "Support", "App"]
    out = []
    for n in names:
        out += [Example(t.format(n), sentiment="positive", intents=["praise"]) for t in pos]
        out += [Example(t.format(n), sentiment="negative", intents=["complaint"]) for t in neg]
    return out


def test_train_reports_both_scores_and_activates_when_not_worse(store):
    before = store.active_version()
    res = store.train(corrections(), include_seed=False)
    assert res.previous_version == before
    assert res.active_score is not None and 0 <= res.candidate_score <= 1
    assert res.activated == (res.candidate_score >= res.active_score)
    versions = store.list_versions()
    assert [v["version"] for v in versions][-1] == res.version
    man = versions[-1]
    assert man["metrics"]["holdout_score"] == res.candidate_score and man["counts"]["examples"] > 0
    assert store.active_version() == (res.version if res.activated else before)


def test_worse_candidate_is_not_activated(store, monkeypatch):
    import resonanz.analysis.store as st

    scores = iter([0.2, 0.9])  # candidate first, then the active model
    monkeypatch.setattr(st, "score_model", lambda *a, **k: next(scores))
    before = store.active_version()
    res = store.train(corrections(), include_seed=False)
    assert not res.activated and store.active_version() == before


def test_rollback_to_earlier_version(store):
    first = store.active_version()
    res = store.train(corrections(), include_seed=False)
    store.activate(res.version)
    store.rollback(first)
    assert store.active_version() == first


def test_corrupt_model_file_is_named_and_previous_stays_active(store, small_model):
    good = store.active_version()
    bad = store.save(small_model, "trained", {})
    path = store.version_dir(bad) / MODEL_FILE
    path.write_bytes(b"not a model at all")
    with pytest.raises(ModelFileError) as err:
        store.activate(bad)
    assert str(path) in str(err.value)
    assert store.active_version() == good


def test_corrupt_file_without_checksum_still_gives_clear_error(store, small_model):
    bad = store.save(small_model, "trained", {})
    d = store.version_dir(bad)
    man = json.loads((d / "manifest.json").read_text())
    man.pop("sha256")
    (d / "manifest.json").write_text(json.dumps(man))
    (d / MODEL_FILE).write_bytes(b"\x80\x04garbage")
    with pytest.raises(ModelFileError, match="cannot be loaded"):
        ModelStore(store.root).load(bad)


def test_missing_model_file(store):
    v = store.active_version()
    (store.version_dir(v) / MODEL_FILE).unlink()
    with pytest.raises(ModelFileError, match="model file missing"):
        ModelStore(store.root).load_active()


def test_analyzer_keeps_working_model_when_reload_fails(store, small_model):
    a = Analyzer(store.root, embedder=None)
    bad = store.save(small_model, "trained", {})
    (store.version_dir(bad) / MODEL_FILE).write_bytes(b"junk")
    (store.root / "ACTIVE").write_text(bad)  # someone bypassed activate()
    with pytest.raises(ModelFileError):
        a.reload()
    assert a.analyze("Danke, super!").sentiment.label == "positive"


def test_empty_store_says_what_to_do(tmp_path):
    with pytest.raises(NoActiveModel, match="seed model"):
        Analyzer(tmp_path / "empty", embedder=None)


def test_build_seed_model_creates_active_version(tmp_path, monkeypatch, small_examples):
    import resonanz.analysis.store as st

    monkeypatch.setattr(st, "seed_examples", lambda: list(small_examples[:600]))
    store = ModelStore(tmp_path / "m")
    v = build_seed_model(store)
    assert store.active_version() == v
    man = store.list_versions()[0]
    assert man["kind"] == "seed" and 0 < man["metrics"]["seed_holdout_score"] <= 1
