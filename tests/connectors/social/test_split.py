"""The reply splitter: examples a user would notice, then properties over generated replies."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resonanz.connectors.social.split import (
    URL,
    ReplyTooLong,
    grapheme_length,
    mastodon_length,
    split_reply,
)
from tests.support.mastodon.server import countable_length

NUMBER = re.compile(r"^(\d+)/(\d+) ")


def test_a_short_reply_stays_one_post_with_the_signature():
    assert split_reply("Danke für Ihre Geduld!", 500, signature=" ^AB") == ["Danke für Ihre Geduld! ^AB"]


def test_a_long_reply_breaks_at_sentence_ends_and_is_numbered():
    text = "Erster Satz ist hier. Zweiter Satz folgt sogleich! Dritter Satz zum Schluss?"
    parts = split_reply(text, 40, signature=" ^AB")
    assert parts == ["1/3 Erster Satz ist hier.", "2/3 Zweiter Satz folgt sogleich!",
                     "3/3 Dritter Satz zum Schluss? ^AB"]


def test_mastodon_counts_a_url_as_23_and_bluesky_counts_it_in_full():
    url = "https://firma.example/" + "x" * 100
    assert mastodon_length(f"Siehe {url}") == len("Siehe ") + 23
    assert grapheme_length(f"Siehe {url}") == len("Siehe ") + len(url)
    assert split_reply(f"Siehe {url}", 40, network="mastodon") == [f"Siehe {url}"]
    assert mastodon_length("@kunde@far.example hallo") == len("@kunde hallo")


def test_bluesky_counts_graphemes_not_code_points():
    family = "👨‍👩‍👧‍👦"  # seven code points, one grapheme
    assert grapheme_length(family * 300) == 300
    assert split_reply(family * 300, 300, network="bluesky") == [family * 300]


def test_refusing_says_how_long_it_is_and_what_is_allowed():
    with pytest.raises(ReplyTooLong) as refused:
        split_reply("x " * 300, 500, refuse=True, signature=" ^AB")
    assert refused.value.length == 603 and refused.value.limit == 500
    assert "500" in str(refused.value)


def test_a_word_longer_than_a_post_is_refused_rather_than_cut():
    with pytest.raises(ReplyTooLong, match="cannot be split"):
        split_reply("Kurz. " + "Donaudampfschifffahrt" * 20, 100, network="bluesky")


def test_empty_replies_and_bad_limits_are_errors():
    with pytest.raises(ValueError):
        split_reply("   ", 500)
    with pytest.raises(ValueError):
        split_reply("Hallo", 0)


# --- properties --------------------------------------------------------------------------------------------
letters = st.sampled_from(list("abcdefghijklmnopqrstuvwxyzäöüßABCXYZ") + ["é", "e\u0301", "🙂", "👍🏽", "中", "ب"])
plain_word = st.lists(letters, min_size=1, max_size=12).map("".join)
url = st.builds(lambda host, path: f"https://{host}.example/{path}", plain_word.filter(str.isascii)
                .map(str.lower).filter(str.isalpha), st.text("abc123/-_", min_size=0, max_size=60))
mention = st.builds(lambda a, b: f"@{a}@{b}.example", st.text("abcxyz", min_size=1, max_size=8),
                    st.text("abcxyz", min_size=1, max_size=8))
word = st.one_of(plain_word, plain_word, plain_word, url, mention)
sentence = st.builds(lambda words, end: " ".join(words) + end, st.lists(word, min_size=1, max_size=12),
                     st.sampled_from([".", "!", "?", "…", ".\"", "", ","]))
reply = st.builds(lambda sentences, seps: "".join(s + sep for s, sep in zip(sentences, seps, strict=False)),
                  st.lists(sentence, min_size=1, max_size=12), st.lists(st.sampled_from([" ", "\n", "\n\n", "  "]),
                                                                        min_size=12, max_size=12))
signature = st.one_of(st.just(""), st.builds(lambda a: f" ^{a}", st.text("ABCDEFGH", min_size=2, max_size=3)))


def _bodies(parts: list[str], sig: str) -> list[str]:
    if len(parts) == 1:
        return [parts[0].removesuffix(sig) if sig else parts[0]]
    bodies = [NUMBER.sub("", p, count=1) for p in parts]
    bodies[-1] = bodies[-1].removesuffix(sig) if sig else bodies[-1]
    return bodies


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=reply, limit=st.integers(min_value=60, max_value=500), network=st.sampled_from(["mastodon", "bluesky"]),
       sig=signature)
def test_parts_fit_keep_every_word_and_url_whole_and_end_signed(text, limit, network, sig):
    count = mastodon_length if network == "mastodon" else grapheme_length
    try:
        parts = split_reply(text, limit, network=network, signature=sig)
    except ReplyTooLong:
        # only allowed when some word (with numbering and signature room) cannot fit in any post
        assert any(count(f"99/99 {w}{sig}") > limit for w in text.split())
        return
    for part in parts:
        assert count(part) <= limit
        if network == "mastodon":
            assert countable_length(part) <= limit  # what the Mastodon server itself counts
    assert parts[-1].endswith(sig)
    bodies = _bodies(parts, sig)
    assert " ".join(bodies).split() == text.split()  # same words, same order: nothing cut, lost or added
    for found in URL.findall(text):
        assert any(found in token for body in bodies for token in body.split())  # never cut across posts
    if len(parts) > 1:
        assert [NUMBER.match(p).groups() for p in parts] == [(str(i), str(len(parts)))
                                                            for i in range(1, len(parts) + 1)]
        assert all(body.strip() == body and body for body in bodies)


@settings(max_examples=100, deadline=None)
@given(text=reply, limit=st.integers(min_value=20, max_value=500), network=st.sampled_from(["mastodon", "bluesky"]),
       sig=signature)
def test_refuse_mode_refuses_exactly_what_does_not_fit(text, limit, network, sig):
    count = mastodon_length if network == "mastodon" else grapheme_length
    fits = count(text.strip() + sig) <= limit
    if fits:
        assert split_reply(text, limit, network=network, signature=sig, refuse=True) == [text.strip() + sig]
    else:
        with pytest.raises(ReplyTooLong):
            split_reply(text, limit, network=network, signature=sig, refuse=True)
