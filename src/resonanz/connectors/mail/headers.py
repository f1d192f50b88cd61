"""The header block of a mail, read the way a lenient mail client reads it.

Python's parser ends the header block at the first line that is neither a header nor indented,
and reads a mail whose first line is not a header as all body. Real mailers produce both: folded
lines without indentation, a "---- Original message ----" line above the headers, an mbox
"From " line, no blank line before the body. ``split`` finds the block anyway and ``rebuilt``
gives Python's parser a well-formed copy for the MIME structure.

Header values are decoded here too: RFC 2047 encoded words (adjacent words of one charset joined
before decoding, since mailers split multi-byte characters between words) and raw 8-bit bytes in
whatever charset the mail uses elsewhere.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from resonanz.connectors.mail.charsets import decode_text

_FIELD = re.compile(rb"^([!-9;-~]{1,76})[ \t]*:")
KNOWN = {
    b"from", b"to", b"cc", b"bcc", b"subject", b"date", b"message-id", b"mime-version", b"received",
    b"return-path", b"reply-to", b"sender", b"references", b"in-reply-to", b"auto-submitted", b"precedence",
    b"delivered-to", b"dkim-signature", b"authentication-results", b"thread-topic", b"thread-index",
    b"importance", b"user-agent", b"organization", b"disposition-notification-to", b"envelope-to",
    b"comments", b"keywords", b"priority", b"content-type", b"content-transfer-encoding",
    b"content-disposition", b"content-language", b"content-id", b"arc-seal", b"arc-message-signature",
    b"arc-authentication-results", b"received-spf", b"list-id", b"list-unsubscribe", b"list-post",
}
_KNOWN_PREFIXES = (b"x-", b"resent-", b"list-", b"content-", b"arc-")
MAX_LEADING_JUNK = 5  # lines before the headers that are skipped ("---- Original message ----")
MAX_HEADER_LINES = 5000
MAX_HEADER_BYTES = 1024 * 1024


@dataclass
class HeaderBlock:
    """The top-level headers (names lower-cased, values raw and unfolded) and the raw body."""

    fields: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""
    envelope_from: bytes = b""  # the address of an mbox "From " line
    problems: list[str] = field(default_factory=list)
    _written: list[tuple[bytes, list[bytes]]] = field(default_factory=list)  # as written, for ``rebuilt``

    def values(self, name: str) -> list[bytes]:
        key = name.lower().encode()
        return [value for n, value in self.fields if n == key]

    def first(self, name: str) -> bytes:
        found = self.values(name)
        return found[0] if found else b""

    def rebuilt(self) -> bytes:
        """Well-formed headers (every continuation indented, CRLF) and the body, for Python's parser."""
        lines = [name + b": " + b"\r\n ".join(parts) for name, parts in self._written]
        return b"\r\n".join(lines) + b"\r\n\r\n" + self.body


def split(raw: bytes) -> HeaderBlock:
    """Find the header block however it is written; see the module docstring."""
    if b"\n" not in raw[:MAX_HEADER_BYTES] and b"\r" in raw:
        raw = raw.replace(b"\r", b"\n")  # classic Mac line ends
    lines, ends = _lines(raw)
    block = HeaderBlock()
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i and not _block_follows(lines, i):
        block.body = raw
        return block
    if i < len(lines) and lines[i].startswith(b"From ") and not _FIELD.match(lines[i]):
        block.envelope_from = (lines[i][5:].split() or [b""])[0]
        i += 1
    first = i
    while i < len(lines) and i - first < MAX_LEADING_JUNK and lines[i].strip() and not _FIELD.match(lines[i]):
        i += 1
    if i > first:
        if i < len(lines) and _FIELD.match(lines[i]) and _block_follows(lines, i):
            block.problems.append(f"{i - first} line(s) before the headers were skipped")
        else:
            i = first
    if i >= len(lines) or not _FIELD.match(lines[i]):
        block.body = raw[_start(ends, first):]
        return block
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            break
        match = _FIELD.match(line)
        if match:
            name = match.group(1)
            block._written.append((name, [line[match.end():].lstrip(b" \t")]))
        elif line[:1] in (b" ", b"\t"):
            block._written[-1][1].append(line)
        elif not line.startswith(b"--") and _continues(block._written[-1][0], lines, i):
            block._written[-1][1].append(b" " + line)
            block.problems.append("a header continuation line was not indented")
        else:
            block.problems.append("no blank line between the headers and the body")
            break
        i += 1
    block.body = raw[_start(ends, i):]
    block.fields = [(name.lower(), _unfold(parts)) for name, parts in block._written]
    return block


def _lines(raw: bytes) -> tuple[list[bytes], list[int]]:
    """The lines up to the first blank line after some text (without line ends), and where each ends."""
    lines: list[bytes] = []
    ends: list[int] = []
    pos, seen_text = 0, False
    while pos < len(raw) and len(lines) < MAX_HEADER_LINES and pos < MAX_HEADER_BYTES:
        nl = raw.find(b"\n", pos)
        end = len(raw) if nl < 0 else nl + 1
        line = raw[pos:end].rstrip(b"\r\n")
        lines.append(line)
        ends.append(end)
        pos = end
        if line.strip():
            seen_text = True
        elif seen_text:
            break
    return lines, ends


def _start(ends: list[int], i: int) -> int:
    return ends[i - 1] if 0 < i <= len(ends) else 0


def _is_known(line: bytes) -> bool:
    match = _FIELD.match(line)
    if not match:
        return False
    name = match.group(1).lower()
    return name in KNOWN or name.startswith(_KNOWN_PREFIXES)


def _block_follows(lines: list[bytes], i: int) -> bool:
    """At least two known header fields before the next blank line: a header block starts at ``i``."""
    known = 0
    for line in lines[i:i + 200]:
        if not line.strip():
            break
        known += _is_known(line)
        if known >= 2:
            return True
    return False


# Headers whose values are prose or lists that mailers fold, and break when folding.
FOLDABLE = {b"subject", b"from", b"to", b"cc", b"bcc", b"reply-to", b"sender", b"references", b"thread-topic",
            b"comments", b"keywords", b"in-reply-to"}


def _continues(name: bytes, lines: list[bytes], i: int) -> bool:
    """A line that is neither a header nor indented continues the header before it, when a known
    header still follows before the blank line, or when it is the last line before the blank line
    and follows a header mailers fold (Subject, From, To, ...). Otherwise the body starts there."""
    if _known_ahead(lines, i + 1):
        return True
    last = i + 1 >= len(lines) or not lines[i + 1].strip()
    return last and name.lower() in FOLDABLE


def _known_ahead(lines: list[bytes], i: int) -> bool:
    """A known header field still comes before the blank line: the line before it was a continuation."""
    for line in lines[i:i + 200]:
        if not line.strip():
            return False
        if _is_known(line):
            return True
    return False


def _unfold(parts: list[bytes]) -> bytes:
    return b" ".join(part.strip(b" \t") for part in parts if part.strip(b" \t"))


# --- decoding ------------------------------------------------------------------------------------

_WORD = re.compile(rb"=\?([^?\s]+)\?([bBqQ])\?(.*?)\?=")
_SPACE_BETWEEN_WORDS = re.compile(rb"^[ \t]*$")


def decode_value(raw: bytes | str, hints: Iterable[str] = ()) -> str:
    """A header value as text: encoded words decoded, raw 8-bit bytes read in the mail's charsets."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogateescape")
    runs: list[tuple[bytes, str | None]] = []  # (bytes, charset of an encoded word or None for raw)
    pos = 0
    hints = list(hints)
    for match in _WORD.finditer(raw):
        between = raw[pos:match.start()]
        if between and not (runs and runs[-1][1] is not None and _SPACE_BETWEEN_WORDS.match(between)):
            runs.append((between, None))
        data = _word_bytes(match.group(2), match.group(3))
        charset = match.group(1).decode("ascii", "replace")
        if data is None:
            runs.append((match.group(0), None))
        elif runs and runs[-1][1] is not None and runs[-1][1].lower() == charset.lower():
            runs[-1] = (runs[-1][0] + data, runs[-1][1])
        else:
            runs.append((data, charset))
        pos = match.end()
    if pos < len(raw):
        runs.append((raw[pos:], None))
    text = "".join(decode_text(data, charset, hints) if charset else decode_text(data, None, hints)
                   for data, charset in runs)
    return text


def _word_bytes(encoding: bytes, payload: bytes) -> bytes | None:
    if encoding in (b"b", b"B"):
        payload = re.sub(rb"[^A-Za-z0-9+/]", b"", payload)
        payload += b"=" * (-len(payload) % 4)
        try:
            return base64.b64decode(payload)
        except (binascii.Error, ValueError):
            return None
    data = payload.replace(b"_", b" ")
    return re.sub(rb"=([0-9A-Fa-f]{2})", lambda m: bytes((int(m.group(1), 16),)), data)


def word_charsets(raw: bytes) -> list[str]:
    """Charsets named by the encoded words of a header value."""
    return [m.group(1).decode("ascii", "replace") for m in _WORD.finditer(raw)]


def one_line(text: str) -> str:
    """Whitespace collapsed, no replacement characters: how subjects and names are stored."""
    return " ".join(text.replace("\ufffd", "").split())


# --- Message-IDs ---------------------------------------------------------------------------------

_MSGID = re.compile(r"<[^<>\s]{1,1000}>")
_LONG_ID = 250  # Message.external_id holds 300 characters; longer ids are hashed consistently


def normalize_id(value: str) -> str:
    """One canonical form for Message-IDs, so references match stored external ids."""
    value = "".join((value or "").split())
    if not value:
        return ""
    if not value.startswith("<"):
        value = f"<{value.strip('<>')}>"
    if len(value) > _LONG_ID:
        value = "<sha256-" + hashlib.sha256(value.encode("utf-8", "replace")).hexdigest() + "@long-id.invalid>"
    return value


def message_ids(value: str) -> list[str]:
    """Every <id> in a References/In-Reply-To style header, in order, without duplicates."""
    seen: list[str] = []
    for match in _MSGID.findall(value or ""):
        ident = normalize_id(match)
        if ident not in seen:
            seen.append(ident)
    return seen


# --- fingerprint ---------------------------------------------------------------------------------

FINGERPRINT_HEADERS = ("from", "sender", "reply-to", "to", "cc", "subject", "date", "message-id", "in-reply-to",
                       "references", "content-type")


def fingerprint(block: HeaderBlock) -> str:
    """A hash of what makes a mail this mail, the same however it was transported.

    Line endings, trailing whitespace and header folding do not count; trace headers that change
    with every delivery (Received, Delivered-To, Return-Path) are left out.
    """
    digest = hashlib.sha256()
    for name in FINGERPRINT_HEADERS:
        for value in block.values(name):
            digest.update(name.encode() + b":" + b" ".join(value.split()) + b"\n")
    digest.update(b"\n")
    body = block.body.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    digest.update(re.sub(rb"[ \t]+\n", b"\n", body).rstrip(b" \t\n"))
    return digest.hexdigest()
