"""The short load run (about a minute): agents work the inbox while messages arrive over the API; no error,
nothing lost or duplicated, and the worker finishes every message afterwards. Times are printed, never asserted
(bench/load.py is the measuring tool; docs/benchmarks.md has its figures)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_one_minute_of_agents_and_arriving_messages(tmp_path, capsys):
    if importlib.util.find_spec("locust") is None:  # never imported here: it monkey-patches the process (gevent)
        pytest.skip("locust is not installed (pip install -e .[dev])")
    spec = importlib.util.spec_from_file_location("load", Path(__file__).parent.parent / "bench" / "load.py")
    load = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(load)
    result = load.run(seconds=60, agents=8, rate=8, database=None, broker=None, workdir=tmp_path / "load")
    with capsys.disabled():
        print(f"\nload: {result}")
    assert result["acknowledged"] > 100
    assert (result["errors"], result["lost"], result["duplicated"], result["unfinished"]) == (0, 0, 0, 0)
    assert result["drained_after_s"] is not None, "the worker did not catch up within 3 minutes"
    worked = {name: s["requests"] for name, s in result["requests"].items()}
    assert worked.get("inbox page", 0) and worked.get("conversation page", 0), worked
