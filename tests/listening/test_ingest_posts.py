"""The batched intake of public posts: the same guarantees as one at a time, in a few statements per batch."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from resonanz.connectors import intake
from resonanz.connectors.actions import create_channel
from resonanz.core.errors import ActionError
from resonanz.listening import actions
from resonanz.listening.actions import InboundPost, ingest_post, ingest_posts
from resonanz.listening.models import Post

pytestmark = pytest.mark.django_db


@pytest.fixture
def feed(db):
    return create_channel(kind="feed", name="Blogs", settings={"feeds": []})


def page(n: int, start: int = 0, text: str = "Beitrag") -> list[InboundPost]:
    return [InboundPost(external_id=f"p{i}", text=f"{text} {i}", author=f"Autorin {i}", reach=i,
                        link=f"https://social.example/@a/{i}", published_at=datetime(2026, 1, 1, tzinfo=UTC))
            for i in range(start, start + n)]


def test_a_batch_stores_each_post_once_and_reports_each(feed):
    items = [*page(3), InboundPost(external_id="", text="ohne id"), InboundPost(external_id="leer"),
             InboundPost(external_id="p1", text="Beitrag 1", author="Autorin 1")]
    results = ingest_posts(feed, items)
    assert [r.status if not isinstance(r, ActionError) else r.field for r in results] == [
        "created", "created", "created", "external_id", "text", "unchanged"]
    assert results[5].post.pk == results[1].post.pk
    assert Post.objects.filter(channel=feed).count() == 3
    stored = Post.objects.get(external_id="p2")
    assert (stored.text, stored.author, stored.reach, stored.link, stored.pipeline_state) == (
        "Beitrag 2", "Autorin 2", 2, "https://social.example/@a/2", "pending")
    assert stored.pk == results[2].post.pk  # the result carries the stored row's id


def test_reading_a_page_again_changes_nothing_and_a_changed_text_updates_in_place(feed):
    first = ingest_posts(feed, page(5))
    again = ingest_posts(feed, page(5))
    assert [r.status for r in again] == ["unchanged"] * 5
    assert [r.post.pk for r in again] == [r.post.pk for r in first]
    Post.objects.update(pipeline_state="done")
    changed = ingest_posts(feed, [*page(2), *page(1, start=2, text="Neu"), *page(1, start=9)])
    assert [r.status for r in changed] == ["unchanged", "unchanged", "updated", "created"]
    post = Post.objects.get(external_id="p2")
    assert post.text == "Neu 2" and post.pipeline_state == "pending" and post.updated_at is not None
    assert Post.objects.get(external_id="p0").pipeline_state == "done"
    assert Post.objects.count() == 6


def test_the_same_post_twice_in_a_batch_is_stored_once_with_its_last_text(feed):
    results = ingest_posts(feed, [InboundPost(external_id="x", text="alt"), InboundPost(external_id="x", text="neu")])
    assert [r.status for r in results] == ["created", "unchanged"]
    assert list(Post.objects.values_list("text", flat=True)) == ["neu"]


def test_statements_do_not_grow_with_the_batch(feed):
    def count(items) -> int:
        with CaptureQueriesContext(connection) as ctx:
            ingest_posts(feed, items)
        return len([q for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"].upper()])
    small, large = count(page(2)), count(page(200, start=100))
    assert large == small <= 2  # one look-up of stored ids, one multi-row insert
    assert count(page(200, start=100)) == 2  # a page read again: the look-up and one load of the posts


def test_a_race_with_another_writer_falls_back_to_one_by_one(feed, monkeypatch):
    ingest_posts(feed, page(1, start=1))
    real = actions._stored
    monkeypatch.setattr(actions, "_stored", lambda channel, ids: {})  # the other writer stored p1 after our look-up
    results = ingest_posts(feed, page(3))
    monkeypatch.setattr(actions, "_stored", real)
    assert [r.status for r in results] == ["created", "unchanged", "created"]
    assert Post.objects.count() == 3


def test_media_are_kept_as_safe_links_with_alt_text(feed):
    post = ingest_post(feed, InboundPost(external_id="m", text="Bild", media=[
        {"url": "https://cdn.example/a.jpg", "kind": "image", "alt": "Ein Fahrrad\u202e"},
        {"url": "javascript:alert(1)", "kind": "image"}, {"url": "https://cdn.example/v.mp4", "kind": "exe"},
        "kaputt"])).post
    post.refresh_from_db()
    assert post.media == [{"url": "https://cdn.example/a.jpg", "kind": "image", "alt": "Ein Fahrrad"},
                          {"url": "https://cdn.example/v.mp4", "kind": "link", "alt": ""}]


def test_the_intake_hands_posts_to_the_batch(feed):
    results = intake.submit(feed, page(4))
    assert intake.created(results) == 4 and Post.objects.count() == 4
