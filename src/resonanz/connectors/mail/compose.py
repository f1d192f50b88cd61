"""The outbound reply: headers that make the customer's mail client thread it under their mail."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid

from django.conf import settings

MAX_REFERENCES = 20  # RFC 5322 allows trimming; long chains break some servers


@dataclass
class Reply:
    from_address: str
    to_address: str
    subject: str
    text: str
    from_name: str = ""
    html: str = ""
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    #: (filename, content type, content) of each file the agent attached
    attachments: list[tuple[str, str, bytes]] = field(default_factory=list)


def new_message_id(from_address: str) -> str:
    domain = from_address.rpartition("@")[2] or "resonanz.invalid"
    return make_msgid(idstring="rz", domain=domain)


def stable_message_id(message_pk: int, from_address: str) -> str:
    """The same Message-ID on every attempt to send one reply.

    When an SMTP server times out after it took the mail, the retry sends it again; with the same
    Message-ID the customer's mail system (and threading) treats both as one mail. Keyed with SECRET_KEY so
    the id does not reveal how many messages the instance holds.
    """
    domain = from_address.rpartition("@")[2] or "resonanz.invalid"
    digest = hmac.new(settings.SECRET_KEY.encode(), f"reply:{message_pk}".encode(), hashlib.sha256).hexdigest()
    return f"<rz.{digest[:24]}@{domain}>"


def build(reply: Reply, message_id: str) -> EmailMessage:
    """A plain-text mail (with an HTML alternative when given); never marked Auto-Submitted.

    Agents' replies are personal mail: Auto-Submitted would make the customer's autoresponder
    (correctly) ignore them, and some clients hide such mail.
    """
    mail = EmailMessage()
    mail["From"] = formataddr((reply.from_name, reply.from_address)) if reply.from_name else reply.from_address
    mail["To"] = reply.to_address
    mail["Subject"] = reply.subject
    mail["Date"] = format_datetime(datetime.now(UTC))
    mail["Message-ID"] = message_id
    if reply.in_reply_to:
        mail["In-Reply-To"] = reply.in_reply_to
    references = [r for r in reply.references if r]
    if reply.in_reply_to and reply.in_reply_to not in references:
        references.append(reply.in_reply_to)
    if references:
        # Keep the first (thread root) and the most recent ones.
        if len(references) > MAX_REFERENCES:
            references = references[:1] + references[-(MAX_REFERENCES - 1):]
        mail["References"] = " ".join(references)
    mail["X-Mailer"] = "Resonanz"
    mail.set_content(reply.text)
    if reply.html:
        mail.add_alternative(reply.html, subtype="html")
    for filename, content_type, content in reply.attachments:
        maintype, _sep, subtype = (content_type or "application/octet-stream").partition("/")
        mail.add_attachment(content, maintype=maintype or "application", subtype=subtype or "octet-stream",
                            filename=filename)
    return mail
