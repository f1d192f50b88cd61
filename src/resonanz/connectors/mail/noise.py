"""Which mail must never be answered automatically: bounces, auto-replies, machine-generated
notices, mailing lists, our own mail.

Answering any of these starts mail loops (two autoresponders replying to each other), so they
are recognised by the headers RFC 3834, RFC 2369/2919 and common practice define. They are still
stored, with the verdict's reason, because some are real work for someone (a monitoring system's
incident notice); the inbox keeps them in a filtered view.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from resonanz.connectors.mail.parse import ParsedMail

_DAEMON = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|mailerdaemon)@", re.IGNORECASE)
_BOUNCE_SUBJECT = re.compile(
    r"(undeliver|delivery (status )?notification|delivery failure|returned mail|mail delivery failed"
    r"|unzustellbar|nicht zugestellt|failure notice)",
    re.IGNORECASE,
)
_BULK = {"bulk", "junk", "list", "auto_reply"}
_NO_REPLY = re.compile(r"^(no-?reply|do-?not-?reply|donotreply|noreply-[^@]*|no_reply)@", re.IGNORECASE)
KINDS = ("bounce", "own", "auto_reply", "auto_generated", "list")


@dataclass(frozen=True)
class Verdict:
    kind: str  # "conversation" or one of KINDS
    reason: str = ""

    @property
    def is_conversation(self) -> bool:
        return self.kind == "conversation"


def classify(mail: ParsedMail, own_addresses: set[str]) -> Verdict:
    """The first rule that matches wins; bounces first, so they can mark our message as failed."""
    if _is_bounce(mail):
        return Verdict("bounce", mail.report.get("diagnostic-code") or mail.subject or "delivery failed")
    if mail.from_address and mail.from_address in own_addresses:
        return Verdict("own", f"sent from our own address {mail.from_address}")
    auto = mail.header("auto-submitted").strip().lower()
    if auto and not auto.startswith("no"):
        return Verdict("auto_reply" if auto.startswith("auto-replied") else "auto_generated",
                       f"Auto-Submitted: {auto}")
    for name in ("x-autoreply", "x-autorespond", "x-autoresponder"):
        if mail.header(name):
            return Verdict("auto_reply", f"{name} header")
    precedence = mail.header("precedence").strip().lower()
    if precedence in _BULK:
        return Verdict("auto_reply" if precedence == "auto_reply" else "list", f"Precedence: {precedence}")
    for name in ("list-id", "list-unsubscribe", "list-post"):
        if mail.header(name):
            return Verdict("list", f"{name} header")
    if _null_return_path(mail):
        return Verdict("auto_generated", "empty Return-Path (machine-generated mail)")
    if _NO_REPLY.match(mail.from_address):
        return Verdict("auto_generated", f"sent from a no-reply address ({mail.from_address})")
    return Verdict("conversation")


def _is_bounce(mail: ParsedMail) -> bool:
    if mail.content_type == "multipart/report" and "delivery-status" in mail.header("content-type").lower():
        return True
    if mail.report.get("action"):
        return True
    if _DAEMON.match(mail.from_address) and (_BOUNCE_SUBJECT.search(mail.subject) or _null_return_path(mail)):
        return True
    return _null_return_path(mail) and bool(_BOUNCE_SUBJECT.search(mail.subject))


def _null_return_path(mail: ParsedMail) -> bool:
    return "return-path" in mail.headers and mail.header("return-path").strip() in ("<>", "")


def is_failure(mail: ParsedMail) -> bool:
    """A report that says delayed or delivered is no failure; without a report a bounce is one."""
    action = mail.report.get("action", "").lower()
    return not action or action.startswith("failed")
