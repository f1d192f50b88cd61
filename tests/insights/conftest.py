"""Posts with their analysis, made through the real intake and pipeline."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from resonanz.connectors.actions import create_channel
from resonanz.core.pipeline import run_until_empty
from resonanz.listening.actions import InboundPost, ingest_post


@pytest.fixture
def feed(db):
    return create_channel(kind="feed", name="Blogs", settings={"feeds": []})


def add_post(channel, external_id, text, *, days_ago: float = 0, title: str = "", **kw):
    published = timezone.now() - timedelta(days=days_ago)
    return ingest_post(channel, InboundPost(external_id=external_id, text=text, title=title, published_at=published,
                                            source="https://blog.example/feed", source_title="Blog", **kw)).post


@pytest.fixture
def posts(feed):
    """A small stream: our brand (Acme), a competitor (Globex), both with praise and complaints."""
    texts = [
        ("p1", "Die Lieferungen von Acme kommen ständig zu spät, eine Katastrophe.", 1),
        ("p2", "Acme hat mir super schnell geholfen, danke!", 2),
        ("p3", "Globex liefert pünktlich, sehr zufrieden mit dem Service.", 3),
        ("p4", "Globex ist zu teuer und der Support antwortet nie.", 4),
        ("p5", "Acme's new kettle is great, I love it.", 5),
        ("p6", "Wetter heute schön, nichts über Firmen.", 6),
    ]
    out = [add_post(feed, ext, text, days_ago=days) for ext, text, days in texts]
    run_until_empty()
    return out
