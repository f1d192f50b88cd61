"""Feed channels against a real local HTTP server: RSS, Atom, conditional GET, broken and vanishing feeds."""

from __future__ import annotations

import pytest

from resonanz.connectors.actions import check_channel, create_channel
from resonanz.connectors.drivers import get_driver
from resonanz.connectors.models import Channel, SourceState
from resonanz.connectors.tasks import poll_channel, poll_due_channels
from resonanz.core.pipeline import process_pending
from resonanz.listening.models import Post
from tests.connectors.feeds.conftest import feed_file

pytestmark = pytest.mark.django_db


def make_channel(server, *paths, timeout=2, **extra):
    feeds = [{"url": server.url(p), "interval": 600} for p in paths]
    return create_channel(kind="feed", name="Blogs", settings={"feeds": feeds, "timeout": timeout, **extra})


def test_rss_and_atom_entries_become_posts_once(feed_server):
    feed_server.routes.set("/rss.xml", feed_file("rss.xml"), etag='"v1"')
    feed_server.routes.set("/atom.xml", feed_file("atom.xml"), content_type="application/atom+xml",
                           last_modified="Wed, 06 Mar 2024 11:00:00 GMT")
    channel = make_channel(feed_server, "/rss.xml", "/atom.xml")

    assert poll_channel(channel) == 5
    assert Post.objects.count() == 5
    kocher = Post.objects.get(external_id="blog-nord-101")
    assert kocher.author == "Jana Köhler"
    assert kocher.link == "https://blog.example.de/2024/wasserkocher"
    assert kocher.published_at.isoformat() == "2024-03-04T08:30:00+00:00"
    assert "schnell" in kocher.text and "<script" not in kocher.html and "alert" not in kocher.text
    assert kocher.source == feed_server.url("/rss.xml") and kocher.source_title == "Technik-Blog Nord"
    assert Post.objects.get(link="https://blog.example.de/2024/ohne-guid").external_id == \
        "https://blog.example.de/2024/ohne-guid"  # no guid: the link is the id
    sam = Post.objects.get(title__startswith="Bruehwerk kettle")
    assert sam.author == "Sam Porter" and sam.author_handle == "https://forum.example.com/u/sam"
    assert Channel.objects.get(pk=channel.pk).healthy

    # Polling again (forced, the interval has not passed) asks conditionally and stores nothing new.
    assert get_driver(channel).poll(force=True) == 0
    assert Post.objects.count() == 5
    assert feed_server.routes.hits("/rss.xml")[-1].get("If-None-Match") == '"v1"'
    assert feed_server.routes.hits("/atom.xml")[-1].get("If-Modified-Since") == "Wed, 06 Mar 2024 11:00:00 GMT"


def test_posts_are_analysed_after_the_poll(feed_server):
    feed_server.routes.set("/rss.xml", feed_file("rss.xml"))
    poll_channel(make_channel(feed_server, "/rss.xml"))
    post = Post.objects.get(external_id="blog-nord-101")
    assert post.pipeline_state == "pending" and post.analysis_or_none is None
    process_pending()  # what the worker does when the poll's kick (or the sweep) reaches it
    post.refresh_from_db()
    analysis = post.analysis
    assert post.pipeline_state == "done" and analysis.text_hash
    assert analysis.sentiment in {"negative", "neutral", "positive"} and analysis.relevance is not None


def test_a_feed_is_fetched_only_when_its_interval_has_passed(feed_server):
    feed_server.routes.set("/rss.xml", feed_file("rss.xml"))
    channel = make_channel(feed_server, "/rss.xml")
    get_driver(channel).poll()
    get_driver(channel).poll()
    assert len(feed_server.routes.hits("/rss.xml")) == 1


def test_changed_entry_updates_its_post_and_duplicates_are_ignored(feed_server):
    feed_server.routes.set("/rss.xml", feed_file("rss.xml"))
    channel = make_channel(feed_server, "/rss.xml")
    get_driver(channel).poll()
    changed = feed_file("rss.xml").replace(b"aber leider sehr laut", b"und nach dem Update leise")
    # the same entry twice in one document, plus the change
    changed = changed.replace(b"</channel>", changed[changed.index(b"<item>"):changed.index(b"</item>") + 7]
                              + b"</channel>")
    feed_server.routes.set("/rss.xml", changed)
    assert get_driver(channel).poll(force=True) == 0
    post = Post.objects.get(external_id="blog-nord-101")
    assert "leise" in post.text and post.updated_at is not None
    assert Post.objects.filter(external_id="blog-nord-101").count() == 1
    assert Post.objects.count() == 3


def test_broken_xml_is_recorded_and_other_feeds_still_read(feed_server):
    feed_server.routes.set("/broken.xml", feed_file("broken.xml"), content_type="text/html")
    feed_server.routes.set("/atom.xml", feed_file("atom.xml"))
    channel = make_channel(feed_server, "/broken.xml", "/atom.xml")
    outcome = poll_channel(channel)
    assert str(outcome).startswith("error")
    assert Post.objects.count() == 2  # the good feed was read
    broken = SourceState.objects.get(key=feed_server.url("/broken.xml"))
    assert "not" in broken.last_error and "feed" in broken.last_error and not broken.healthy
    assert SourceState.objects.get(key=feed_server.url("/atom.xml")).healthy
    channel.refresh_from_db()
    assert not channel.healthy and "/broken.xml" in channel.last_error and "/atom.xml" not in channel.last_error


def test_redirect_is_followed_and_remembered(feed_server):
    feed_server.routes.set("/old.xml", status=301, location=feed_server.url("/atom.xml"))
    feed_server.routes.set("/atom.xml", feed_file("atom.xml"))
    channel = make_channel(feed_server, "/old.xml")
    assert get_driver(channel).poll() == 2
    assert SourceState.objects.get().final_url == feed_server.url("/atom.xml")


def test_timeout_is_an_error_of_that_feed_only(feed_server):
    feed_server.routes.set("/slow.xml", feed_file("rss.xml"), delay=4.0)
    feed_server.routes.set("/atom.xml", feed_file("atom.xml"))
    channel = make_channel(feed_server, "/slow.xml", "/atom.xml", timeout=1.5)  # room for a busy machine
    assert str(poll_channel(channel)).startswith("error")
    # the same words for a refused, closed or slow address (an answer must not reveal what is behind a port)
    assert "127.0.0.1" in SourceState.objects.get(key=feed_server.url("/slow.xml")).last_error
    assert Post.objects.count() == 2


def test_a_feed_that_disappears_keeps_its_posts_and_reports_gone(feed_server):
    feed_server.routes.set("/rss.xml", feed_file("rss.xml"))
    channel = make_channel(feed_server, "/rss.xml")
    get_driver(channel).poll()
    feed_server.routes.set("/rss.xml", b"gone", status=410, content_type="text/plain")
    SourceState.objects.update(last_fetched_at=None)  # the feed's interval has passed
    poll_channel(channel)
    state = SourceState.objects.get()
    assert "gone" in state.last_error and state.last_status == 410 and state.consecutive_errors == 1
    assert Post.objects.count() == 3


def test_scheduler_polls_feed_channels_and_a_failing_one_does_not_stop_others(feed_server):
    feed_server.routes.set("/atom.xml", feed_file("atom.xml"))
    create_channel(kind="feed", name="Broken", settings={"feeds": [{"url": feed_server.url("/missing.xml")}]})
    make_channel(feed_server, "/atom.xml")
    outcome = poll_due_channels()
    assert outcome["Blogs"] == 2 and str(outcome["Broken"]).startswith("error")


def test_check_connection_fetches_each_feed(feed_server):
    feed_server.routes.set("/atom.xml", feed_file("atom.xml"))
    channel = make_channel(feed_server, "/atom.xml")
    ok, detail = check_channel(channel)
    assert ok and "2 entries" in detail
    feed_server.routes.set("/atom.xml", feed_file("broken.xml"))
    ok, detail = check_channel(channel)
    assert not ok and "/atom.xml" in detail
    ok, detail = check_channel(create_channel(kind="feed", name="Empty", settings={}))
    assert not ok and "no feeds" in detail
    assert Post.objects.count() == 0  # checking stores nothing
