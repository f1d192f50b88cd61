"""JSON from outside, parsed without letting its shape crash the server.

``json.loads`` turns thousands of nested ``[`` into a RecursionError (a 500), and a document
that parses at 900 levels still crashes whatever walks it next (serializers, the rule engine,
PostgreSQL's JSON functions). So the nesting depth is measured on the raw bytes before
parsing, in C-speed passes (strings are blanked out, each pass removes the innermost pairs of
brackets; a body with fewer brackets than the limit skips all that), and anything deeper than ``RESONANZ_JSON_MAX_DEPTH`` is refused with a message a
client can act on. ``NaN`` and ``Infinity`` are refused too: they are not JSON and PostgreSQL
cannot store them.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.conf import settings
from django.utils.translation import gettext

DEFAULT_MAX_DEPTH = 64

_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_NOT_SKELETON = bytes(b for b in range(256) if b not in b'"[]{}')
_ONE_KIND = bytes.maketrans(b"{}", b"[]")


class UnsafeJSON(ValueError):
    """The body is not JSON we accept; the message says why and maps to HTTP 400."""

    @property
    def message(self) -> str:
        return str(self.args[0])


def max_depth() -> int:
    return int(getattr(settings, "RESONANZ_JSON_MAX_DEPTH", DEFAULT_MAX_DEPTH))


def deeper_than(raw: bytes, limit: int) -> bool:
    """Is any array or object in this UTF-8 JSON text nested more than ``limit`` levels deep?

    Exact for well-formed JSON; for broken JSON the answer does not matter, the parser refuses it.
    """
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False  # most bodies: not enough brackets to be too deep, wherever they are
    if b"\\" in raw:
        raw = _ESCAPE.sub(b"", raw)  # escaped quotes would end strings early
    skeleton = raw.translate(_ONE_KIND, _NOT_SKELETON)  # quotes and brackets only, in C
    # brackets inside strings do not count: every other piece between quotes is a string's content (an
    # unterminated string runs to the end). Splitting is C-speed; a regex over hundreds of short strings
    # cost ten times more on a webhook carrying 20 messages (bench/webhook_intake.py).
    brackets = b"".join(skeleton.split(b'"')[::2])
    for _ in range(limit):
        if b"[]" not in brackets:
            return False
        brackets = brackets.replace(b"[]", b"")
    return b"[]" in brackets


def _refuse_constant(name: str):
    raise UnsafeJSON(gettext("%(value)s is not a JSON value.") % {"value": name})


def loads(body: bytes | str, *, limit: int | None = None) -> Any:
    """Parse JSON from outside; raises :class:`UnsafeJSON` (a ValueError) for anything we refuse."""
    limit = max_depth() if limit is None else limit
    if isinstance(body, bytes | bytearray | memoryview):
        raw = bytes(body)
        try:
            encoding = json.detect_encoding(raw)
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            raise UnsafeJSON(gettext("The body is not UTF-8 text.")) from None
        if encoding not in ("utf-8", "utf-8-sig"):
            raw = text.encode("utf-8", "surrogatepass")
        text = text.removeprefix("\ufeff")
    elif isinstance(body, str):
        text = body
        raw = body.encode("utf-8", "surrogatepass")
    else:
        raise TypeError(f"JSON comes as bytes or text, not {type(body).__name__}")
    if deeper_than(raw, limit):
        raise UnsafeJSON(_too_deep(limit))
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise UnsafeJSON(gettext("The body is not valid JSON: %(reason)s (line %(line)s, column %(column)s).")
                         % {"reason": exc.msg, "line": exc.lineno, "column": exc.colno}) from None
    except RecursionError:  # unbalanced brackets the depth count could not pair up
        raise UnsafeJSON(_too_deep(limit)) from None


def _too_deep(limit: int) -> str:
    return gettext("The JSON is nested more than %(limit)s levels deep.") % {"limit": limit}
