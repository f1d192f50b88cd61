"""Rule conditions: validation, compilation to one Python function, a plain interpreter, explanations.

Conditions are JSON: a group ``{"all": [...]}`` or ``{"any": [...]}`` whose items are leaves
``{"field": "analysis.intents", "op": "contains", "value": "legal_threat"}`` or nested groups;
``{}`` matches every event. ``compile_rules`` turns an ordered list of rules into generated
Python source: every field the rules read is fetched from the snapshot dict once, constants
(sets, compiled patterns) are bound as default arguments, and each rule is a short-circuit
boolean expression, so matching needs no ORM and no per-leaf function call. ``interpret`` walks
the same JSON directly: it is the reference the compiled form is tested against, the baseline
of bench/rules_eval.py, and the source of the human-readable reasons.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from resonanz.automation.fields import (
    BOOL,
    LIST,
    LIST_VALUE,
    NO_VALUE,
    NUMBER,
    OPERATORS,
    REF,
    TEXT,
    field_for,
)

_TOKEN = re.compile(r"\w+")
MAX_DEPTH = 6
MAX_LEAVES = 100


class RuleError(ValueError):
    """A rule that cannot work; the message says why."""


# --- validation ---------------------------------------------------------------------------------------------


def normalize(conditions) -> dict:
    """Validate and return the canonical form; raises RuleError with a message a supervisor understands."""
    if conditions in (None, {}, []):
        return {}
    if not isinstance(conditions, dict):
        raise RuleError("Conditions must be a group like {\"all\": [...]} or {\"any\": [...]}.")
    count = [0]
    return _normalize_node(conditions, 0, count)


def _normalize_node(node, depth: int, count: list[int]) -> dict:
    if not isinstance(node, dict):
        raise RuleError(f"A condition must be an object, not {type(node).__name__}.")
    if depth > MAX_DEPTH:
        raise RuleError(f"Conditions are nested deeper than {MAX_DEPTH} levels.")
    groups = [k for k in ("all", "any") if k in node]
    if groups:
        if len(groups) > 1 or set(node) - {"all", "any", "not"}:
            raise RuleError("A group has either \"all\" or \"any\" (and optionally \"not\").")
        items = node[groups[0]]
        if not isinstance(items, list):
            raise RuleError(f"\"{groups[0]}\" must be a list of conditions.")
        out = {groups[0]: [_normalize_node(i, depth + 1, count) for i in items]}
        if node.get("not"):
            out["not"] = True
        return out
    count[0] += 1
    if count[0] > MAX_LEAVES:
        raise RuleError(f"A rule can have at most {MAX_LEAVES} conditions.")
    return _normalize_leaf(node)


def _normalize_leaf(leaf: dict) -> dict:
    name, op = leaf.get("field"), leaf.get("op")
    if not isinstance(name, str) or not name:
        raise RuleError("A condition needs a field.")
    fdef, _key = field_for(name)
    if fdef is None:
        raise RuleError(f"Unknown field {name!r}.")
    if op not in OPERATORS:
        raise RuleError(f"Unknown operator {op!r} for {name}.")
    if fdef.kind not in OPERATORS[op][1]:
        raise RuleError(f"The operator {op!r} does not apply to {name} ({fdef.kind}).")
    if op in NO_VALUE:
        return {"field": name, "op": op}
    value = leaf.get("value")
    if op in LIST_VALUE:
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list) or not value:
            raise RuleError(f"{name} {op}: give at least one value.")
        value = [_coerce(fdef, v, name) for v in value]
        if op == "words":
            _compile_pattern(_words_pattern(value), name)
    else:
        value = _coerce(fdef, value, name)
        if op in ("matches", "not_matches"):
            _compile_pattern(value, name)
    return {"field": name, "op": op, "value": value}


def _coerce(fdef, value, name):
    if value is None or (isinstance(value, str) and not value.strip() and fdef.kind != TEXT):
        raise RuleError(f"{name}: a value is missing.")
    if fdef.kind == NUMBER or fdef.kind == REF:
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise RuleError(f"{name}: {value!r} is not a number.") from None
        return int(number) if fdef.kind == REF or number.is_integer() else number
    if fdef.kind == BOOL:
        if isinstance(value, bool):
            return value
        return str(value).strip().lower() in ("1", "true", "yes", "ja", "on")
    if not isinstance(value, str | int | float):
        raise RuleError(f"{name}: {value!r} is not a text.")
    value = str(value)
    if fdef.choices and fdef.kind != TEXT and value not in fdef.choices and fdef.kind != LIST:
        raise RuleError(f"{name}: {value!r} is not one of {', '.join(fdef.choices)}.")
    if fdef.choices and fdef.kind == LIST and value not in fdef.choices:
        raise RuleError(f"{name}: {value!r} is not one of {', '.join(fdef.choices)}.")
    return value


def _compile_pattern(pattern: str, name: str):
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise RuleError(f"{name}: the pattern {pattern!r} is invalid: {exc}.") from None


def _words_pattern(words: list[str]) -> str:
    return r"(?<!\w)(?:" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + r")(?!\w)"


def referenced(conditions: dict, kind: str | None = None) -> list[tuple[str, object]]:
    """(field, value) of every leaf, optionally only REF fields of one ref kind (to check teams exist)."""
    out = []

    def walk(node):
        for key in ("all", "any"):
            if key in node:
                for item in node[key]:
                    walk(item)
                return
        if node:
            fdef, _ = field_for(node["field"])
            if kind is None or (fdef and fdef.ref == kind):
                out.append((node["field"], node.get("value")))

    walk(conditions or {})
    return out


def fields_used(conditions: dict) -> set[str]:
    return {f.split(".")[0] + "." + f.split(".")[1] for f, _ in referenced(conditions)}


# --- the interpreter (reference semantics) --------------------------------------------------------------------


def _get(snapshot: dict, name: str):
    fdef, key = field_for(name)
    if key:
        value = snapshot.get(name[: -len(key) - 1]) or {}
        return value.get(key) if fdef.kind == TEXT else value.get(key, 0.0)
    return snapshot.get(name)


def leaf_true(leaf: dict, snapshot: dict) -> bool:
    op, v, c = leaf["op"], _get(snapshot, leaf["field"]), leaf.get("value")
    kind = field_for(leaf["field"])[0].kind
    if kind == TEXT:
        v = (v or "").lower() if isinstance(v, str) or v is None else str(v).lower()
    if op == "eq":
        return v == (c.lower() if kind == TEXT else c)
    if op == "ne":
        return v != (c.lower() if kind == TEXT else c)
    if op == "in":
        return v in ([x.lower() for x in c] if kind == TEXT else c)
    if op == "not_in":
        return v not in ([x.lower() for x in c] if kind == TEXT else c)
    if op == "contains":
        return (c.lower() in v) if kind == TEXT else (c in (v or ()))
    if op == "not_contains":
        return (c.lower() not in v) if kind == TEXT else (c not in (v or ()))
    if op == "any_of":
        return any(x in (v or ()) for x in c)
    if op == "all_of":
        return all(x in (v or ()) for x in c)
    if op == "words":
        return re.search(_words_pattern(c), v, re.IGNORECASE) is not None
    if op == "matches":
        return re.search(c, v, re.IGNORECASE) is not None
    if op == "not_matches":
        return re.search(c, v, re.IGNORECASE) is None
    if op == "starts_with":
        return v.startswith(c.lower())
    if op in ("gt", "gte", "lt", "lte"):
        if v is None:
            return False
        return {"gt": v > c, "gte": v >= c, "lt": v < c, "lte": v <= c}[op]
    if op == "is_true":
        return bool(v)
    if op == "is_false":
        return not v
    if op == "empty":
        return v is None or v == "" or v == ()
    if op == "not_empty":
        return not (v is None or v == "" or v == ())
    raise RuleError(f"unknown operator {op}")


def interpret(conditions: dict, snapshot: dict) -> bool:
    if not conditions:
        return True
    for key, combine in (("all", all), ("any", any)):
        if key in conditions:
            result = combine(interpret(item, snapshot) for item in conditions[key])
            return not result if conditions.get("not") else result
    return leaf_true(conditions, snapshot)


def explain(conditions: dict, snapshot: dict) -> list[str]:
    """The leaves that made the rule match, in words: "intent legal threat, confidence 0.91"."""
    out: list[str] = []

    def walk(node, negated=False):
        for key in ("all", "any"):
            if key in node:
                for item in node[key]:
                    if interpret(item, snapshot) != (negated != bool(node.get("not"))):
                        walk(item, negated != bool(node.get("not")))
                        if key == "any":
                            break
                return
        if node:
            out.append(describe_leaf(node, snapshot))

    walk(conditions or {})
    return out


def describe_leaf(leaf: dict, snapshot: dict) -> str:
    name, op, value = leaf["field"], leaf["op"], leaf.get("value")
    short = name.split(".", 1)[1].replace("_", " ")
    if name == "analysis.intents" and op in ("contains", "any_of", "all_of"):
        values = [value] if op == "contains" else value
        scores = snapshot.get("analysis.intent_confidence") or {}
        hits = [v for v in values if v in (snapshot.get(name) or ())]
        return ", ".join(f"intent {v.replace('_', ' ')}" + (f", confidence {scores[v]:.2f}" if v in scores else "")
                         for v in hits)
    if name == "analysis.sentiment":
        score = snapshot.get("analysis.sentiment_score")
        return f"sentiment {snapshot.get(name)}" + (f" ({score:+.2f})" if isinstance(score, float) else "")
    actual = _get(snapshot, name)
    if op in ("matches", "words", "contains") and isinstance(actual, str):
        return f"{short} {OPERATORS[op][0]} {value!r}"
    if op in NO_VALUE:
        return f"{short} {OPERATORS[op][0]}"
    if isinstance(actual, float):
        actual = round(actual, 2)
    return f"{short} {actual}"


# --- compilation --------------------------------------------------------------------------------------------


@dataclass
class CompiledRules:
    """Matching for an ordered list of rules; ``match(snapshot)`` returns the indices of matching rules."""

    match: Callable[[dict], list[int]]
    predicates: list[Callable[[dict], bool]]
    needed: set[str] = field(default_factory=set)
    source: str = ""


_OPS = {
    "eq": "({v} == {c})", "ne": "({v} != {c})", "in": "({v} in {c})", "not_in": "({v} not in {c})",
    "gt": "({v} is not None and {v} > {c})", "gte": "({v} is not None and {v} >= {c})",
    "lt": "({v} is not None and {v} < {c})", "lte": "({v} is not None and {v} <= {c})",
    "is_true": "bool({v})", "is_false": "(not {v})",
    "empty": "({v} is None or {v} == '' or {v} == ())", "not_empty": "not ({v} is None or {v} == '' or {v} == ())",
    "matches": "({c}.search({v}) is not None)", "not_matches": "({c}.search({v}) is None)",
    "words": "({c}.search({v}) is not None)", "starts_with": "{v}.startswith({c})",
}


class _Builder:
    def __init__(self):
        self.consts: list[object] = []
        self.const_index: dict[tuple, str] = {}
        self.vars: dict[str, str] = {}  # field name (with key) -> local var
        self.prelude: list[str] = []
        self.needed: set[str] = set()
        self.token_vars: set[str] = set()

    def const(self, value) -> str:
        key = (type(value).__name__, repr(value))
        if key not in self.const_index:
            self.const_index[key] = f"_k{len(self.consts)}"
            self.consts.append(value)
        return self.const_index[key]

    def var(self, name: str) -> str:
        if name in self.vars:
            return self.vars[name]
        fdef, key = field_for(name)
        local = f"v{len(self.vars)}"
        self.vars[name] = local
        base = name[: -len(key) - 1] if key else name
        self.needed.add(base)
        fetch = f"s.get({self.const(base)})"
        if key:
            default = "''" if fdef.kind == TEXT else "0.0"
            fetch = f"({fetch} or _EMPTY).get({self.const(key)}, {default})"
        if fdef.kind == TEXT:
            fetch = f"({fetch} or '').lower()"
        elif fdef.kind == LIST:
            fetch = f"({fetch} or ())"
        self.prelude.append(f"    {local} = {fetch}")
        return local

    def tokens(self, local: str) -> str:
        name = f"{local}t"
        if name not in self.token_vars:
            self.token_vars.add(name)
            self.prelude.append(f"    {name} = frozenset({self.const(_TOKEN.findall)}({local}))")
        return name

    def node(self, node: dict) -> str:
        if not node:
            return "True"
        for key, joiner in (("all", " and "), ("any", " or ")):
            if key in node:
                parts = [self.node(i) for i in node[key]]
                expr = "(" + joiner.join(parts) + ")" if parts else ("True" if key == "all" else "False")
                return f"(not {expr})" if node.get("not") else expr
        return self.leaf(node)

    def leaf(self, leaf: dict) -> str:
        name, op, value = leaf["field"], leaf["op"], leaf.get("value")
        kind = field_for(name)[0].kind
        v = self.var(name)
        if kind == TEXT and value is not None:
            value = [x.lower() for x in value] if isinstance(value, list) else str(value).lower()
        if op in ("matches", "not_matches"):
            c = self.const(re.compile(value, re.IGNORECASE))
        elif op == "words" and all(_TOKEN.fullmatch(w) for w in value):
            # Single words: one set of the text's tokens per message, then a set intersection per rule.
            return f"(not {self.const(frozenset(value))}.isdisjoint({self.tokens(v)}))"
        elif op == "words":
            c = self.const(re.compile(_words_pattern(value), re.IGNORECASE))
        elif op in ("in", "not_in"):
            c = self.const(frozenset(value))
        elif op == "contains":
            return f"({self.const(value)} in {v})"
        elif op == "not_contains":
            return f"({self.const(value)} not in {v})"
        elif op == "any_of":
            return f"(not {self.const(frozenset(value))}.isdisjoint({v}))"
        elif op == "all_of":
            return f"{self.const(frozenset(value))}.issubset({v})"
        else:
            c = self.const(value) if op not in NO_VALUE else ""
        return _OPS[op].format(v=v, c=c)


def compile_rules(conditions_list: list[dict]) -> CompiledRules:
    """One generated function for the whole ordered rule list, plus one predicate per rule."""
    b = _Builder()
    exprs = [b.node(c or {}) for c in conditions_list]
    args = ", ".join([f"{name}={name}" for name in (f"_k{i}" for i in range(len(b.consts)))] + ["_EMPTY=_EMPTY"])
    lines = [f"def _match(s, {args}):", *b.prelude, "    out = []"]
    lines += [f"    if {e}:\n        out.append({i})" for i, e in enumerate(exprs)]
    lines.append("    return out")
    pred_lines = []
    for i, e in enumerate(exprs):
        # A predicate fetches only what its own expression reads.
        tokens = set(re.findall(r"\bv\d+t?\b", e))
        used = tokens | {t[:-1] for t in tokens if t.endswith("t")}
        fetch = [line for line in b.prelude if line.split(" = ")[0].strip() in used]
        body = "\n".join([*fetch, f"    return bool({e})"])
        own = ", ".join(f"{k}={k}" for k in sorted(set(re.findall(r"\b_k\d+\b", body)), key=lambda k: int(k[2:])))
        pred_lines.append(f"def _p{i}(s, {own + ', ' if own else ''}_EMPTY=_EMPTY):\n{body}")
    source = "\n".join(lines) + "\n\n" + "\n\n".join(pred_lines) + "\n"
    namespace: dict = {f"_k{i}": c for i, c in enumerate(b.consts)}
    namespace["_EMPTY"] = {}
    exec(compile(source, "<rules>", "exec"), namespace)  # noqa: S102 - source built from validated JSON only
    return CompiledRules(namespace["_match"], [namespace[f"_p{i}"] for i in range(len(exprs))], b.needed, source)


__all__ = ["RuleError", "normalize", "interpret", "explain", "compile_rules", "CompiledRules", "referenced",
           "fields_used", "REF"]
