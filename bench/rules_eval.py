"""Rule evaluation speed: messages per second matched against N rules on one core.

Compiled rules (resonanz.automation.engine.compile_rules: one generated function over a plain
snapshot dict) against the baseline measured in the same run: the JSON conditions interpreted
directly (resonanz.automation.engine.interpret, the reference semantics). No database is used:
both evaluate the same pre-built snapshots. Prints medians of several runs and the ratio.

    python bench/rules_eval.py [--rules 200 --messages 20000 --runs 5 --seed 1]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resonanz.settings")
os.environ.setdefault("RESONANZ_VAR_DIR", os.path.join(os.environ.get("TMPDIR", "/tmp"), "rz-bench-rules"))

INTENTS = ["question", "complaint", "praise", "suggestion", "purchase_interest", "churn_risk", "legal_threat",
           "outage", "spam"]
WORDS = ("Bestellung Lieferung Rechnung Paket defekt kaputt Frage Hilfe bitte danke order refund account login "
         "password broken late delivery invoice support Kündigung Vertrag Tarif app crash heute morgen Anwalt "
         "lawyer discount Störung outage").split()


def random_leaf(rng: random.Random) -> dict:
    kind = rng.randrange(10)
    if kind == 0:
        return {"field": "analysis.intents", "op": "contains", "value": rng.choice(INTENTS)}
    if kind == 1:
        return {"field": "analysis.intents", "op": "any_of", "value": rng.sample(INTENTS, 2)}
    if kind == 2:
        return {"field": "analysis.sentiment", "op": "eq", "value": rng.choice(["negative", "neutral", "positive"])}
    if kind == 3:
        return {"field": "analysis.urgency", "op": "gte", "value": round(rng.random(), 2)}
    if kind == 4:
        return {"field": "message.text", "op": "words", "value": rng.sample(WORDS, 2)}
    if kind == 5:
        return {"field": "message.text", "op": "contains", "value": rng.choice(WORDS)}
    if kind == 6:
        return {"field": "channel.kind", "op": "in", "value": rng.sample(["api", "email", "web_form", "feed"], 2)}
    if kind == 7:
        return {"field": "conversation.team", "op": "empty"}
    if kind == 8:
        return {"field": "analysis.intent_confidence." + rng.choice(INTENTS), "op": "gt", "value": 0.7}
    return {"field": "contact.reach", "op": "gte", "value": rng.choice([1000, 10000, 100000])}


def random_rules(n: int, rng: random.Random) -> list[dict]:
    from resonanz.automation.engine import normalize

    rules = []
    for _ in range(n):
        leaves = [random_leaf(rng) for _ in range(rng.randint(1, 4))]
        if len(leaves) > 2 and rng.random() < 0.5:
            leaves = [leaves[0], {"any": leaves[1:]}]
        rules.append(normalize({rng.choice(["all", "all", "any"]): leaves}))
    return rules


def random_snapshots(n: int, rng: random.Random) -> list[dict]:
    from resonanz.automation.fields import empty_analysis

    out = []
    for i in range(n):
        intents = tuple(rng.sample(INTENTS, rng.choice([0, 1, 1, 2])))
        out.append({
            **empty_analysis(), "message.id": i, "message.text": " ".join(rng.choices(WORDS, k=rng.randint(8, 40))),
            "message.subject": "", "message.is_public": rng.random() < 0.2,
            "analysis.language": rng.choice(["de", "en"]), "analysis.sentiment": rng.choice(
                ["negative", "neutral", "positive"]), "analysis.sentiment_score": rng.uniform(-1, 1),
            "analysis.intents": intents, "analysis.intent_confidence": {k: rng.random() for k in INTENTS},
            "analysis.urgency": rng.random(), "analysis.relevance": 1.0,
            "channel.kind": rng.choice(["api", "email", "web_form", "feed"]), "channel.id": 1, "channel.public": False,
            "conversation.team": rng.choice([None, 1, 2]), "conversation.tags": (), "conversation.priority": 2,
            "contact.reach": rng.choice([0, 50, 5000, 20000, 200000]), "contact.tags": (), "contact.custom": {},
        })
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rules", type=int, default=200)
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    import django

    django.setup()
    from resonanz.automation.engine import compile_rules, interpret

    rng = random.Random(args.seed)
    rules = random_rules(args.rules, rng)
    snapshots = random_snapshots(args.messages, rng)
    started = time.perf_counter()
    compiled = compile_rules(rules)
    compile_ms = (time.perf_counter() - started) * 1000

    def run_compiled():
        match = compiled.match
        hits = 0
        for s in snapshots:
            hits += len(match(s))
        return hits

    def run_interpreted():
        hits = 0
        for s in snapshots:
            hits += sum(1 for r in rules if interpret(r, s))
        return hits

    assert run_compiled() == run_interpreted(), "compiled and interpreted rules disagree"
    rates = {"compiled": [], "interpreted": []}
    for _ in range(args.runs):
        for name, fn in (("compiled", run_compiled), ("interpreted", run_interpreted)):
            t = time.perf_counter()
            hits = fn()
            rates[name].append(len(snapshots) / (time.perf_counter() - t))
    median = {k: statistics.median(v) for k, v in rates.items()}
    print(f"command: python {' '.join(sys.argv)}")
    print(f"{args.rules} rules, {args.messages} messages, {args.runs} runs, one core; "
          f"compile {compile_ms:.1f} ms; {hits / len(snapshots):.2f} matching rules per message")
    print(f"compiled rules:         {median['compiled']:>10,.0f} messages/s (median; runs: "
          + ", ".join(f"{r:,.0f}" for r in rates["compiled"]) + ")")
    print(f"interpreted JSON (base):{median['interpreted']:>10,.0f} messages/s (median; runs: "
          + ", ".join(f"{r:,.0f}" for r in rates["interpreted"]) + ")")
    print(f"ratio compiled / interpreted: {median['compiled'] / median['interpreted']:.1f}x; "
          f"target 5,000 messages/s: {'met' if median['compiled'] >= 5000 else 'NOT met'}")


if __name__ == "__main__":
    main()
