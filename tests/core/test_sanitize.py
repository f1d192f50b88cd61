"""The sanitizer: hostile HTML never reaches an agent's browser."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resonanz.core.sanitize import clean_text, html_to_text, sanitize_html

HOSTILE = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    "<svg onload=alert(1)>",
    '<iframe src="https://evil.example"></iframe>',
    "<style>body{display:none}</style>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<object data=x></object><embed src=x>",
    '<form action="https://evil"><input name=password></form>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<<script>script>alert(1)<</script>/script>",
    '<meta http-equiv="refresh" content="0;url=https://evil">',
]


def test_known_attacks_are_removed():
    for raw in HOSTILE:
        cleaned = sanitize_html(raw).lower()
        for bad in ("<script", "onerror", "onload", "javascript:", "<iframe", "<style", "<object", "<embed",
                    "<form", "<meta", "style="):
            assert bad not in cleaned, (raw, cleaned)


def test_formatting_survives():
    cleaned = sanitize_html('<p>Hallo <b>Welt</b> <a href="https://example.com">Link</a></p>')
    assert "<b>Welt</b>" in cleaned and 'href="https://example.com"' in cleaned and "noopener" in cleaned


def test_html_to_text_keeps_paragraphs():
    assert html_to_text("<p>Erste</p><p>Zweite &amp; dritte</p>") == "Erste\nZweite & dritte"


@given(st.text())
def test_any_text_is_safe(raw):
    cleaned = sanitize_html(raw).lower()
    assert "<script" not in cleaned and "javascript:" not in cleaned.replace("&amp;", "&") or "<a" not in cleaned
    clean_text(raw)
    html_to_text(raw)


@given(st.lists(st.sampled_from(HOSTILE + ["<p>", "</p>", "text", "<b>", "\x00", "\ud800"]), max_size=12))
def test_combinations_of_attacks_are_safe(parts):
    cleaned = sanitize_html("".join(parts)).lower()
    assert "<script" not in cleaned and "onerror=" not in cleaned and "javascript:" not in cleaned


def test_remote_image_address_is_kept_only_as_data_on_images():
    """The email channel moves remote image addresses to data-remote-src; it survives only on <img>."""
    cleaned = sanitize_html('<img src="cid:a" data-remote-src="https://x.example/p.gif">'
                            '<p data-remote-src="https://x.example/q">t</p>')
    assert 'data-remote-src="https://x.example/p.gif"' in cleaned and "x.example/q" not in cleaned


@given(st.text(max_size=300) | st.lists(st.sampled_from(
    ["<p>", "</p>", "<img src='https://x.example/a.png' alt='b'>", "<br>", "&amp;", "<script>x</script>", "text ",
     "<a href='javascript:1'>l</a>", "\u202e", "<b>", "</div>"]), max_size=20).map("".join))
def test_text_of_already_sanitized_html_is_the_same(raw):
    """Listening derives a post's text from its blocked-images HTML without sanitizing twice."""
    from resonanz.connectors.mail.privacy import block_remote_images

    assert html_to_text(block_remote_images(raw), sanitized=True) == html_to_text(raw)


def test_labels_lose_direction_overrides_and_invisible_characters():
    from resonanz.core.sanitize import clean_label

    assert clean_label("Foto\u202e gpj.exe \u200bvom\n\nPaket\x00") == "Foto gpj.exe vom Paket"
    assert len(clean_label("x" * 5000)) == 1500


@pytest.mark.parametrize("href", ["data:text/html,<script>alert(1)</script>", " DATA:text/html;base64,PHNjcmlwdD4=",
                                  "&#100;ata:text/html,x", "data:image/svg+xml,<svg onload=alert(1)>"])
def test_data_links_are_removed_but_data_images_stay(href):
    """Issue 16: a data: link could open any document in the agent's browser; a data: image is only a picture."""
    cleaned = sanitize_html(f'<p><a href="{href}">Klick</a><img src="data:image/png;base64,iVBORw0KGgo="></p>')
    assert "Klick" in cleaned and 'href="' not in cleaned.split("<img")[0].lower()
    assert 'src="data:image/png;base64,iVBORw0KGgo="' in cleaned
