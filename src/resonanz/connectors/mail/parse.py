"""Raw mail bytes to a ``ParsedMail``.

Mail from outside is routinely broken: headers a strict parser stops at, wrong or missing charsets,
malformed encoded words, truncated base64, deeply nested multiparts. ``parse_mail`` never raises and
never refuses a mail: it keeps what it can read, says in ``sender_missing`` when no sender can be
found anywhere, and lists what it could not read in ``problems``, so one broken mail never blocks
the mailbox behind it and nothing is lost.

The header block is read leniently (``headers``), the sender recovered like a person would
(``addresses``), text decoded whatever its label (``charsets``), and remote images in HTML are
blocked (``privacy``). The MIME structure is left to Python's parser, on a repaired copy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime

from resonanz.connectors.mail import headers as hdr
from resonanz.connectors.mail.addresses import clean_address, find_sender
from resonanz.connectors.mail.charsets import decode_text
from resonanz.connectors.mail.headers import message_ids, normalize_id
from resonanz.connectors.mail.mime import Context, Segment, content_type, declared_charsets, walk
from resonanz.connectors.mail.privacy import block_remote_images
from resonanz.core.sanitize import html_to_text, text_to_html

__all__ = ["DEFAULT_MAX_ATTACHMENT_BYTES", "ParsedMail", "content_id", "message_ids", "normalize_id", "parse_mail"]

DEFAULT_MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024


@dataclass
class ParsedMail:
    message_id: str  # as in the header, "<...>"; "" when missing
    external_id: str  # message_id, or a hash of the normalised content when the header is missing
    fingerprint: str = ""  # sha256 of the normalised content (headers.fingerprint)
    from_address: str = ""
    from_name: str = ""
    sender_source: str = ""  # the header the sender was found in: "from", "reply-to", "envelope", ...
    sender_missing: bool = False  # no usable address anywhere in the headers
    reply_to: str = ""
    to: list[str] = field(default_factory=list)
    subject: str = ""
    date: datetime | None = None
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    text: str = ""
    html: str = ""  # sanitized, remote images blocked
    attachments: list[dict] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # lower-cased names, first value, decoded
    content_type: str = "text/plain"
    report: dict[str, str] = field(default_factory=dict)  # fields of a delivery-status report
    embedded_ids: list[str] = field(default_factory=list)  # Message-IDs of returned/quoted mails
    problems: list[str] = field(default_factory=list)

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


def content_id(fingerprint: str) -> str:
    """The external id of a mail without Message-ID: the same for the same content, any line endings."""
    return "<sha256-" + fingerprint[:48] + "@no-message-id.invalid>"


def parse_mail(raw: bytes, *, max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES) -> ParsedMail:
    """Parse whatever arrived; see the module docstring."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogateescape")
    block = hdr.split(raw)
    fingerprint = hdr.fingerprint(block)
    try:
        msg = BytesParser(policy=policy.compat32).parsebytes(block.rebuilt())
    except Exception as exc:  # the parser is lenient; this is a last resort
        sender = find_sender(block, [])
        return ParsedMail(message_id="", external_id=content_id(fingerprint), fingerprint=fingerprint,
                          from_address=sender.address, from_name=sender.name, sender_source=sender.source,
                          sender_missing=not sender.address, text=decode_text(block.body),
                          problems=[f"unparseable: {exc.__class__.__name__}"])
    hints = declared_charsets(msg, block)
    message_id = (message_ids(hdr.decode_value(block.first("message-id"))) or [""])[0]
    mail = ParsedMail(message_id=message_id, external_id=message_id or content_id(fingerprint),
                      fingerprint=fingerprint, problems=list(block.problems))
    mail.headers = {}
    for name, value in block.fields:
        mail.headers.setdefault(name.decode("ascii", "replace"), " ".join(hdr.decode_value(value, hints).split()))
    if not message_id:
        mail.problems.append("no Message-ID header")
    sender = find_sender(block, hints)
    mail.from_name, mail.from_address, mail.sender_source = sender.name, sender.address, sender.source
    mail.sender_missing = not sender.address
    if sender.source not in ("from", ""):
        mail.problems.append(f"sender taken from {sender.source}: the From header has no usable address")
    if len(block.values("from")) > 1:
        mail.problems.append("more than one From header")
    mail.reply_to = next((a for a in (clean_address(a) for _, a in _addresses(mail.header("reply-to"))) if a), "")
    recipients = mail.header("to") + "," + mail.header("cc")
    mail.to = [a for a in (clean_address(a) for _, a in _addresses(recipients)) if a]
    mail.subject = hdr.one_line(mail.header("subject"))
    mail.date = _date(mail.header("date"))
    mail.in_reply_to = (message_ids(mail.header("in-reply-to")) or [""])[0]
    mail.references = message_ids(mail.header("references"))
    mail.content_type = content_type(msg)
    try:
        segments = walk(msg, mail, Context(max_attachment_bytes, hints), depth=0)
    except RecursionError:
        segments = []
        mail.problems.append("structure nested too deeply")
    _body(mail, segments)
    return mail


def _body(mail: ParsedMail, segments: list[Segment]) -> None:
    """Every inline text and HTML part in order: a text part followed by an HTML signature shows both."""
    texts = [s.text.strip("\n") if s.text.strip() else html_to_text(s.html) for s in segments]
    mail.text = "\n\n".join(t for t in texts if t.strip())
    if any(s.html for s in segments):
        joined = "".join(s.html if s.html.strip() else text_to_html(s.text) for s in segments)
        mail.html = block_remote_images(joined)


# --- headers -------------------------------------------------------------------------------------


def _addresses(value: str) -> list[tuple[str, str]]:
    try:
        return getaddresses([value])
    except Exception:  # noqa: BLE001
        return []


def _date(value: str) -> datetime | None:
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except Exception:  # noqa: BLE001
        return None
    if when is None:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


