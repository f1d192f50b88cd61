"""Bluesky rich text: facets in, HTML out; mentions and links in our replies, facets out.

Facets address UTF-8 *byte* ranges of the text. Anyone can write any facet, so a range may be out of
bounds, overlap another, cut a character in half, or link to `javascript:`; such facets are dropped and
their text shown as plain text. The HTML is escaped here and still goes through the sanitizer in the driver.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]}]", re.IGNORECASE)
SAFE_SCHEMES = ("http://", "https://")


@dataclass(frozen=True)
class Parsed:
    html: str
    mentions: tuple[str, ...]  # DIDs
    tags: tuple[str, ...]
    links: tuple[str, ...]


def _valid_ranges(data: bytes, facets: object) -> list[tuple[int, int, dict]]:
    if not isinstance(facets, list):
        return []
    found = []
    for facet in facets:
        if not isinstance(facet, dict) or not isinstance(facet.get("index"), dict):
            continue
        start, end = facet["index"].get("byteStart"), facet["index"].get("byteEnd")
        features = facet.get("features")
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(data)):
            continue
        if not isinstance(features, list) or not features or not isinstance(features[0], dict):
            continue
        try:  # both ends must fall on character boundaries
            data[:start].decode()
            data[start:end].decode()
        except UnicodeDecodeError:
            continue
        found.append((start, end, features[0]))
    found.sort(key=lambda item: item[0])
    kept, last_end = [], 0
    for start, end, feature in found:
        if start >= last_end:  # overlapping facets: the first one wins
            kept.append((start, end, feature))
            last_end = end
    return kept


def render(text: str, facets: object, *, web_url: str = "https://bsky.app") -> Parsed:
    """HTML for a post's text with its valid facets as links; newlines become <br>."""
    data = text.encode()
    parts, mentions, tags, links, position = [], [], [], [], 0
    for start, end, feature in _valid_ranges(data, facets):
        parts.append(html.escape(data[position:start].decode()))
        label = html.escape(data[start:end].decode())
        kind = feature.get("$type", "")
        href = ""
        if kind == "app.bsky.richtext.facet#link" and isinstance(feature.get("uri"), str) \
                and feature["uri"].lower().startswith(SAFE_SCHEMES):
            href = feature["uri"]
            links.append(href)
        elif kind == "app.bsky.richtext.facet#mention" and str(feature.get("did", "")).startswith("did:"):
            href = f"{web_url}/profile/{feature['did']}"
            mentions.append(feature["did"])
        elif kind == "app.bsky.richtext.facet#tag" and isinstance(feature.get("tag"), str):
            href = f"{web_url}/hashtag/{feature['tag']}"
            tags.append(feature["tag"])
        if href:
            parts.append(f'<a href="{html.escape(href, quote=True)}" rel="nofollow noopener noreferrer">{label}</a>')
        else:
            parts.append(label)
        position = end
    parts.append(html.escape(data[position:].decode(errors="replace")))
    body = "".join(parts).replace("\n", "<br>")
    return Parsed(f"<p>{body}</p>", tuple(mentions), tuple(tags), tuple(links))


def build_facets(text: str, mentions: dict[str, str]) -> list[dict]:
    """Facets for our own reply: `@handle` for each handle → DID in `mentions`, and every http(s) URL."""
    facets = []
    for handle, did in mentions.items():
        for match in re.finditer(rf"(?<![\w.@])@{re.escape(handle)}(?![\w.-])", text):
            start = len(text[:match.start()].encode())
            facets.append({"index": {"byteStart": start, "byteEnd": start + len(match.group().encode())},
                           "features": [{"$type": "app.bsky.richtext.facet#mention", "did": did}]})
    for match in URL.finditer(text):
        start = len(text[:match.start()].encode())
        facets.append({"index": {"byteStart": start, "byteEnd": start + len(match.group().encode())},
                       "features": [{"$type": "app.bsky.richtext.facet#link", "uri": match.group()}]})
    return sorted(facets, key=lambda f: f["index"]["byteStart"])
