"""What a rule can do: one unit per action kind, and the registry that is the only list of kinds.

A unit subclasses ``Effect`` in a module of this package and registers itself with ``@register``. It
keeps side by side what the rule editor offers (label, parameters), what saving a rule checks
(``clean``) and what acting does (``perform``), so a new action kind is one new unit: every module
here is imported on first use of the registry, and the validation (``rules.py``), the runner and
the editor's JavaScript (through ``desk.views.automation.editor_options``) all read this registry.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import Any, ClassVar

from resonanz.automation.models import Rule
from resonanz.core.errors import ActionError
from resonanz.inbox.models import Conversation, Message


@dataclass
class Event:
    """What rules run on: one snapshot dict, and what the effects change (the conversation, the post)."""

    key: str
    trigger: str
    snapshot: dict
    conversation: Conversation | None = None
    post: Any = None
    message: Message | None = None


@dataclass
class Act:
    """One rule acting on one event. ``stop`` set by an effect ends the rule list for this event."""

    rule: Rule
    event: Event
    why: str
    stop: bool = False

    @property
    def reason(self) -> str:
        """The reason the conversation's event log shows next to each change."""
        return f"rule “{self.rule.name}”: {self.why}"

    @property
    def conversation(self) -> Conversation | None:
        return self.event.conversation

    @property
    def snapshot(self) -> dict:
        """Effects write what they changed here, so later rules on the same event see it."""
        return self.event.snapshot


@dataclass(frozen=True)
class Param:
    """A parameter the rule editor asks for; the editor picks the widget by name (team, agent, text, …)."""

    name: str
    label: Any = ""
    optional: bool = False


class Effect:
    """One action kind. ``clean`` refuses what cannot work when the rule is saved (ActionError on the
    "actions" field) and returns the parameters to store; ``perform`` acts and says what it did."""

    kind: ClassVar[str] = ""
    label: ClassVar[Any] = ""
    order: ClassVar[int] = 1000  # place in the editor's list and in error messages
    needs_conversation: ClassVar[bool] = True
    params: ClassVar[tuple[Param, ...]] = ()

    def clean(self, action: dict, trigger: str) -> dict:
        return {}

    def perform(self, action: dict, act: Act) -> list[str]:
        raise NotImplementedError


_REGISTRY: dict[str, Effect] = {}
_loaded = False


def register(cls: type[Effect]) -> type[Effect]:
    if not cls.kind:
        raise ValueError(f"{cls.__name__} declares no kind")
    known = _REGISTRY.get(cls.kind)
    if known is not None and _name(type(known)) != _name(cls):
        raise ValueError(f"Two units for the action kind {cls.kind!r}: {_name(type(known))} and {_name(cls)}")
    _REGISTRY[cls.kind] = cls()
    return cls


def _name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _load() -> None:
    """Import every unit of this package once; each registers its kind."""
    global _loaded
    if _loaded:
        return
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    _loaded = True


def effects() -> list[Effect]:
    """Every action kind, in the editor's order."""
    _load()
    return sorted(_REGISTRY.values(), key=lambda e: (e.order, e.kind))


def kinds() -> list[str]:
    return [e.kind for e in effects()]


def labels() -> dict[str, Any]:
    """Kind → label (the former ACTION_TYPES)."""
    return {e.kind: e.label for e in effects()}


def needing_conversation() -> set[str]:
    """Kinds that act on a conversation (the former NEEDS_CONVERSATION)."""
    return {e.kind for e in effects() if e.needs_conversation}


def get(kind: str) -> Effect:
    _load()
    try:
        return _REGISTRY[kind]
    except (KeyError, TypeError):
        raise ActionError(f"Unknown action {kind!r}; use one of {', '.join(kinds())}.", "actions") from None


def clean(action, trigger: str) -> dict:
    """The stored form of one action of a rule with this trigger, or an ActionError saying why not."""
    if not isinstance(action, dict):  # refused like an unknown kind, even "stop" without {"type": …}
        raise ActionError(f"Unknown action {action!r}; use one of {', '.join(kinds())}.", "actions")
    effect = get(action.get("type"))
    return {"type": effect.kind, **effect.clean(action, trigger)}


def perform(action: dict, act: Act) -> list[str]:
    """Do one stored action; what it did, in words for the rule's run."""
    effect = get(action["type"])
    if effect.needs_conversation and act.conversation is None:
        raise ActionError(f"“{effect.label}” needs a conversation.")
    return effect.perform(action, act)


def as_int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
