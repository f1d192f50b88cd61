"""The small interface every channel kind implements: receive, send, check connection."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
PHONE = re.compile(r"\+?[0-9][0-9 ()/-]{6,20}")


class DriverError(Exception):
    """A channel could not do what was asked; the text tells the administrator what to fix."""


@dataclass
class SendResult:
    # "sent"; "stored" (kept until the channel can deliver or a client collects it); "retry" (a passing
    # problem: stays queued and is sent again by the sweep); "failed"
    status: str
    external_id: str = ""
    detail: str = ""


@dataclass
class InboundMessage:
    """What a driver hands to ``ingest()``, whatever the channel."""

    external_id: str
    sender_handle: str
    text: str
    sender_name: str = ""
    subject: str = ""
    html: str = ""
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    sent_at: datetime | None = None
    is_public: bool = False
    attachments: list[dict] = field(default_factory=list)
    meta: dict = field(default_factory=dict)


class Driver:
    kind: str = ""
    identity_kind: str = "other"
    public: bool = False

    def __init__(self, channel) -> None:
        self.channel = channel

    #: Channels whose senders may be known by anything (API, webhooks, imports) set this: handles that
    #: look like an email address or a phone number become email/phone identities, so the customer's
    #: messages there meet their email and form messages on one contact.
    recognises_handles: bool = False

    def identity_kind_for(self, handle: str) -> str:
        """The identity kind of a sender's handle on this channel."""
        if self.recognises_handles:
            handle = handle.strip()
            if EMAIL.fullmatch(handle):
                return "email"
            if PHONE.fullmatch(handle):
                return "phone"
        return self.identity_kind

    #: Drivers that fetch messages (email, feeds) set this; the worker's scheduler then calls poll().
    polls: bool = False

    def receive(self) -> list[InboundMessage]:
        """Fetch new messages; push-based channels (API, forms, webhooks) return nothing here."""
        return []

    def poll(self) -> int:
        """Fetch and ingest what is new; returns how many messages were new.

        The default hands every received message to ``ingest()``, which ignores redeliveries.
        Drivers that must acknowledge messages at the source (flag an IMAP mail as seen)
        override this to acknowledge only after ``ingest()`` stored the message.
        """
        from resonanz.inbox.actions import IngestResult, ingest_many

        results = ingest_many(self.channel, self.receive())
        return sum(1 for r in results if isinstance(r, IngestResult) and r.created)

    def send(self, message) -> SendResult:
        raise NotImplementedError(f"{self.kind} channels cannot send")

    def check_connection(self) -> tuple[bool, str]:
        return True, "nothing to connect to"
