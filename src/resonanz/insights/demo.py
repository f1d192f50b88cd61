"""Demo posts for the listening dashboards: 30 days about an invented coffee brand (Kaffeewerk), two
competitors (BrühBar, Tassenglück), a product launch (Barista Pro, 10 days ago, with teasers in the ten days before) and a complaint spike about
late deliveries (3 days ago), and ideas (oat milk asked for more and more often, a refill pack, an app), written
by the Resonanz team. ``resonanz insights demo`` puts the brand, product and competitors in the catalog (so the
dashboard counts the entities), loads the posts through the real intake and pipeline, and creates the brand,
competitor and product queries.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta

from django.utils import timezone

from resonanz.connectors.actions import create_channel
from resonanz.connectors.models import Channel
from resonanz.core.pipeline import run_until_empty
from resonanz.insights import actions, alerts
from resonanz.insights.backfill import run_backfill
from resonanz.insights.demo_texts import CALM, CATALOG, IDEAS, LAUNCH, SPIKE, TEASER
from resonanz.insights.models import ListeningQuery
from resonanz.listening.actions import InboundPost, ingest_post
from resonanz.listening.models import Post
from resonanz.understanding.actions import delete_catalog_entry, save_catalog_entry
from resonanz.understanding.models import CatalogEntry

CHANNEL = "Demo: Blogs und Foren"
SPIKE_POSTS = 36
QUERIES = [
    ("Kaffeewerk", "Kaffeewerk", "brand", None),
    ("BrühBar", "BrühBar OR Brühbar", "competitor", None),
    ("Tassenglück", "Tassenglück", "competitor", None),
    ("Barista Pro", '"Barista Pro"', "product", 10),
]


def load(*, scale: float = 1.0, seed: int = 7, queries: bool = True,
         progress: Callable[[int], None] | None = None) -> int:
    """Load the demo posts (once); returns how many posts were stored."""
    channel = Channel.objects.filter(name=CHANNEL).first() or create_channel(
        kind="feed", name=CHANNEL, settings={"feeds": []}, is_demo=True)
    if Post.objects.filter(channel=channel).exists():
        return 0
    for name, kind in CATALOG:
        if not CatalogEntry.objects.filter(name__iexact=name, kind=kind).exists():
            save_catalog_entry(name=name, kind=kind)
    rng = random.Random(seed)
    now = timezone.now()
    n = 0

    def add(text: str, at) -> None:
        nonlocal n
        n += 1
        ingest_post(channel, InboundPost(external_id=f"demo-{n}", text=text, published_at=at, author=f"user{n % 97}",
                                         source="https://forum.demo.resonanz.example/feed", source_title="Kaffeeforum",
                                         reach=rng.randint(20, 5000)), is_demo=True)

    for day in range(30, 0, -1):
        for _ in range(max(1, round(rng.randint(5, 9) * scale))):
            add(rng.choice(CALM), now - timedelta(days=day, hours=rng.uniform(-10, 10)))
        if 11 <= day <= 20 and rng.random() < 0.6:  # before the launch: a teaser now and then
            add(rng.choice(TEASER), now - timedelta(days=day, hours=rng.uniform(-10, 10)))
        if 1 <= day <= 10:  # the launch: many posts in the first days, fewer later
            for _ in range(round((12 - day) * 0.6 * scale)):
                add(rng.choice(LAUNCH), now - timedelta(days=day, hours=rng.uniform(-6, 6)))
    ideas = {theme: [t for th, t in IDEAS if th == theme] for theme, _t in IDEAS}
    for day in range(30, 0, -1):  # oat milk: now and then at first, most days lately; the others steady
        if rng.random() < (0.2 if day > 14 else 0.8):
            add(rng.choice(ideas["oat"]), now - timedelta(days=day, hours=rng.uniform(-8, 8)))
        if day % 6 == 0:
            add(rng.choice(ideas["refill" if day % 12 else "app"]), now - timedelta(days=day, hours=rng.uniform(-8, 8)))
    for k in range(SPIKE_POSTS):  # the complaint spike, three days ago, within 100 minutes (any scale)
        add(rng.choice(SPIKE), now - timedelta(days=3, minutes=k * 100 / SPIKE_POSTS))
    run_until_empty()
    if progress:
        progress(n)
    if queries:
        for name, expression, tag, launch in QUERIES:
            if not ListeningQuery.objects.filter(name=name).exists():
                q = actions.save_query(None, None, name=name, expression=expression, tag=tag,
                                       launch_at=(now - timedelta(days=launch)).date() if launch else None)
                run_backfill(q.pk)
        alerts.check()
    return n


def remove() -> int:
    channel = Channel.objects.filter(name=CHANNEL, is_demo=True).first()
    if channel is None:
        return 0
    count = Post.objects.filter(channel=channel).count()
    for q in ListeningQuery.objects.filter(name__in=[name for name, *_ in QUERIES]):
        actions.delete_query(q)
    channel.delete()
    for name, kind in CATALOG:
        entry = CatalogEntry.objects.filter(name=name, kind=kind).first()
        if entry is not None:
            delete_catalog_entry(entry)
    return count
