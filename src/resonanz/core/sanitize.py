"""Everything from outside is cleaned here before a browser sees it."""

from __future__ import annotations

import html
import re

import nh3

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "div", "em", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "i", "img", "li", "ol", "p", "pre", "q", "s", "small", "span", "strong", "sub", "sup",
    "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    # data-remote-src: a remote image's address, kept so the agent can choose to load it (email privacy)
    "img": {"src", "alt", "title", "width", "height", "data-remote-src"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "*": {"lang", "dir"},
}
# Remote images would let a sender see when an agent opens the message; only inline (cid:) and data URLs.
URL_SCHEMES = {"http", "https", "mailto", "tel", "cid", "data"}


def _no_data_links(tag: str, attribute: str, value: str) -> str | None:
    """``data:`` stays for images (inline pictures, placeholders); as a link it could open any document."""
    if attribute == "href" and value.strip().lower().startswith("data:"):
        return None
    return value


def sanitize_html(raw: str | None) -> str:
    """Keep formatting, drop scripts, styles, event handlers and javascript: links."""
    if not raw:
        return ""
    cleaned = nh3.clean(
        clean_text(raw, 2_000_000),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        attribute_filter=_no_data_links,
        strip_comments=True,
        clean_content_tags={"script", "style"},
    )
    return cleaned


_TAG = re.compile(r"<[^>]+>")
_BLOCK = re.compile(r"</(p|div|li|tr|h[1-6]|blockquote)\s*>|<br\s*/?>", re.IGNORECASE)
_SPACES = re.compile(r"[ \t]+")
_LINES = re.compile(r"\n{3,}")


def html_to_text(raw: str | None, *, sanitized: bool = False) -> str:
    """Plain text of an HTML body, for analysis and search (``sanitized``: the HTML came from sanitize_html
    already, so the sanitizer, the costly part, is not run twice)."""
    if not raw:
        return ""
    text = raw if sanitized else sanitize_html(raw)
    text = _BLOCK.sub("\n", text)
    text = html.unescape(_TAG.sub("", text))
    text = _SPACES.sub(" ", text)
    return _LINES.sub("\n\n", "\n".join(line.strip() for line in text.splitlines())).strip()


def text_to_html(text: str | None) -> str:
    """Escaped paragraphs for a plain-text message."""
    if not text:
        return ""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    return "".join("<p>" + html.escape(p).replace("\n", "<br>") + "</p>" for p in paragraphs)


def clean_text(text: str | None, limit: int = 200_000) -> str:
    """Text from outside: valid Unicode, no NUL bytes, bounded length."""
    if not text:
        return ""
    text = text.encode("utf-8", "replace").decode("utf-8", "replace").replace("\x00", "")
    return text[:limit]


_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


def clean_label(text: str | None, limit: int = 1500) -> str:
    """A short label from outside (an image's alt text): clean_text without direction overrides or zero-width
    characters, which would let a label reorder or hide what is shown around it, on one line."""
    return " ".join(_INVISIBLE.sub("", clean_text(text, limit * 2)).split())[:limit]
