"""The email channel: IMAP in, SMTP out.

Settings (not secret): imap_host, imap_port, imap_security (ssl|starttls|none), imap_folder
(INBOX), processed ("flag": mark \\Seen and $ResonanzProcessed, or "move" to processed_folder),
smtp_host, smtp_port, smtp_security, from_address, from_name, max_attachment_bytes (25 MB),
tls_verify (true), tls_ca_file. Credentials (encrypted): imap_username, imap_password,
smtp_username, smtp_password.

A mail is marked processed only after the intake stored it: a crash in between re-reads it on
the next poll and the intake's idempotency on the external id stores it once. The external id is
the Message-ID; a different mail reusing a stored Message-ID (mailers do) gets the Message-ID
plus its content fingerprint, so it is stored instead of taken for a redelivery. Mail without a
Message-ID is known by its fingerprint, which ignores line endings and trailing whitespace.

Nothing is dropped: bounces, auto-replies, machine-generated notices, list mail and our own mail
are stored with ``meta["noise"]`` (kind and reason) for the filtered view, and never answered
automatically (``send`` refuses). Bounces and auto-replies to our replies also go to the intake
as delivery updates. A mail without any sender address is stored under an "unknown sender"
contact with ``meta["warnings"]``.
"""

from __future__ import annotations

import imaplib
import logging
import re
import smtplib
import socket
from collections.abc import Iterable

from django.db import InterfaceError, OperationalError
from django.utils.translation import gettext_lazy as _

from resonanz.connectors import intake
from resonanz.connectors.drivers import register
from resonanz.connectors.drivers.base import DeliveryUpdate, Driver, InboundMessage, SendResult
from resonanz.connectors.mail import compose, noise, transport
from resonanz.connectors.mail.parse import DEFAULT_MAX_ATTACHMENT_BYTES, ParsedMail, message_ids, parse_mail
from resonanz.core.addresses import UNKNOWN_SENDER_DOMAIN
from resonanz.core.errors import ActionError

log = logging.getLogger("resonanz.connectors.email")

PROCESSED = b"$ResonanzProcessed"
FAILED = b"$ResonanzFailed"  # kept unread and flagged, so a person notices it in a mail client
SEEN = b"\\Seen"
BATCH = 20

# Outcomes of one mail, as poll() counts them.
NEW, KNOWN, FAILED_OUTCOME = "new", "known", "failed"


@register("email")
class EmailDriver(Driver):
    label = _("Email")
    identity_kind = "email"
    sends_files = True
    polls = True

    # --- configuration -------------------------------------------------------------------------

    @property
    def settings(self) -> dict:
        return self.channel.settings or {}

    @property
    def from_address(self) -> str:
        return str(self.settings.get("from_address") or "").strip().lower()

    @property
    def own_addresses(self) -> set[str]:
        creds = self.channel.credentials
        candidates = [self.from_address, creds.get("imap_username", ""), creds.get("smtp_username", "")]
        return {str(a).strip().lower() for a in candidates if "@" in str(a or "")}

    @property
    def max_attachment_bytes(self) -> int:
        try:
            return int(self.settings.get("max_attachment_bytes") or DEFAULT_MAX_ATTACHMENT_BYTES)
        except (TypeError, ValueError):
            return DEFAULT_MAX_ATTACHMENT_BYTES

    def _endpoint(self, prefix: str) -> transport.Endpoint:
        return transport.endpoint(self.settings, self.channel.credentials, prefix)

    # --- inbound -------------------------------------------------------------------------------

    def poll(self) -> int:
        """Read every unprocessed mail once; reconnect once if the connection drops midway."""
        new = 0
        for attempt in (1, 2):
            try:
                client = transport.imap_connect(self._endpoint("imap"))
            except (OSError, imaplib.IMAP4.abort):
                if attempt == 2:
                    raise
                continue
            try:
                new += self._poll_session(client)
                return new
            except (OSError, imaplib.IMAP4.abort) as exc:
                if attempt == 2:
                    raise
                log.warning("IMAP connection of %s lost (%s); reconnecting", self.channel, exc)
            finally:
                _logout(client)
        return new

    def _poll_session(self, client) -> int:
        folder = str(self.settings.get("imap_folder") or "INBOX")
        info = client.select_folder(folder)
        keywords = b"\\*" in tuple(info.get(b"PERMANENTFLAGS", ()))
        move_to = self._processed_folder(client)
        if keywords:
            criteria: list = ["NOT", "KEYWORD", PROCESSED.decode(), "NOT", "DELETED"]
        else:
            log.warning("%s: the server keeps no custom keywords; unread mail counts as unprocessed", folder)
            criteria = ["UNSEEN", "NOT", "DELETED"]
        new = 0
        for batch in _chunks(sorted(client.search(criteria)), BATCH):
            fetched = client.fetch(batch, ["BODY.PEEK[]"])
            for uid in batch:
                raw = (fetched.get(uid) or {}).get(b"BODY[]")
                if raw is None:
                    continue  # expunged meanwhile
                outcome = self.handle_raw(raw)
                self._mark_processed(client, uid, failed=outcome == FAILED_OUTCOME, keywords=keywords,
                                     move_to=move_to)
                new += outcome == NEW
        return new

    def _processed_folder(self, client) -> str:
        if str(self.settings.get("processed") or "flag") != "move":
            return ""
        folder = str(self.settings.get("processed_folder") or "Processed")
        if not client.folder_exists(folder):
            client.create_folder(folder)
        return folder

    def _mark_processed(self, client, uid: int, *, failed: bool, keywords: bool, move_to: str) -> None:
        if failed:
            client.add_flags([uid], [FAILED, PROCESSED, b"\\Flagged"] if keywords else [b"\\Flagged", SEEN])
            return
        client.add_flags([uid], [SEEN, PROCESSED] if keywords else [SEEN])
        if move_to:
            if client.has_capability("MOVE"):
                client.move([uid], move_to)
            else:
                client.copy([uid], move_to)
                client.delete_messages([uid])
                if client.has_capability("UIDPLUS"):
                    client.uid_expunge([uid])
                else:
                    client.expunge()

    def handle_raw(self, raw: bytes) -> str:
        """Parse, recognise noise, ingest. Returns new/known/failed.

        A mail that cannot be stored is logged and reported as failed; only an unreachable
        database propagates, because then nothing can be stored and the mail must stay unprocessed.
        """
        try:
            mail = parse_mail(raw, max_attachment_bytes=self.max_attachment_bytes)
            verdict = noise.classify(mail, self.own_addresses)
            if verdict.kind == "bounce" and noise.is_failure(mail):
                intake.submit(self.channel, [bounce_notice(mail, verdict.reason)])
            if verdict.kind in ("auto_reply", "auto_generated") and referenced_ids(mail):
                intake.submit(self.channel, [DeliveryUpdate(
                    message_ids=referenced_ids(mail), status="auto_reply", source_id=mail.external_id,
                    detail=f"{mail.subject} ({verdict.reason})")])
            if not verdict.is_conversation:
                log.info("%s: stored as %s (%s): %s", self.channel, verdict.kind, verdict.reason, mail.external_id)
            return self._ingest(mail, verdict)
        except (OperationalError, InterfaceError):
            raise
        except Exception:
            log.exception("%s: could not store a mail; it stays in the mailbox flagged %s",
                          self.channel, FAILED.decode())
            return FAILED_OUTCOME

    def _ingest(self, mail: ParsedMail, verdict: noise.Verdict) -> str:
        sender, name = mail.from_address, mail.from_name
        if mail.sender_missing:
            # One contact per mail: a shared one would thread unrelated mails into one conversation.
            sender = f"unknown-sender-{mail.fingerprint[:16]}@{UNKNOWN_SENDER_DOMAIN}"
            # no stored name: the contact shows "Unknown sender" in each reader's language (crm.Contact.__str__)
        attachments = [{k: v for k, v in a.items() if k in ("filename", "content_type", "size", "content",
                                                          "content_id")} for a in mail.attachments]
        text = mail.text.strip() or ("" if attachments else (mail.subject or "(empty mail)"))
        meta: dict = {"email": {
            "message_id": mail.message_id, "fingerprint": mail.fingerprint, "from": mail.from_address,
            "sender_source": mail.sender_source, "reply_to": mail.reply_to,
            "to": mail.to[:20], "references": mail.references[-50:],
            "problems": mail.problems[:20],
            "omitted_attachments": [{"filename": a["filename"], "size": a["size"], "reason": a["omitted"]}
                                    for a in mail.attachments if "omitted" in a],
        }}
        warnings = _warnings(mail)
        if warnings:
            meta["warnings"] = warnings
        if not verdict.is_conversation:
            meta["noise"] = {"kind": verdict.kind, "reason": verdict.reason[:500]}
        inbound = InboundMessage(
            external_id=mail.external_id, sender_handle=sender, sender_name=name,
            subject=mail.subject, text=text, html=mail.html, in_reply_to=mail.in_reply_to,
            references=mail.references, sent_at=mail.date, attachments=attachments, meta=meta,
        )
        result = _submit(self.channel, inbound)
        if not result.created and mail.message_id and _another_mail(result.message, mail):
            inbound.external_id = f"{mail.message_id}#{mail.fingerprint[:32]}"
            log.info("%s: %s reuses the Message-ID of a stored mail; stored as %s", self.channel,
                     mail.message_id, inbound.external_id)
            result = _submit(self.channel, inbound)
        return NEW if result.created else KNOWN

    # --- outbound ------------------------------------------------------------------------------

    def send(self, message) -> SendResult:
        """Send an agent's reply so the customer's client threads it; return our Message-ID."""
        if not self.from_address:
            return SendResult("failed", detail="The channel has no from_address; set it in the channel settings.")
        last = _last_inbound(message)
        email_meta = (last.meta or {}).get("email", {}) if last else {}
        refusal = _automatic_reply_refused(message, last)
        if refusal:
            return SendResult("failed", detail=refusal)
        to = email_meta.get("reply_to") or email_meta.get("from") or _contact_email(message.conversation)
        if not to or to.endswith("@" + UNKNOWN_SENDER_DOMAIN):
            return SendResult("failed", detail="The customer has no email address to reply to.")
        parent = email_meta.get("message_id", "")
        message_id = compose.stable_message_id(message.pk, self.from_address)  # the same on every retry
        mail = compose.build(compose.Reply(
            from_address=self.from_address, from_name=str(self.settings.get("from_name") or ""),
            to_address=to, subject=_reply_subject(message.subject or message.conversation.subject),
            text=message.text,
            in_reply_to=parent, references=list(email_meta.get("references", [])),
            attachments=self.mail_attachments(message),
        ), message_id)
        try:
            ep = self._endpoint("smtp")
        except ValueError as exc:
            return SendResult("failed", detail=transport.explain(exc, None, "smtp"))
        try:
            transport.smtp_send(ep, mail, self.from_address, [to])
        except Exception as exc:
            log.warning("%s: sending message %s failed: %s", self.channel, message.pk, exc)
            status = "retry" if _temporary(exc) else "failed"
            return SendResult(status, detail=transport.explain(exc, ep, "smtp"))
        return SendResult("sent", external_id=message_id)

    # --- administration ------------------------------------------------------------------------

    def check_connection(self) -> tuple[bool, str]:
        """Log in to IMAP and SMTP; say what failed and what to change."""
        results = [self._check_imap(), self._check_smtp()]
        if not self.from_address:
            results.append((False, "from_address is not set; replies cannot be sent."))
        return all(ok for ok, _ in results), " ".join(text for _, text in results)

    def _check_imap(self) -> tuple[bool, str]:
        ep = None
        try:
            ep = self._endpoint("imap")
            client = transport.imap_connect(ep)
        except Exception as exc:
            return False, transport.explain(exc, ep, "imap")
        folder = str(self.settings.get("imap_folder") or "INBOX")
        try:
            if not client.folder_exists(folder):
                names = ", ".join(name for _, _, name in client.list_folders()[:20])
                return False, f"IMAP: logged in, but folder {folder!r} does not exist; folders: {names}."
            count = client.folder_status(folder, ["MESSAGES"]).get(b"MESSAGES", 0)
            return True, f"IMAP: logged in to {ep.host}, {folder} holds {count} messages."
        except Exception as exc:
            return False, transport.explain(exc, ep, "imap")
        finally:
            _logout(client)

    def _check_smtp(self) -> tuple[bool, str]:
        ep = None
        try:
            ep = self._endpoint("smtp")
            smtp = transport.smtp_connect(ep)
            smtp.noop()
            smtp.quit()
        except Exception as exc:
            return False, transport.explain(exc, ep, "smtp")
        return True, f"SMTP: connected to {ep.host}" + (" and logged in." if ep.username else ".")


# --- bounces and auto-replies ----------------------------------------------------------------------


def referenced_ids(mail: ParsedMail) -> list[str]:
    """The Message-IDs of ours a bounce or auto-reply may refer to (headers, the embedded original, the text)."""
    ids = {*mail.embedded_ids, *mail.references, *message_ids(mail.text)}
    if mail.in_reply_to:
        ids.add(mail.in_reply_to)
    ids.discard("")
    return sorted(ids)[:200]


def bounce_notice(mail: ParsedMail, reason: str = "") -> DeliveryUpdate:
    """A delivery failure report as the update that marks our referenced messages failed."""
    report = mail.report
    parts = [report.get("status", ""), report.get("diagnostic-code", "") or reason,
             f"recipient {report['final-recipient']}" if report.get("final-recipient") else ""]
    return DeliveryUpdate(message_ids=referenced_ids(mail), status="failed", source_id=mail.external_id,
                          detail="Bounced: " + "; ".join(p for p in parts if p))


# --- helpers -------------------------------------------------------------------------------------


def _submit(channel, inbound: InboundMessage):
    result = intake.submit(channel, [inbound])[0]
    if isinstance(result, ActionError):
        raise result
    return result


def _another_mail(stored, mail: ParsedMail) -> bool:
    """The stored message under this Message-ID is a different mail, not a redelivery of this one.

    Our own outbound messages and mails stored before fingerprints existed count as the same.
    """
    fingerprint = ((stored.meta or {}).get("email") or {}).get("fingerprint")
    return stored.direction == "inbound" and bool(fingerprint) and fingerprint != mail.fingerprint


def _warnings(mail: ParsedMail) -> list[dict]:
    """What the agent must know about the sender, as codes the UI can translate and a text."""
    if mail.sender_missing:
        return [{"code": "sender_missing",
                 "text": "No sender address was found in this mail's headers; it cannot be answered by mail."}]
    if mail.sender_source not in ("from", ""):
        return [{"code": "sender_recovered",
                 "text": f"The From header had no usable address; the sender was taken from {mail.sender_source}."}]
    return []


def _automatic_reply_refused(message, last) -> str:
    """Loop protection: a bot or rule never answers a bounce, auto-reply, notice, list or our own mail."""
    found = ((last.meta or {}).get("noise") if last else None) or {}
    if not found:
        return ""
    author = message.author_user
    agent = getattr(author, "agent", None) if author is not None else None
    if author is not None and not (agent is not None and agent.is_bot):
        return ""  # a person decided to answer
    return (f"Not sent: automatic replies never answer machine-generated mail "
            f"({found.get('kind', '')}: {found.get('reason', '')}).")


def _last_inbound(message):
    return (message.conversation.messages.filter(channel=message.channel_id, direction="inbound", id__lt=message.pk)
            .order_by("-id").first())


def _reply_subject(subject: str) -> str:
    """Mail clients show "Re:" for answers; the ticket reference in it stays as send_reply set it."""
    subject = " ".join((subject or "").split())
    return subject if re.match(r"(?i)^(re|aw|sv|antw)\s*:", subject) else f"Re: {subject}".strip()


def _contact_email(conversation) -> str:
    identity = conversation.contact.identities.filter(kind="email").order_by("id").first()
    return identity.handle if identity else ""


def _chunks(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _logout(client) -> None:
    try:
        client.logout()
    except Exception:
        try:
            client.shutdown()
        except Exception:
            pass


def _temporary(exc: Exception) -> bool:
    """Network trouble and SMTP 4xx answers pass; the reply stays queued and is sent again later."""
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in exc.recipients.values())
    return isinstance(exc, (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, socket.timeout,
                            ConnectionError, TimeoutError))
