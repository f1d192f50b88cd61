"""Article Markdown to safe HTML: raw HTML in the source is shown as text, the result is sanitized."""

from __future__ import annotations

import threading

import markdown

from resonanz.core.sanitize import sanitize_html

MAX_MARKDOWN_CHARS = 500_000
_local = threading.local()


def _converter() -> markdown.Markdown:
    md = getattr(_local, "md", None)
    if md is None:
        md = markdown.Markdown(extensions=["extra", "sane_lists"], output_format="html")
        # Raw HTML blocks and inline tags become escaped text instead of markup.
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
        _local.md = md
    return md


def render_markdown(text: str | None) -> str:
    """Sanitized HTML for an article body; scripts, event handlers and raw HTML never survive."""
    if not text:
        return ""
    md = _converter()
    try:
        html = md.reset().convert(str(text)[:MAX_MARKDOWN_CHARS])
    except Exception:  # noqa: BLE001 - a pathological input must not break a page
        md.reset()
        from django.utils.html import escape

        html = "<p>" + escape(str(text)[:MAX_MARKDOWN_CHARS]) + "</p>"
    return sanitize_html(html)
