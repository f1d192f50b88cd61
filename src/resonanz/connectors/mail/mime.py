"""The MIME tree of a mail: the displayed body in order, the attachments, and what bounces report.

Every inline text and HTML part belongs to the body, in order (a text part followed by an HTML
signature shows both); an alternative counts once, by its plain version for text and its richest
HTML version for display. A zero-byte part is a phantom, not an attachment. Names and charsets in
part headers are read like the top-level headers: RFC 2231, encoded words and raw 8-bit bytes.
"""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass
from email.message import Message as EmailMessage
from typing import TYPE_CHECKING
from urllib.parse import unquote_to_bytes

from resonanz.connectors.mail import headers as hdr
from resonanz.connectors.mail.charsets import decode_text
from resonanz.connectors.mail.headers import message_ids
from resonanz.core.sanitize import text_to_html

if TYPE_CHECKING:
    from resonanz.connectors.mail.parse import ParsedMail

MAX_DEPTH = 20  # nesting of multiparts we follow; deeper parts are ignored (mail bombs)
MAX_PARTS = 500


@dataclass
class Context:
    limit: int  # attachment size limit in bytes
    hints: list[str]  # the charsets the mail declares anywhere
    parts: int = 0  # parts visited so far, against MAX_PARTS


@dataclass
class Segment:
    """One displayed piece of the body: a text part, an HTML part, or an alternative with both."""

    text: str = ""
    html: str = ""


def declared_charsets(msg: EmailMessage, block: hdr.HeaderBlock) -> list[str]:
    """The charsets this mail names anywhere: the best hint for raw 8-bit bytes in it."""
    found: list[str] = []
    try:
        parts = list(msg.walk())[:MAX_PARTS]
    except RecursionError:
        parts = [msg]
    for part in parts:
        charset = params(raw_header(part, "content-type"), []).get("charset", "")
        if charset and charset.lower() not in found:
            found.append(charset.lower())
    for _, value in block.fields:
        for charset in hdr.word_charsets(value):
            if charset.lower() not in found:
                found.append(charset.lower())
    return found[:10]


def raw_header(part: EmailMessage, name: str) -> bytes:
    """A part's header as the bytes that arrived (the parser keeps 8-bit bytes as surrogates)."""
    for key, value in part.raw_items():
        if str(key).lower() == name:
            text = value if isinstance(value, str) else str(value)
            return " ".join(text.split()).encode("utf-8", "surrogateescape")
    return b""


_PARAM = re.compile(r';\s*([^\s=;"]+)\s*=\s*("(?:[^"\\]|\\.)*"?|[^;]*)')


def params(raw: bytes, hints: list[str]) -> dict[str, str]:
    """Parameters of a Content-Type/Disposition value, RFC 2231 continuations and charsets included."""
    value = raw.decode("ascii") if raw.isascii() else decode_text(raw, None, hints)
    simple: dict[str, str] = {}
    pieces: dict[str, dict[int, tuple[str, bool]]] = {}
    for key, val in _PARAM.findall(value):
        key = key.lower()
        if val.startswith('"'):
            val = re.sub(r"\\(.)", r"\1", val[1:-1] if val.endswith('"') and len(val) > 1 else val[1:])
        else:
            val = val.strip()
        if "*" in key:
            base, _, rest = key.partition("*")
            index = int(rest.rstrip("*")) if rest.rstrip("*").isdigit() else 0
            pieces.setdefault(base, {})[index] = (val, key.endswith("*"))
        else:
            simple.setdefault(key, val)
    for base, parts in pieces.items():
        data, charset = b"", ""
        for index in sorted(parts)[:100]:
            piece, encoded = parts[index]
            if encoded and index == sorted(parts)[0] and piece.count("'") >= 2:
                charset, _, piece = piece.split("'", 2)
            data += unquote_to_bytes(piece) if encoded else piece.encode("utf-8", "surrogateescape")
        simple[base] = decode_text(data, charset or "utf-8", hints)
    return simple


# --- body and attachments ------------------------------------------------------------------------


def walk(part: EmailMessage, mail: ParsedMail, ctx: Context, *, depth: int) -> list[Segment]:
    ctx.parts += 1
    if depth > MAX_DEPTH or ctx.parts > MAX_PARTS:
        if ctx.parts == MAX_PARTS + 1 or depth > MAX_DEPTH:
            mail.problems.append("too many or too deeply nested parts; the rest was ignored")
        return []
    ctype = content_type(part)
    if part.is_multipart() and ctype.startswith("multipart/"):
        children = _children(part)
        if ctype == "multipart/alternative":
            return _alternative(children, mail, ctx, depth)
        segments: list[Segment] = []
        for child in children:
            segments += walk(child, mail, ctx, depth=depth + 1)
        return segments
    if ctype == "message/delivery-status":
        _delivery_status(part, mail)
    if ctype in ("message/rfc822", "text/rfc822-headers", "message/global", "message/global-headers"):
        _embedded(part, mail)
    disposition = _disposition(part)
    filename = _filename(part, ctx.hints)
    if ctype in ("text/plain", "text/html") and disposition != "attachment" and not filename:
        body = decode_text(_payload(part, mail), _charset(part, ctx.hints), ctx.hints)
        if not body.strip():
            return []
        return [Segment(text=body) if ctype == "text/plain" else Segment(html=body)]
    _attachment(part, ctype, filename, mail, ctx.limit)
    return []


def _alternative(children: list[EmailMessage], mail: ParsedMail, ctx: Context, depth: int) -> list[Segment]:
    """One segment: the first plain version for text, the last (richest) HTML version for display.

    A calendar invitation offered as an alternative is kept as an attachment; other
    alternatives (text/enriched, watch-html) repeat the body and are left out.
    """
    options: list[list[Segment]] = []
    for child in children:
        ctype = content_type(child)
        if ctype.startswith("multipart/") or ctype in ("text/plain", "text/html"):
            options.append(walk(child, mail, ctx, depth=depth + 1))
        elif ctype == "text/calendar":
            _attachment(child, ctype, _filename(child, ctx.hints) or "invite.ics", mail, ctx.limit)
    text = next((o for o in options if any(s.text.strip() for s in o)), [])
    html = next((o for o in reversed(options) if any(s.html.strip() for s in o)), [])
    if not text and not html:
        return []
    return [Segment(text="\n\n".join(s.text for s in text if s.text.strip()),
                     html="".join(s.html or text_to_html(s.text) for s in html))]


def _children(part: EmailMessage) -> list[EmailMessage]:
    try:
        payload = part.get_payload()
    except Exception:  # noqa: BLE001
        return []
    return [p for p in payload if isinstance(p, EmailMessage)] if isinstance(payload, list) else []


def _attachment(part: EmailMessage, ctype: str, filename: str, mail: ParsedMail, limit: int) -> None:
    if ctype in ("message/rfc822", "message/global") or part.is_multipart():
        try:
            if ctype == "message/delivery-status":  # the parser reads its field groups as messages
                content = b"\n".join(p.as_bytes() for p in _children(part))
            else:
                content = part.get_payload(0).as_bytes() if part.is_multipart() else _payload(part, mail)
        except Exception:  # noqa: BLE001
            content = b""
    else:
        content = _payload(part, mail)
    name = filename or _REPORT_NAMES.get(ctype) or _default_name(ctype)
    if not content:
        mail.problems.append(f"empty attachment {name!r} left out")  # a phantom, not an attachment
        return
    item = {
        "filename": name,
        "content_type": ctype[:120],
        "size": len(content),
        "content_id": hdr.decode_value(raw_header(part, "content-id")).strip().strip("<>"),
        "inline": _disposition(part) == "inline",
    }
    if len(content) > limit:
        item["omitted"] = f"larger than the limit of {limit} bytes; not stored"
        mail.problems.append(f"attachment {item['filename']!r} ({len(content)} bytes) exceeds the size limit")
    else:
        item["content"] = content
    mail.attachments.append(item)


_REPORT_NAMES = {"message/rfc822": "message.eml", "message/global": "message.eml",
                 "message/delivery-status": "delivery-status.txt", "message/global-delivery-status": "delivery-status.txt",
                 "text/rfc822-headers": "returned-headers.txt", "message/global-headers": "returned-headers.txt"}


def _default_name(ctype: str) -> str:
    main = ctype.partition("/")[0]
    extension = mimetypes.guess_extension(ctype) or ".bin"
    return ("image" if main == "image" else "attachment") + extension


def _payload(part: EmailMessage, mail: ParsedMail) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception as exc:  # noqa: BLE001
        mail.problems.append(f"undecodable part: {exc.__class__.__name__}")
        return b""
    if data is None:
        return b""
    return data if isinstance(data, bytes) else str(data).encode("utf-8", "surrogateescape")


def content_type(part: EmailMessage) -> str:
    try:
        return part.get_content_type().lower()
    except Exception:  # noqa: BLE001
        return "application/octet-stream"


def _disposition(part: EmailMessage) -> str:
    try:
        return (part.get_content_disposition() or "").lower()
    except Exception:  # noqa: BLE001
        return ""


def _filename(part: EmailMessage, hints: list[str]) -> str:
    """The attachment's name: RFC 2231, encoded words and raw 8-bit names all read as text."""
    name = (params(raw_header(part, "content-disposition"), hints).get("filename")
            or params(raw_header(part, "content-type"), hints).get("name") or "")
    name = hdr.one_line(hdr.decode_value(name.encode("utf-8", "surrogateescape"), hints))
    name = name.replace("/", "_").replace("\\", "_").strip()
    if re.sub(r"[^-\w.]", "", name.replace(" ", "_")).strip(".") == "":
        return ""  # nothing a file store can name a file by ("..", "!!!"): a default name is used
    root, dot, ext = name.rpartition(".")
    if dot and len(ext) > 16:  # file stores shorten the root, never the extension
        name = f"{root}_{ext}"
    return name[:255]


def _charset(part: EmailMessage, hints: list[str]) -> str | None:
    return params(raw_header(part, "content-type"), hints).get("charset") or None


# --- bounces -------------------------------------------------------------------------------------


def _delivery_status(part: EmailMessage, mail: ParsedMail) -> None:
    """The per-recipient fields of an RFC 3464 report: Action, Status, Diagnostic-Code, ..."""
    raw = _payload(part, mail)
    if not raw:
        try:
            raw = b"".join(p.as_bytes() for p in _children(part) or [])
        except Exception:  # noqa: BLE001
            raw = b""
    text = re.sub(r"\n[ \t]+", " ", decode_text(raw, "utf-8"))  # unfold continuation lines
    for line in text.split("\n"):
        name, sep, value = line.partition(":")
        key = name.strip().lower()
        if sep and key in ("action", "status", "diagnostic-code", "final-recipient", "original-recipient"):
            mail.report.setdefault(key, value.strip()[:500])


def _embedded(part: EmailMessage, mail: ParsedMail) -> None:
    """The Message-ID of a returned mail (or its headers), which tells which of ours bounced."""
    try:
        inner = part.get_payload(0) if part.is_multipart() else None
    except Exception:  # noqa: BLE001
        inner = None
    if isinstance(inner, EmailMessage):
        value = raw_header(inner, "message-id").decode("utf-8", "replace")
    else:
        match = re.search(rb"(?im)^message-id:\s*(<[^>\r\n]+>)", _payload(part, mail))
        value = match.group(1).decode("utf-8", "replace") if match else ""
    for ident in message_ids(value):
        if ident not in mail.embedded_ids:
            mail.embedded_ids.append(ident)
