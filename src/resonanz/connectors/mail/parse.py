"""Raw mail bytes to a ``ParsedMail``.

Mail from outside is routinely broken: wrong or unknown charsets, missing headers, malformed
encoded words, truncated base64, deeply nested multiparts. ``parse_mail`` never raises; it keeps
what it can read and lists what it could not in ``problems``, so one broken mail never blocks
the mailbox behind it.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.header import decode_header, make_header
from email.message import Message as EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

DEFAULT_MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024
MAX_DEPTH = 20  # nesting of multiparts we follow; deeper parts are ignored (mail bombs)
MAX_PARTS = 500
_MSGID = re.compile(r"<[^<>\s]{1,1000}>")
_LONG_ID = 250  # Message.external_id holds 300 characters; longer ids are hashed consistently


@dataclass
class ParsedMail:
    message_id: str  # as in the header, "<...>"; "" when missing
    external_id: str  # message_id, or a hash of the raw bytes when the header is missing
    from_address: str = ""
    from_name: str = ""
    reply_to: str = ""
    to: list[str] = field(default_factory=list)
    subject: str = ""
    date: datetime | None = None
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    text: str = ""
    html: str = ""
    attachments: list[dict] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # lower-cased names, first value, decoded
    content_type: str = "text/plain"
    report: dict[str, str] = field(default_factory=dict)  # fields of a delivery-status report
    embedded_ids: list[str] = field(default_factory=list)  # Message-IDs of returned/quoted mails
    problems: list[str] = field(default_factory=list)

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


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


def parse_mail(raw: bytes, *, max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES) -> ParsedMail:
    """Parse whatever arrived; see the module docstring."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogateescape")
    digest = "<sha256-" + hashlib.sha256(raw).hexdigest()[:48] + "@no-message-id.invalid>"
    try:
        msg = BytesParser(policy=policy.default).parsebytes(raw)
    except Exception as exc:  # the parser is lenient; this is a last resort
        return ParsedMail(message_id="", external_id=digest, text=_decode(raw, None),
                          problems=[f"unparseable: {exc.__class__.__name__}"])
    headers = _headers(msg)
    message_id = (message_ids(headers.get("message-id", "")) or [""])[0]
    mail = ParsedMail(message_id=message_id, external_id=message_id or digest, headers=headers)
    if not message_id:
        mail.problems.append("no Message-ID header")
    mail.from_name, mail.from_address = _address(headers.get("from", ""))
    if not mail.from_address:
        mail.from_name, mail.from_address = _address(headers.get("sender", ""))
    mail.reply_to = _address(headers.get("reply-to", ""))[1]
    mail.to = [a.lower() for _, a in _addresses(headers.get("to", "") + "," + headers.get("cc", "")) if "@" in a]
    mail.subject = " ".join(headers.get("subject", "").split())
    mail.date = _date(headers.get("date", ""))
    mail.in_reply_to = (message_ids(headers.get("in-reply-to", "")) or [""])[0]
    mail.references = message_ids(headers.get("references", ""))
    try:
        mail.content_type = msg.get_content_type()
    except Exception:
        mail.content_type = "application/octet-stream"
    try:
        _walk(msg, mail, max_attachment_bytes, depth=0, in_alternative=False)
    except RecursionError:
        mail.problems.append("structure nested too deeply")
    if not mail.text and mail.html:
        from resonanz.core.sanitize import html_to_text

        mail.text = html_to_text(mail.html)
    return mail


# --- headers -------------------------------------------------------------------------------------


def _headers(msg: EmailMessage) -> dict[str, str]:
    result: dict[str, str] = {}
    for name, raw in msg.raw_items():
        key = str(name).lower().strip()
        if key in result:
            continue
        result[key] = _header_value(msg, key, raw)
    return result


def _header_value(msg: EmailMessage, name: str, raw) -> str:
    try:
        value = str(msg.get(name, ""))
    except Exception:  # malformed structured header: decode the encoded words ourselves
        try:
            value = str(make_header(decode_header(str(raw))))
        except Exception:
            value = str(raw)
    return _clean(value.replace("\r", " ").replace("\n", " "))


def _part_header(part: EmailMessage, name: str) -> str:
    for key, raw in part.raw_items():
        if str(key).lower() == name:
            return _header_value(part, name, raw)
    return ""


def _address(value: str) -> tuple[str, str]:
    try:
        name, address = parseaddr(value)
    except Exception:
        return "", ""
    address = address.strip().strip("<>").lower()
    if "@" not in address or any(c.isspace() for c in address):
        address = ""
    return _clean(name).strip(), address


def _addresses(value: str) -> list[tuple[str, str]]:
    try:
        return getaddresses([value])
    except Exception:
        return []


def _date(value: str) -> datetime | None:
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except Exception:
        return None
    if when is None:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


# --- body and attachments ------------------------------------------------------------------------


def _walk(part: EmailMessage, mail: ParsedMail, limit: int, *, depth: int, in_alternative: bool) -> None:
    if depth > MAX_DEPTH or len(mail.attachments) > MAX_PARTS:
        mail.problems.append("too many or too deeply nested parts; the rest was ignored")
        return
    ctype = _content_type(part)
    if part.is_multipart() and ctype.startswith("multipart/"):
        children = _children(part)
        if ctype == "multipart/alternative":
            _alternative(children, mail, limit, depth)
        else:
            for child in children:
                _walk(child, mail, limit, depth=depth + 1, in_alternative=in_alternative)
        return
    if ctype == "message/delivery-status":
        _delivery_status(part, mail)
    if ctype in ("message/rfc822", "text/rfc822-headers", "message/global", "message/global-headers"):
        _embedded(part, mail)
    disposition = _disposition(part)
    filename = _filename(part)
    if ctype in ("text/plain", "text/html") and disposition != "attachment" and not filename:
        body = _decode(_payload(part, mail), _charset(part))
        if ctype == "text/plain" and not mail.text:
            mail.text = body
            return
        if ctype == "text/html" and not mail.html:
            mail.html = body
            return
        if ctype == "text/plain" and not in_alternative:
            mail.text += "\n\n" + body  # several inline text parts (text, image, text)
            return
    _attachment(part, ctype, filename, mail, limit)


def _alternative(children: list[EmailMessage], mail: ParsedMail, limit: int, depth: int) -> None:
    """The plain part for text and the HTML part for display; other alternatives are ignored."""
    for child in children:
        ctype = _content_type(child)
        if ctype.startswith("multipart/") or ctype in ("text/plain", "text/html"):
            _walk(child, mail, limit, depth=depth + 1, in_alternative=True)


def _children(part: EmailMessage) -> list[EmailMessage]:
    try:
        payload = part.get_payload()
    except Exception:
        return []
    return [p for p in payload if isinstance(p, EmailMessage)] if isinstance(payload, list) else []


def _attachment(part: EmailMessage, ctype: str, filename: str, mail: ParsedMail, limit: int) -> None:
    if ctype in ("message/rfc822", "message/global") or part.is_multipart():
        try:
            content = part.get_payload(0).as_bytes() if part.is_multipart() else _payload(part, mail)
        except Exception:
            content = b""
        filename = filename or "message.eml"
    else:
        content = _payload(part, mail)
    if ctype == "message/delivery-status":
        filename = filename or "delivery-status.txt"
    content_id = _part_header(part, "content-id")
    item = {
        "filename": filename or _default_name(ctype),
        "content_type": ctype[:120],
        "size": len(content),
        "content_id": content_id.strip().strip("<>"),
        "inline": _disposition(part) == "inline",
    }
    if len(content) > limit:
        item["omitted"] = f"larger than the limit of {limit} bytes; not stored"
        mail.problems.append(f"attachment {item['filename']!r} ({len(content)} bytes) exceeds the size limit")
    else:
        item["content"] = content
    mail.attachments.append(item)


def _default_name(ctype: str) -> str:
    main = ctype.partition("/")[0]
    extension = mimetypes.guess_extension(ctype) or ".bin"
    return ("image" if main == "image" else "attachment") + extension


def _payload(part: EmailMessage, mail: ParsedMail) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception as exc:
        mail.problems.append(f"undecodable part: {exc.__class__.__name__}")
        return b""
    if data is None:
        return b""
    return data if isinstance(data, bytes) else str(data).encode("utf-8", "replace")


def _content_type(part: EmailMessage) -> str:
    try:
        return part.get_content_type().lower()
    except Exception:
        return "application/octet-stream"


def _disposition(part: EmailMessage) -> str:
    try:
        return (part.get_content_disposition() or "").lower()
    except Exception:
        return ""


def _filename(part: EmailMessage) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:
        name = ""
    name = _clean(str(name)).replace("/", "_").replace("\\", "_").strip()
    if re.sub(r"[^-\w.]", "", name.replace(" ", "_")).strip(".") == "":
        return ""  # nothing a file store can name a file by ("..", "!!!"): a default name is used
    root, dot, ext = name.rpartition(".")
    if dot and len(ext) > 16:  # file stores shorten the root, never the extension
        name = f"{root}_{ext}"
    return name[:255]


def _charset(part: EmailMessage) -> str | None:
    try:
        return part.get_content_charset()
    except Exception:
        return None


_FALLBACKS = ("utf-8", "cp1252", "latin-1")
_WEAK = {"us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1", "windows-1252", "cp1252"}


def _decode(data: bytes, charset: str | None) -> str:
    """Text in any charset; wrong and unknown declarations fall back instead of failing.

    Mail that says ASCII or Latin-1 but is valid UTF-8 is read as UTF-8: that mistake is common
    and the reverse (Latin-1 text that happens to be valid UTF-8) practically never happens.
    """
    if not data:
        return ""
    declared = (charset or "").strip().lower()
    order: list[str] = []
    if not declared or declared in _WEAK:
        order.append("utf-8")
    if declared:
        order.append(declared)
    order.extend(_FALLBACKS)
    for name in order:
        try:
            return _clean(data.decode(name))
        except (LookupError, UnicodeDecodeError, ValueError):
            continue
    return _clean(data.decode("latin-1", "replace"))  # latin-1 cannot fail; kept for type checkers


def _clean(text: str) -> str:
    return text.encode("utf-8", "replace").decode("utf-8", "replace").replace("\x00", "")


# --- bounces -------------------------------------------------------------------------------------


def _delivery_status(part: EmailMessage, mail: ParsedMail) -> None:
    """The per-recipient fields of an RFC 3464 report: Action, Status, Diagnostic-Code, ..."""
    raw = _payload(part, mail)
    if not raw:
        try:
            raw = b"".join(p.as_bytes() for p in _children(part) or [])
        except Exception:
            raw = b""
    text = re.sub(r"\r?\n[ \t]+", " ", _decode(raw, "utf-8"))  # unfold continuation lines
    for line in re.split(r"\r?\n", text):
        name, sep, value = line.partition(":")
        key = name.strip().lower()
        if sep and key in ("action", "status", "diagnostic-code", "final-recipient", "original-recipient"):
            mail.report.setdefault(key, value.strip()[:500])


def _embedded(part: EmailMessage, mail: ParsedMail) -> None:
    """The Message-ID of a returned mail (or its headers), which tells which of ours bounced."""
    try:
        inner = part.get_payload(0) if part.is_multipart() else None
    except Exception:
        inner = None
    if isinstance(inner, EmailMessage):
        value = _part_header(inner, "message-id")
    else:
        match = re.search(rb"(?im)^message-id:\s*(<[^>\r\n]+>)", _payload(part, mail))
        value = match.group(1).decode("utf-8", "replace") if match else ""
    for ident in message_ids(value):
        if ident not in mail.embedded_ids:
            mail.embedded_ids.append(ident)
