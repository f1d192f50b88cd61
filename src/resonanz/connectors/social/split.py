"""Split a reply that is too long for one post into a numbered thread, or refuse it clearly.

Parts break at sentence ends where possible, else between words; a word or a URL is never cut. Every part
starts with its number ("1/3 "), and the agent's signature (" ^AB") ends the last part, so the thread
reads in order and stays signed. Lengths are measured the way each network measures them:

- Mastodon: characters, every http(s) URL as 23 (`characters_reserved_per_url`) and a remote mention
  `@name@server` as `@name`. We count code points; Mastodon counts grapheme clusters, which are never more,
  so a part we accept is never refused by the server.
- Bluesky: grapheme clusters of the whole text (300 per post); URLs count in full.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import regex

URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]}]", re.IGNORECASE)
REMOTE_MENTION = re.compile(r"(?<![\w/])@(\w+)@[\w.-]+\.\w+")
URL_LENGTH = 23
# A sentence ends after . ! ? … (and closing quotes or brackets) followed by white space, or at a line break.
SENTENCE_END = re.compile(r"(?<=[.!?…])(?P<close>[\"'»«”“)\]]*)(?P<space>\s+)|(?P<newline>[ \t]*\n\s*)")
WORD = re.compile(r"\S+")


class ReplyTooLong(ValueError):
    """The reply does not fit (and must not be split, or cannot be split without cutting a word)."""

    def __init__(self, message: str, *, length: int, limit: int) -> None:
        super().__init__(message)
        self.length = length
        self.limit = limit


def mastodon_length(text: str) -> int:
    text = URL.sub("x" * URL_LENGTH, text)
    return len(REMOTE_MENTION.sub(lambda m: "@" + m.group(1), text))


def grapheme_length(text: str) -> int:
    return len(regex.findall(r"\X", text))


COUNTERS: dict[str, Callable[[str], int]] = {"mastodon": mastodon_length, "bluesky": grapheme_length}


def split_reply(text: str, limit: int, *, network: str = "mastodon", signature: str = "",
                refuse: bool = False) -> list[str]:
    """The reply as one or more posts, each at most `limit` long as `network` counts.

    `signature` (for example " ^AB") goes at the end of the last post. With `refuse=True` a reply that does
    not fit in one post raises ReplyTooLong instead of becoming a thread.
    """
    count = COUNTERS[network]
    text = text.strip()
    if not text:
        raise ValueError("the reply is empty")
    if limit < 1:
        raise ValueError("the limit must be positive")
    whole = text + signature
    if count(whole) <= limit:
        return [whole]
    if refuse:
        raise ReplyTooLong(f"The reply is {count(whole)} long; this channel allows {limit} per post. "
                           "Shorten it or let the channel split long replies.", length=count(whole), limit=limit)
    pieces = _pieces(text)
    total = 2  # guess the number of parts, then repeat until the numbering's width fits the guess
    for _ in range(6):
        parts = _pack(pieces, limit, total, signature, count)
        if len(parts) <= total and len(str(len(parts))) == len(str(total)):
            return [f"{i}/{len(parts)} {body}" + (signature if i == len(parts) else "")
                    for i, body in enumerate(parts, 1)]
        total = len(parts)
    raise ReplyTooLong("The reply could not be split into a stable thread.", length=count(whole), limit=limit)


def _pieces(text: str) -> list[tuple[str, str]]:
    """Sentences with the white space that followed each (kept inside a part, dropped at its ends)."""
    pieces, position = [], 0
    for match in SENTENCE_END.finditer(text):
        if match.group("newline") is not None:
            end, space = match.start(), match.group("newline")
        else:
            end, space = match.start() + len(match.group("close")), match.group("space")
        if text[position:end].strip():
            pieces.append((text[position:end], space))
        position = match.end()
    if text[position:].strip():
        pieces.append((text[position:], ""))
    return pieces


def _pack(pieces: list[tuple[str, str]], limit: int, total: int, signature: str,
          count: Callable[[str], int]) -> list[str]:
    widest = f"{total}/{total} "

    def fits(body: str, last: bool) -> bool:
        return count(widest + body + (signature if last else "")) <= limit

    # Room for the signature is kept in every part: any part might turn out to be the last one.
    parts: list[str] = []
    current = ""
    for sentence, space in pieces:
        candidate = (current + sentence) if current else sentence
        if fits(candidate, last=True):
            current = candidate + space
            continue
        if current.strip():
            parts.append(current.strip())
            current = ""
        if fits(sentence, last=True):
            current = sentence + space
            continue
        for word in _words(sentence):  # a sentence longer than a post: break between words
            candidate = f"{current}{word}" if current else word
            if fits(candidate, last=True):
                current = candidate + " "
                continue
            if current.strip():
                parts.append(current.strip())
            if not fits(word, last=True):
                raise ReplyTooLong(f"“{word[:40]}” alone is longer than one post allows ({limit}); it cannot be "
                                   "split without cutting it.", length=count(word), limit=limit)
            current = word + " "
        current = current.rstrip(" ") + space
    if current.strip():
        parts.append(current.strip())
    return parts


def _words(sentence: str) -> list[str]:
    return WORD.findall(sentence)
