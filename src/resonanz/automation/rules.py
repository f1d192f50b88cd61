"""Whether a rule can work, checked when it is saved or switched back on, with a reason a supervisor reads.

Conditions are checked by the engine (fields, operators, patterns) and against the database (teams,
channels and users they name); each action by its unit in ``effects``; and what depends on the
trigger here: a rule on a public post must turn the post into a conversation before acting on one.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model

from resonanz.automation import effects, engine
from resonanz.automation.models import Rule
from resonanz.connectors.models import Channel
from resonanz.core.errors import ActionError
from resonanz.inbox.models import Team

User = get_user_model()
MAX_NAME = 200
MAKES_CONVERSATION = "create_conversation"


def validate(*, name: str, trigger: str, conditions, actions) -> dict:
    """Refuse a rule that cannot work, saying why: unknown fields, invalid patterns, missing teams, …"""
    if not (name or "").strip():
        raise ActionError("A rule needs a name.", "name")
    if trigger not in Rule.Trigger.values:
        raise ActionError(f"Unknown trigger {trigger!r}; use one of {', '.join(Rule.Trigger.values)}.", "trigger")
    try:
        conditions = engine.normalize(conditions)
    except engine.RuleError as exc:
        raise ActionError(str(exc), "conditions") from None
    _check_references(conditions)
    if not isinstance(actions, list) or not actions:
        raise ActionError("A rule needs at least one action.", "actions")
    cleaned = [effects.clean(a, trigger) for a in actions]
    if trigger == Rule.Trigger.POST_RECEIVED:
        _check_conversation_made_first(cleaned)
    return {"name": name.strip()[:MAX_NAME], "trigger": trigger, "conditions": conditions, "actions": cleaned}


def _check_references(conditions: dict) -> None:
    for kind, model in (("team", Team), ("channel", Channel), ("user", User)):
        for _field, value in engine.referenced(conditions, kind):
            for pk in value if isinstance(value, list) else [value]:
                if pk is not None and not model.objects.filter(pk=pk).exists():
                    raise ActionError(f"The {kind} with id {pk} does not exist (any more).", "conditions")


def _check_conversation_made_first(actions: list[dict]) -> None:
    """A post has no conversation until "turn the post into a conversation" made one."""
    made = False
    for action in actions:
        made = made or action["type"] == MAKES_CONVERSATION
        effect = effects.get(action["type"])
        if effect.needs_conversation and not made:
            raise ActionError(f"“{effect.label}” needs a conversation: put “{effects.get(MAKES_CONVERSATION).label}” "
                              f"before it.", "actions")
