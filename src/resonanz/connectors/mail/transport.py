"""IMAP and SMTP connections from a channel's settings, and errors an administrator can act on."""

from __future__ import annotations

import imaplib
import smtplib
import socket
import ssl
from dataclasses import dataclass
from email.message import EmailMessage

from imapclient import IMAPClient, imap4, tls
from imapclient.exceptions import IMAPClientError, LoginError

from resonanz.core.addresses import InternalAddressError, connect

SECURITY = ("ssl", "starttls", "none")
TIMEOUT = 30


@dataclass
class Endpoint:
    host: str
    port: int
    security: str
    username: str
    password: str
    verify: bool = True
    ca_file: str = ""

    def tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=self.ca_file or None)
        if not self.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context


def endpoint(settings: dict, credentials: dict, prefix: str) -> Endpoint:
    """``prefix`` is "imap" or "smtp"; defaults follow the usual ports of each security mode."""
    security = str(settings.get(f"{prefix}_security") or "ssl").lower()
    if security not in SECURITY:
        raise ValueError(f"{prefix}_security must be one of {', '.join(SECURITY)}, not {security!r}")
    defaults = {"imap": {"ssl": 993, "starttls": 143, "none": 143},
                "smtp": {"ssl": 465, "starttls": 587, "none": 25}}
    host = str(settings.get(f"{prefix}_host") or "").strip()
    if not host:
        raise ValueError(f"{prefix}_host is not set")
    return Endpoint(
        host=host,
        port=int(settings.get(f"{prefix}_port") or defaults[prefix][security]),
        security=security,
        username=str(credentials.get(f"{prefix}_username") or ""),
        password=str(credentials.get(f"{prefix}_password") or ""),
        verify=bool(settings.get("tls_verify", True)),
        ca_file=str(settings.get("tls_ca_file") or ""),
    )


# The mail clients connect through resonanz.core.addresses.connect: the host is resolved and checked against
# the internal-address rules each time the worker connects (not only when the channel was saved), and the
# socket goes to the checked address, so DNS rebinding cannot point a mailbox at the metadata service.


class _GuardedIMAP4(imap4.IMAP4WithTimeout):
    def _create_socket(self, timeout=None):
        return connect(self.host, self.port, timeout if timeout is not None else self._timeout)


class _GuardedIMAP4TLS(tls.IMAP4_TLS):
    def _create_socket(self, timeout=None):
        sock = connect(self.host, self.port, timeout)
        return tls.wrap_socket(sock, self.ssl_context, self.host)


class GuardedIMAPClient(IMAPClient):
    def _create_IMAP4(self):
        connect_timeout = getattr(self._timeout, "connect", None)
        if self.ssl:
            return _GuardedIMAP4TLS(self.host, self.port, self.ssl_context, connect_timeout)
        return _GuardedIMAP4(self.host, self.port, connect_timeout)


class GuardedSMTP(smtplib.SMTP):
    def _get_socket(self, host, port, timeout):
        return connect(host, port, timeout, self.source_address)


class GuardedSMTPSSL(smtplib.SMTP_SSL):
    def _get_socket(self, host, port, timeout):
        sock = connect(host, port, timeout, self.source_address)
        return self.context.wrap_socket(sock, server_hostname=self._host)


def imap_connect(ep: Endpoint) -> IMAPClient:
    client = GuardedIMAPClient(ep.host, port=ep.port, ssl=ep.security == "ssl",
                        ssl_context=ep.tls_context() if ep.security == "ssl" else None, timeout=TIMEOUT)
    try:
        if ep.security == "starttls":
            client.starttls(ep.tls_context())
        client.login(ep.username, ep.password)
    except Exception:
        _quietly(client.shutdown)
        raise
    return client


def smtp_connect(ep: Endpoint) -> smtplib.SMTP:
    if ep.security == "ssl":
        smtp: smtplib.SMTP = GuardedSMTPSSL(ep.host, ep.port, timeout=TIMEOUT, context=ep.tls_context())
    else:
        smtp = GuardedSMTP(ep.host, ep.port, timeout=TIMEOUT)
    try:
        smtp.ehlo()
        if ep.security == "starttls":
            smtp.starttls(context=ep.tls_context())
            smtp.ehlo()
        if ep.username:
            smtp.login(ep.username, ep.password)
    except Exception:
        _quietly(smtp.close)
        raise
    return smtp


def smtp_send(ep: Endpoint, mail: EmailMessage, envelope_from: str, recipients: list[str]) -> None:
    smtp = smtp_connect(ep)
    try:
        smtp.send_message(mail, from_addr=envelope_from, to_addrs=recipients)
    finally:
        _quietly(smtp.quit)


def explain(exc: BaseException, ep: Endpoint | None, prefix: str) -> str:
    """What failed and what to change, in the administrator's terms."""
    where = f"{prefix.upper()} {ep.host}:{ep.port} ({ep.security})" if ep else prefix.upper()
    if isinstance(exc, ValueError):
        return f"{prefix.upper()}: {exc}; complete the channel's settings."
    if isinstance(exc, InternalAddressError):
        return f"{where}: {exc}."
    if isinstance(exc, LoginError | smtplib.SMTPAuthenticationError):
        return (f"{where}: the server refused the login ({_text(exc)}); check {prefix}_username and "
                f"{prefix}_password (many providers need an app password).")
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return f"{where}: {_text(exc)}; the server may need another {prefix}_security, or no username."
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return (f"{where}: TLS failed ({_text(exc)}); check {prefix}_security (ssl is usual for ports "
                f"993/465, starttls for 143/587) and the server's certificate.")
    if isinstance(exc, socket.gaierror):
        return f"{where}: the host name does not resolve; check {prefix}_host."
    if isinstance(exc, ConnectionRefusedError):
        return f"{where}: connection refused; check {prefix}_host and {prefix}_port, and that the server runs."
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"{where}: no answer within {TIMEOUT} s; check {prefix}_host, {prefix}_port and firewalls."
    if isinstance(exc, OSError | smtplib.SMTPException | IMAPClientError | imaplib.IMAP4.error):
        return f"{where}: {exc.__class__.__name__}: {_text(exc)}"
    return f"{where}: {exc.__class__.__name__}: {_text(exc)}"


def _text(exc: BaseException) -> str:
    text = str(exc)
    if isinstance(exc, smtplib.SMTPResponseException):
        message = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        text = f"{exc.smtp_code} {message}"
    return text[:300]


def _quietly(func) -> None:
    try:
        func()
    except Exception:
        pass
