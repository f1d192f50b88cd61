"""Who wrote a mail, found the way a person reading the headers would find it.

The From header is often broken: no angle brackets (``From: Erika Muster erika@example.com``), a
trailing dot, two From headers, no address at all. When From gives no address, the sender is
looked for in Sender, Reply-To, Return-Path, the envelope (mbox "From " line, X-Envelope-From,
Received "envelope-from"), and finally in any header that names a sender; recipients never count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.utils import getaddresses

from resonanz.connectors.mail.headers import HeaderBlock, decode_value, one_line

# An addr-spec as it appears in the wild: Unicode letters allowed (EAI, IDN), the local part as
# Japanese carriers allow it ("taro.@docomo.ne.jp"), a dot-separated domain.
_ATOM = r"[\w!#$%&'*+/=?^`{|}~-]"
ADDRESS = re.compile(rf"{_ATOM}[\w.!#$%&'*+/=?^`{{|}}~-]*@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_STRIP_NAME = " \t\"'<>(),;:[]"

ENVELOPE_HEADERS = ("x-envelope-from", "envelope-from", "x-original-sender", "x-sender", "x-original-from",
                    "x-apparently-from", "resent-from", "resent-sender")
# Headers whose addresses are recipients, ids or routing, never the sender.
NOT_SENDER = {"to", "cc", "bcc", "delivered-to", "x-original-to", "envelope-to", "x-envelope-to", "resent-to",
              "resent-cc", "resent-bcc", "apparently-to", "x-apparently-to", "message-id", "references",
              "in-reply-to", "content-id", "received", "dkim-signature", "arc-seal", "arc-message-signature",
              "arc-authentication-results", "authentication-results", "received-spf", "x-forwarded-to",
              "x-forwarded-for", "list-id", "list-unsubscribe", "list-post", "list-help", "list-subscribe",
              "list-owner", "list-archive", "errors-to", "disposition-notification-to", "return-receipt-to",
              "x-failed-recipients", "x-ms-exchange-organization-originalenvelopefrom"}
_ENVELOPE_IN_RECEIVED = re.compile(r"envelope-(?:from|sender)\s*<?([^<>\s;()]+@[^<>\s;()]+)>?", re.IGNORECASE)


@dataclass
class Sender:
    name: str = ""
    address: str = ""
    source: str = ""  # "from", "sender", "reply-to", "return-path", "envelope", "headers" or "" (none)


def clean_address(value: str) -> str:
    """A usable address in lower case, or ""; "mailto:", brackets and a trailing dot are dropped."""
    value = value.strip().strip("<>\"' ").strip()
    if value.lower().startswith("mailto:"):
        value = value[7:]
    value = value.rstrip(".").strip("<>")
    match = ADDRESS.fullmatch(value)
    return match.group(0).lower() if match else ""


def mailbox(value: str) -> tuple[str, str]:
    """(name, address) of one header value however it is written; the address is "" when it has none."""
    try:
        pairs = getaddresses([value])
    except Exception:  # noqa: BLE001 - the lenient reading below handles what the parser cannot
        pairs = []
    for name, address in pairs:
        address = clean_address(address)
        if address:
            return _name(name, address), address
    match = ADDRESS.search(value)
    if not match:
        return _name(value, ""), ""
    address = clean_address(match.group(0))
    rest = value[:match.start()] + " " + value[match.end():].lstrip(".")
    return _name(rest, address), address


def _name(raw: str, address: str) -> str:
    name = one_line(decode_value(raw.strip(_STRIP_NAME)))
    name = name.strip(_STRIP_NAME).replace('\\"', '"')
    if raw.rstrip().endswith(";") and ":" in raw:
        return ""  # group syntax ("undisclosed-recipients:;") names nobody
    if not name or name.lower() == address or "@" in name and clean_address(name) == address:
        return ""
    return name[:200]


def find_sender(block: HeaderBlock, hints: list[str]) -> Sender:
    """The sender's name and address from the first source that has one; see the module docstring."""
    from_names: list[str] = []  # a From header with a name but no address still names the sender
    for source, values in _sources(block, hints):
        for value in values:
            name, address = mailbox(value)
            if address:
                return Sender(name or (from_names[0] if from_names else ""), address, source)
            if name and source == "from":
                from_names.append(name)
    return Sender(from_names[0] if from_names else "", "", "")


def _sources(block: HeaderBlock, hints: list[str]):
    def texts(name: str) -> list[str]:
        return [_text(value, hints) for value in block.values(name)]

    yield "from", texts("from")
    yield "sender", texts("sender")
    yield "reply-to", texts("reply-to")
    yield "return-path", [v for v in texts("return-path") if v.strip() not in ("<>", "")]
    envelope = [block.envelope_from.decode("utf-8", "replace")] if block.envelope_from else []
    for name in ENVELOPE_HEADERS:
        envelope += texts(name)
    for received in texts("received"):
        envelope += _ENVELOPE_IN_RECEIVED.findall(received)
    yield "envelope", envelope
    recipients = {a for name in ("to", "cc", "delivered-to", "x-original-to", "envelope-to")
                  for value in texts(name) for a in map(clean_address, ADDRESS.findall(value)) if a}
    likely, other = [], []
    for name, value in block.fields:
        key = name.decode("ascii", "replace")
        if key in NOT_SENDER or key in ("from", "sender", "reply-to", "return-path", *ENVELOPE_HEADERS):
            continue
        found = [a for a in ADDRESS.findall(_text(value, hints)) if clean_address(a) not in recipients]
        (likely if any(w in key for w in ("from", "sender", "reply", "author")) else other).extend(found)
    yield "headers", likely + other


def _text(value: bytes, hints: list[str]) -> str:
    """A structured header value with raw 8-bit bytes decoded, encoded words left for the name."""
    if value.isascii():
        return value.decode("ascii")
    return decode_value(value, hints)
