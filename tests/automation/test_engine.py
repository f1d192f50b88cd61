"""Conditions: validation messages, compiled matching equals the interpreter, explanations."""

from __future__ import annotations

import random

import pytest

from resonanz.automation.engine import RuleError, compile_rules, explain, interpret, normalize
from resonanz.automation.fields import empty_analysis


def snap(**kw):
    base = {**empty_analysis(), "message.text": "", "message.subject": "", "message.is_public": False,
            "conversation.team": None, "conversation.tags": (), "conversation.priority": 2, "contact.reach": 0,
            "contact.custom": {}, "channel.kind": "api"}
    base.update({k.replace("__", "."): v for k, v in kw.items()})
    return base


@pytest.mark.parametrize("conditions, message", [
    ({"all": [{"field": "message.text", "op": "matches", "value": "(unclosed"}]}, "pattern '(unclosed' is invalid"),
    ({"all": [{"field": "nope", "op": "eq", "value": 1}]}, "Unknown field 'nope'"),
    ({"all": [{"field": "analysis.urgency", "op": "contains", "value": "x"}]}, "does not apply"),
    ({"all": [{"field": "analysis.intents", "op": "contains", "value": "lawsuit"}]}, "not one of"),
    ({"all": [{"field": "analysis.urgency", "op": "gt", "value": "high"}]}, "is not a number"),
    ({"all": [{"field": "analysis.intents", "op": "any_of", "value": []}]}, "at least one value"),
    ({"all": "x"}, "must be a list"),
])
def test_invalid_conditions_are_refused_with_a_reason(conditions, message):
    with pytest.raises(RuleError, match=message.replace("(", r"\(")):
        normalize(conditions)


def test_nested_groups_and_operators():
    rule = normalize({"all": [
        {"field": "analysis.sentiment", "op": "eq", "value": "negative"},
        {"any": [{"field": "contact.reach", "op": "gte", "value": 10000},
                 {"field": "message.text", "op": "words", "value": "Shitstorm, boycott"},
                 {"all": [{"field": "analysis.intents", "op": "any_of", "value": ["complaint", "outage"]}],
                  "not": True}]},
    ]})
    compiled = compile_rules([rule])
    loud = snap(analysis__sentiment="negative", contact__reach=25000, analysis__intents=("complaint",))
    words = snap(analysis__sentiment="negative", message__text="Call for a BOYCOTT now",
                 analysis__intents=("complaint",))
    quiet = snap(analysis__sentiment="negative", message__text="boycotting is a word", analysis__intents=("outage",))
    positive = snap(analysis__sentiment="positive", contact__reach=99999)
    for s, expected in ((loud, True), (words, True), (quiet, False), (positive, False)):
        assert interpret(rule, s) is expected
        assert compiled.match(s) == ([0] if expected else [])
        assert compiled.predicates[0](s) is expected
    assert explain(rule, loud) == ["sentiment negative", "reach 25000"]


def test_compiled_rules_agree_with_the_interpreter_on_random_data():
    rng = random.Random(7)
    leaves = [
        {"field": "analysis.intents", "op": "contains", "value": "legal_threat"},
        {"field": "analysis.sentiment", "op": "in", "value": ["negative", "neutral"]},
        {"field": "analysis.urgency", "op": "gte", "value": 0.5},
        {"field": "analysis.intent_confidence.complaint", "op": "gt", "value": 0.6},
        {"field": "message.text", "op": "contains", "value": "Rechnung"},
        {"field": "message.text", "op": "matches", "value": r"\bRZ-\d+"},
        {"field": "conversation.team", "op": "empty"},
        {"field": "conversation.tags", "op": "not_contains", "value": "vip"},
        {"field": "contact.custom.plan", "op": "eq", "value": "gold"},
        {"field": "message.is_public", "op": "is_true"},
    ]
    rules = []
    for _ in range(60):
        picked = rng.sample(leaves, rng.randint(1, 4))
        if rng.random() < 0.5 and len(picked) > 2:
            picked = [picked[0], {"any": picked[1:]}]
        rules.append(normalize({rng.choice(["all", "any"]): picked}))
    compiled = compile_rules(rules)
    for _ in range(300):
        s = snap(analysis__intents=tuple(rng.sample(["legal_threat", "complaint", "question"], rng.randint(0, 2))),
                 analysis__sentiment=rng.choice(["negative", "neutral", "positive", None]),
                 analysis__urgency=rng.choice([None, 0.1, 0.5, 0.9]),
                 analysis__intent_confidence={"complaint": rng.random()},
                 message__text=rng.choice(["", "Ihre Rechnung RZ-12", "rechnung", "hello"]),
                 conversation__team=rng.choice([None, 3]), conversation__tags=rng.choice([(), ("vip",)]),
                 contact__custom=rng.choice([{}, {"plan": "Gold"}]), message__is_public=rng.random() < 0.5)
        assert compiled.match(s) == [i for i, r in enumerate(rules) if interpret(r, s)]
