"""Remote images in inbound HTML: never loaded when an agent opens the mail, offered to load on request."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resonanz.connectors.mail.privacy import PLACEHOLDER, block_remote_images, remote_images
from resonanz.core.sanitize import sanitize_html

from .test_corpus import image_sources as sources


def test_remote_images_get_a_placeholder_and_keep_their_address():
    html = block_remote_images('<p>Hallo</p><img src="https://track.example/o.gif?u=1&m=2" width="1" height="1">'
                               '<IMG SRC="HTTP://cdn.example/logo.png" alt="Logo"><img src=//cdn.example/x.png>'
                               '<img src="/relative.png">')
    assert sources(html) == [PLACEHOLDER] * 4
    assert remote_images(html) == ["https://track.example/o.gif?u=1&m=2", "HTTP://cdn.example/logo.png",
                                   "//cdn.example/x.png", "/relative.png"]
    assert 'alt="Logo"' in html and 'width="1"' in html


def test_images_inside_the_mail_stay_and_a_senders_own_remote_address_is_dropped():
    html = block_remote_images('<img src="cid:logo@kunde.example" data-remote-src="javascript:alert(1)">'
                               '<img src="data:image/png;base64,iVBORw0KGgo=">')
    assert sources(html) == ["cid:logo@kunde.example", "data:image/png;base64,iVBORw0KGgo="]
    assert "data-remote-src" not in html and "javascript" not in html


def test_the_stored_form_survives_sanitizing_again():
    """ingest() sanitizes what the driver hands over: the placeholder and the address must survive it."""
    html = block_remote_images('<p><img src="https://cdn.example/a.png" alt="a"></p>')
    assert sanitize_html(html) == html


_IMG = st.builds(lambda q, src, extra: f"<img{extra} src={q}{src}{q}>",
                 st.sampled_from(['"', "'", ""]),
                 st.sampled_from(["https://t.example/p.gif", "http://x.example/a?b=1&c=2", "//p.example/x",
                                  "HTTPS://UP.example/X", " https://space.example/", "x.png", "cid:a@b",
                                  "data:image/gif;base64,R0lGOD", "javascript:alert(1)", "&#104;ttps://e.example/"]),
                 st.sampled_from(["", ' alt="a>b"', " width=1", ' data-remote-src="https://evil"', " SRCSET=x"]))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(_IMG, st.sampled_from(["<p>", "</p>", "text", "<a href='https://x'>l</a>", "<br>",
                                                 "<table background='https://bg.example/x.gif'>"])), max_size=10))
def test_no_remote_source_survives(parts):
    html = block_remote_images("".join(parts))
    assert all(src.startswith(("data:", "cid:")) for src in sources(html)), html
    assert "background=" not in html and "srcset" not in html.lower()
