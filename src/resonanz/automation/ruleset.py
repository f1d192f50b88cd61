"""The enabled rules of some triggers, in order, compiled into one function (engine.compile_rules).

Compiling costs far more than matching, so the result is kept per set of triggers and rebuilt only
when a rule changed: the number of rules and the latest ``updated_at`` are the version, read with one
aggregate query per event (saving, moving and switching off a rule all set ``updated_at``).
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass

from django.db.models import Count, Max

from resonanz.automation import engine
from resonanz.automation.models import Rule


@dataclass
class RuleSet:
    rules: list[Rule]
    compiled: engine.CompiledRules


_cache: dict[frozenset, tuple[tuple, RuleSet]] = {}
_pinned = threading.local()  # the version read once for a pipeline batch (``pinned``)


def _version() -> tuple:
    pinned = getattr(_pinned, "version", None)
    if pinned is not None:
        return pinned
    return tuple(Rule.objects.aggregate(n=Count("id"), m=Max("updated_at")).values())


@contextmanager
def pinned():
    """Read the rules' version once for a whole pipeline batch instead of once per message: a rule saved
    meanwhile takes effect from the next batch, as if it had been saved a moment later."""
    _pinned.version = None
    _pinned.version = _version()
    try:
        yield
    finally:
        _pinned.version = None


def unpin() -> None:
    """A rule changed in this batch (a failing one was switched off): read the version per message again."""
    _pinned.version = None


def ruleset(triggers: frozenset[str]) -> RuleSet:
    """The enabled rules of these triggers in order, compiled once per change of any rule."""
    version = _version()
    cached = _cache.get(triggers)
    if cached and cached[0] == version:
        return cached[1]
    rules = list(Rule.objects.filter(enabled=True, trigger__in=triggers).order_by("position", "id"))
    compiled = engine.compile_rules([r.conditions for r in rules])
    result = RuleSet(rules, compiled)
    _cache[triggers] = (version, result)
    return result
