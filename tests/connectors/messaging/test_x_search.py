"""X recent search as a listening source: each listening query of the channel reads from its cursor into the
listening stream, against the local X API server's documented search shape; rate limits and revoked tokens."""

from __future__ import annotations

import pytest

from resonanz.connectors.actions import update_channel
from resonanz.connectors.models import Channel, SourceState
from resonanz.connectors.tasks import poll_channel
from resonanz.core.errors import ActionError
from resonanz.listening.models import Post

pytestmark = pytest.mark.django_db


def listen(channel, *queries):
    return update_channel(channel, settings={**channel.settings, "listen": list(queries)})


def test_matching_posts_go_to_the_stream_once_with_reach(x_channel, xapi):
    channel = listen(x_channel, "fahrradladen -is:retweet", "lieferzeit")
    first = xapi.publish("Der Fahrradladen in Köln ist <script>alert(1)</script> super", followers=4321)
    xapi.publish("Nichts Passendes hier")
    assert poll_channel(channel) == 1
    post = Post.objects.get()
    assert post.external_id == f"x:{first}" and post.reach == 4321 and post.author_handle == "radfahrerin"
    assert post.link == f"https://x.com/radfahrerin/status/{first}" and post.source == "x:fahrradladen -is:retweet"
    assert "<script>" not in post.html
    assert xapi.searches[0]["expansions"] == "author_id" and "since_id" not in xapi.searches[0]
    xapi.publish("Lieferzeit beim Fahrradladen: zwei Wochen!", username="kunde2")
    state = SourceState.objects.get(channel=channel, key="x-search:fahrradladen -is:retweet")
    assert state.cursor["since_id"] == first
    # found by both queries, stored once
    assert poll_channel(Channel.objects.get(pk=channel.pk)) == 1 and Post.objects.count() == 2
    assert xapi.searches[-2]["since_id"] == first


def test_since_id_and_pages(x_channel, xapi):
    channel = listen(x_channel, "rad")
    ids = [xapi.publish(f"Rad Nummer {n}") for n in range(130)]
    assert poll_channel(channel) == 130  # two pages of 100 and 30
    assert {p.external_id for p in Post.objects.all()} == {f"x:{i}" for i in ids}
    assert poll_channel(Channel.objects.get(pk=channel.pk)) == 0
    assert xapi.searches[-1]["since_id"] == ids[-1]


def test_rate_limit_waits_until_the_reset_and_shows_it(x_channel, xapi):
    channel = listen(x_channel, "rad")
    xapi.publish("Rad kaputt")
    xapi.remaining = 0
    outcome = poll_channel(channel)
    assert str(outcome).startswith("error:") and "rate limit" in str(outcome)
    channel = Channel.objects.get(pk=channel.pk)
    assert not channel.healthy and "next call is allowed at" in channel.last_error
    calls = len(xapi.searches)
    xapi.remaining = 100
    assert "rate limit" in str(poll_channel(channel)) and len(xapi.searches) == calls  # not asked before the reset
    state = SourceState.objects.get(channel=channel)
    state.cursor = {**state.cursor, "wait_until": "2020-01-01T00:00:00+00:00"}
    state.save()
    assert poll_channel(channel) == 1 and Post.objects.count() == 1


def test_revoked_token_says_what_to_do_and_resumes_from_the_cursor(x_channel, xapi):
    channel = listen(x_channel, "rad")
    xapi.publish("Rad eins")
    assert poll_channel(channel) == 1
    xapi.revoked = True
    xapi.publish("Rad zwei")
    assert "authorize the account again" in str(poll_channel(channel))
    xapi.revoked = False
    assert poll_channel(Channel.objects.get(pk=channel.pk)) == 1 and Post.objects.count() == 2


def test_queries_are_checked(x_channel):
    with pytest.raises(ActionError):
        listen(x_channel, "x" * 513)
    with pytest.raises(ActionError):
        listen(x_channel, *[f"q{n}" for n in range(21)])
    assert listen(x_channel, " rad  ", "rad").settings["listen"] == ["rad"]
