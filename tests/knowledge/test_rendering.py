"""Article Markdown becomes safe HTML: formatting stays, scripts and raw HTML never survive."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from resonanz.knowledge.rendering import render_markdown

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "![x](javascript:alert(1))",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<iframe src=\"https://evil.example\"></iframe>",
    "<div onclick=\"alert(1)\">hi</div>",
    "<style>body{display:none}</style>",
    "<svg><script>alert(1)</script></svg>",
    "[x](  JaVaScRiPt:alert(1))",
    "<<script>script>alert(1)<</script>/script>",
    "```\n<script>alert(1)</script>\n```",
    "<!-- comment --><b>bold</b>",
]
MARKDOWN_TAGS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "code", "pre", "ul", "ol", "li", "a", "img",
                 "blockquote", "hr", "br", "table", "thead", "tbody", "tr", "th", "td", "sup", "div", "abbr"}


class Elements(HTMLParser):
    """Every element and attribute a browser would see."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def unsafe(html: str) -> list:
    bad = []
    for tag, attrs in Elements(html).found:
        if tag not in MARKDOWN_TAGS:
            bad.append(tag)
        for name, value in attrs.items():
            if name.startswith("on") or name in ("style", "srcdoc"):
                bad.append(f"{tag}[{name}]")
            if name in ("href", "src") and re.match(r"\s*(javascript|vbscript):", value or "", re.I):
                bad.append(f"{tag}[{name}={value}]")
    return bad


def test_markdown_formatting():
    html = render_markdown("# Title\n\n**bold** *it* `code`\n\n- a\n- b\n\n| x | y |\n|---|---|\n| 1 | 2 |\n\n"
                           "[link](https://example.com)")
    assert "<h1>Title</h1>" in html and "<strong>bold</strong>" in html and "<em>it</em>" in html
    assert "<li>a</li>" in html and "<td>1</td>" in html and "<code>code</code>" in html
    assert 'href="https://example.com"' in html and 'rel="noopener noreferrer nofollow"' in html


@pytest.mark.parametrize("source", HOSTILE)
def test_hostile_input(source):
    html = render_markdown(source)
    assert not unsafe(html), html
    assert "<script" not in html and "<iframe" not in html


def test_raw_html_is_shown_as_text():
    assert render_markdown("<b>x</b>") == "<p>&lt;b&gt;x&lt;/b&gt;</p>"


def test_empty_and_huge():
    assert render_markdown("") == "" and render_markdown(None) == ""
    assert len(render_markdown("word " * 200_000)) < 700_000


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(HOSTILE + ["**", "*", "[", "](", ")", "<", ">", "\n", "# ", "`", "\"", "'", "=",
                                           "javascript:", "onload=", "<img", "<a href=", "data:", " ", "x"]),
                max_size=30).map("".join) | st.text(max_size=300))
def test_property_no_script_or_raw_html_survives(source):
    html = render_markdown(source)
    assert not unsafe(html), (source, html)
    # Raw HTML in the source is never markup: every "<" the author typed comes out escaped.
    assert "<script" not in html.lower() and "<iframe" not in html.lower() and "<style" not in html.lower()
