"""Generates the bilingual seed corpus (corpus.jsonl) from the team's templates.

Run ``python -m resonanz.analysis.seed.generate`` to rebuild it; the output is
deterministic (fixed seed) and committed, so the seed model is reproducible.
Why a generator: several thousand hand-labelled texts are out of reach, but
templates x slots x channel framing x noise (typos, slang, emoji, case,
irony, mixed intents) give varied texts whose labels are right by
construction. Sentiment is not a function of the intent: templates carry
overrides, combinations mix polarities, and intent-free chatter of every
polarity is included so the model does not learn "message = complaint".
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from . import slots, templates_de, templates_en

HERE = Path(__file__).parent
OUT = HERE / "corpus.jsonl"
INTENTS = ("question", "complaint", "praise", "suggestion", "purchase_interest", "churn_risk", "legal_threat",
           "outage", "spam")
DEFAULT_SENT = {"question": "neutral", "complaint": "negative", "praise": "positive", "suggestion": "neutral",
                "purchase_interest": "neutral", "churn_risk": "negative", "legal_threat": "negative",
                "outage": "negative", "spam": "neutral"}
BASE_URGENCY = {"question": 0.3, "complaint": 0.55, "praise": 0.05, "suggestion": 0.1, "purchase_interest": 0.4,
                "churn_risk": 0.75, "legal_threat": 0.9, "outage": 0.8, "spam": 0.0}
# Pairs that occur together in real mail: (first, second).
COMBOS = [("complaint", "churn_risk"), ("complaint", "legal_threat"), ("outage", "complaint"),
          ("outage", "question"), ("complaint", "question"), ("praise", "suggestion"), ("question", "purchase_interest"),
          ("churn_risk", "question"), ("complaint", "suggestion"), ("praise", "question"),
          ("outage", "churn_risk"), ("complaint", "churn_risk", "legal_threat")]
CHANNELS = ("email", "chat", "tweet", "forum")
EMOJI = {"positive": ["😊", "👍", "😍", "🙏", "❤️", "🎉", "😀"], "negative": ["😡", "😤", "🙄", "😞", "👎", "🤬", "😩"],
         "neutral": ["🤔", "", "", "🙂"]}
SLANG_DE = [("nicht", "nich"), ("ist", "is"), ("habe", "hab"), ("eine", "ne"), ("einen", "nen"), ("Danke", "thx"),
            ("wirklich", "echt"), ("schon", "schon"), ("etwas", "was")]
SLANG_EN = [("you", "u"), ("are", "r"), ("thanks", "thx"), ("please", "pls"), ("because", "bc"), ("really", "rly"),
            ("I am", "I'm"), ("going to", "gonna")]
EMPHASIS = {"de": {"negative": ["Echt schlimm.", "Unglaublich.", "Ich bin total enttäuscht.", "So nicht!"],
                   "positive": ["Echt klasse!", "Weiter so!", "Sehr gut."]},
            "en": {"negative": ["Seriously awful.", "Unbelievable.", "Totally disappointed.", "Not acceptable!"],
                   "positive": ["Really great!", "Keep it up!", "Very good."]}}


def _split(line: str) -> tuple[str, str | None]:
    for mark, sent in (("~neg", "negative"), ("~pos", "positive"), ("~neu", "neutral")):
        if line.endswith(mark):
            return line[: -len(mark)].rstrip(), sent
    return line, None


def _fill(rng: random.Random, text: str, lang: str) -> str:
    prods = slots.PRODUCTS_DE if lang == "de" else slots.PRODUCTS_EN
    return (text.replace("{p}", rng.choice(prods)).replace("{m}", rng.choice(slots.MODELS))
            .replace("{comp}", rng.choice(slots.COMPETITORS)).replace("{c}", rng.choice(slots.COMPANIES).replace(" ", ""))
            .replace("{n}", rng.choice(slots.NAMES)).replace("{s}", rng.choice(slots.SURNAMES))
            .replace("{o}", rng.choice(slots.ORDER_NO)).replace("{a}", rng.choice(slots.AMOUNTS))
            .replace("{d}", rng.choice(slots.DAYS_DE if lang == "de" else slots.DAYS_EN))
            .replace("{city}", rng.choice(slots.CITIES)))


def _typo(rng: random.Random, text: str) -> str:
    words = text.split(" ")
    for _ in range(rng.randint(1, 2)):
        i = rng.randrange(len(words))
        w = words[i]
        if len(w) > 3:
            j = rng.randrange(len(w) - 1)
            op = rng.random()
            if op < 0.4:
                w = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
            elif op < 0.7:
                w = w[:j] + w[j + 1 :]
            else:
                w = w[:j] + w[j] + w[j:]
            words[i] = w
    return " ".join(words)


def _noise(rng: random.Random, text: str, lang: str, channel: str, sentiment: str) -> str:
    if channel in ("tweet", "chat") and rng.random() < 0.35:
        text = text.lower()
    if rng.random() < 0.25:
        text = _typo(rng, text)
    if rng.random() < 0.2:
        for a, b in SLANG_DE if lang == "de" else SLANG_EN:
            if rng.random() < 0.5:
                text = text.replace(f" {a} ", f" {b} ")
    if channel in ("tweet", "chat") and rng.random() < 0.35:
        text = text + " " + rng.choice(EMOJI[sentiment]) * rng.randint(1, 3)
    if rng.random() < 0.1:
        text = text.replace("!", "!!!") if "!" in text else text.rstrip(".") + "!!"
    if channel == "tweet" and rng.random() < 0.15:
        text = text.rstrip(".")
    return " ".join(text.split(" ")).strip()


def _sentiment(parts: list[tuple[str, str | None]]) -> str:
    sents = [s or DEFAULT_SENT[i] for i, s in parts]
    if "negative" in sents:
        return "negative"
    if "positive" in sents:
        return "positive"
    return "neutral"


def _record(rng: random.Random, lang: str, intents: list[str]) -> dict:
    mod = templates_de if lang == "de" else templates_en
    parts: list[tuple[str, str | None]] = []
    texts = []
    tids = []
    for intent in intents:
        k = rng.randrange(len(mod.T[intent]))
        tids.append(f"{lang}:{intent}:{k}")
        line, sent = _split(mod.T[intent][k])
        parts.append((intent, sent))
        texts.append(_fill(rng, line, lang))
    sentiment = _sentiment(parts)
    channel = "tweet" if "spam" in intents else rng.choice(CHANNELS)
    body = " ".join(texts)
    if sentiment != "neutral" and rng.random() < 0.15:
        body += " " + rng.choice(EMPHASIS[lang][sentiment])
    urgency = max(BASE_URGENCY[i] for i in intents)
    if sentiment == "negative" and "spam" not in intents and rng.random() < 0.2:
        body += rng.choice(mod.URGENT)
        urgency = min(1.0, urgency + 0.25)
    if rng.random() < 0.6:
        body = _fill(rng, rng.choice(mod.GREET[channel]), lang) + body + _fill(rng, rng.choice(mod.CLOSE[channel]), lang)
    text = _noise(rng, body, lang, channel, sentiment)
    emotional = sentiment == "negative" and any(i in intents for i in ("complaint", "churn_risk", "legal_threat"))
    complex_ = emotional or len(intents) > 1 or len(text) > 400 or "legal_threat" in intents
    urgency = round(min(1.0, max(0.0, urgency + rng.uniform(-0.05, 0.05))), 2)
    return {"text": text, "language": lang, "sentiment": sentiment, "intents": sorted(set(intents)),
            "urgency": urgency, "complexity": "complex" if complex_ else "simple", "channel": channel,
            "template": tids[0]}


def _chatter(rng: random.Random, lang: str) -> dict:
    mod = templates_de if lang == "de" else templates_en
    k = rng.randrange(len(mod.NONE))
    line, sent = _split(mod.NONE[k])
    channel = rng.choice(("tweet", "chat", "forum"))
    text = _noise(rng, _fill(rng, line, lang), lang, channel, sent or "neutral")
    return {"text": text, "language": lang, "sentiment": sent or "neutral", "intents": [], "urgency": 0.0,
            "complexity": "simple", "channel": channel, "template": f"{lang}:none:{k}"}


def _neutral(rng: random.Random, lang: str) -> dict:
    mod = templates_de if lang == "de" else templates_en
    k = rng.randrange(len(mod.NEUTRAL))
    channel = rng.choice(("tweet", "chat", "forum", "email"))
    text = _noise(rng, _fill(rng, mod.NEUTRAL[k], lang), lang, channel, "neutral")
    return {"text": text, "language": lang, "sentiment": "neutral", "intents": [], "urgency": 0.0,
            "complexity": "simple", "channel": channel, "template": f"{lang}:neutral:{k}"}


def generate(n: int = 6000, seed: int = 20240611, n_neutral: int = 900) -> list[dict]:
    """``n`` records, about half German, half English, then ``n_neutral`` plain neutral statements
    (drawn from a second random stream, so adding them left the first part unchanged); deduplicated by text."""
    rng = random.Random(seed)
    out: dict[str, dict] = {}
    attempts = 0
    while len(out) < n and attempts < n * 20:
        attempts += 1
        lang = "de" if rng.random() < 0.52 else "en"
        r = rng.random()
        if r < 0.18:
            rec = _chatter(rng, lang)
        elif r < 0.36:
            rec = _record(rng, lang, list(rng.choice(COMBOS)))
        else:
            rec = _record(rng, lang, [rng.choice(INTENTS)])
        out.setdefault(rec["text"], rec)
    rng2 = random.Random(seed + 1)
    target = len(out) + n_neutral
    attempts = 0
    while len(out) < target and attempts < n_neutral * 20:
        attempts += 1
        rec = _neutral(rng2, "de" if rng2.random() < 0.52 else "en")
        out.setdefault(rec["text"], rec)
    return list(out.values())


def main() -> None:
    records = generate()
    with OUT.open("w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    print(f"wrote {len(records)} records to {OUT}")


if __name__ == "__main__":
    main()
