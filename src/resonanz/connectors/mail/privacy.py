"""Remote images in inbound HTML are not loaded until an agent asks for them.

A remote image (a tracking pixel, a logo on the sender's server) tells the sender when and where
the mail was opened. Every image whose source is not part of the mail (``cid:``) or inline
(``data:``) gets a local placeholder as its source; the address moves to ``data-remote-src`` so
the agent UI can offer "load images".
"""

from __future__ import annotations

import base64
import html as html_lib
import re

from resonanz.core.sanitize import sanitize_html

_SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" width="24" height="24" viewBox="0 0 24 24">'
        b'<rect width="24" height="24" rx="3" fill="#e5e7eb"/><path d="M5 18l4-5 3 4 2-2 5 3z" fill="#9ca3af"/></svg>')
PLACEHOLDER = "data:image/svg+xml;base64," + base64.b64encode(_SVG).decode("ascii")
REMOTE_ATTRIBUTE = "data-remote-src"
_LOCAL = ("cid:", "data:")
# The sanitizer's output is serialized by html5ever: every attribute value in double quotes, with
# ", < and > escaped, so this pattern reads it exactly.
_IMG = re.compile(r'<img((?:\s+[^\s="<>/]+(?:="[^"]*")?)*)\s*/?>', re.IGNORECASE)
_ATTRIBUTE = re.compile(r'\s+([^\s="<>/]+)(?:="([^"]*)")?')


def block_remote_images(raw_html: str) -> str:
    """Sanitized HTML in which no image loads from outside the mail; see the module docstring."""
    return _IMG.sub(_rewrite, sanitize_html(raw_html))


def _rewrite(match: re.Match) -> str:
    found = _ATTRIBUTE.findall(match.group(1))
    # Our own output (placeholder plus address) passes again unchanged, so blocking twice is harmless;
    # a sender who forges that pair gains nothing: the address loads only when the agent asks, as theirs would.
    ours = any(n.lower() == "src" and v == PLACEHOLDER for n, v in found)
    attributes: list[tuple[str, str]] = []
    for name, value in found:
        key = name.lower()
        if key == REMOTE_ATTRIBUTE and not ours:
            continue  # only we set it; a sender's value is dropped
        if key == "src" and not ours and not html_lib.unescape(value).strip().lower().startswith(_LOCAL):
            attributes += [("src", PLACEHOLDER), (REMOTE_ATTRIBUTE, value)]
            continue
        attributes.append((key, value))
    return "<img" + "".join(f' {name}="{value}"' for name, value in attributes) + ">"


def remote_images(cleaned_html: str) -> list[str]:
    """The addresses of the blocked images, for the agent UI's "load images"."""
    return [html_lib.unescape(m) for m in re.findall(r'data-remote-src="([^"]*)"', cleaned_html)]
