"""The worker checks a mail server's address each time it connects, not only when the channel was saved.

The servers are the suite's real Dovecot and aiosmtpd on 127.0.0.1. A host name whose DNS answer changes
after the form was saved (rebinding) is played by a resolver that answers what the test says; that nothing
reached the server when the connection was refused is read from the server's own login log.
"""

from __future__ import annotations

import socket

import pytest

from resonanz.connectors.mail import transport
from resonanz.core.addresses import InternalAddressError
from resonanz.core.outbound import check_url

from .conftest import PASSWORD, SMTP_PASSWORD, SMTP_USER

REAL_GETADDRINFO = socket.getaddrinfo


@pytest.fixture
def dns(monkeypatch):
    """``dns["mail.example.com"] = "169.254.169.254"``: what the name resolves to from now on."""
    answers: dict[str, str] = {}

    def getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            return REAL_GETADDRINFO(answers[host], port, *args, **kwargs)
        return REAL_GETADDRINFO(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


def smtp_endpoint(smtp_server, host: str) -> transport.Endpoint:
    return transport.Endpoint(host=host, port=smtp_server.port, security="none", username=SMTP_USER,
                              password=SMTP_PASSWORD)


def test_smtp_to_an_internal_address_is_refused_at_connect_time(settings, smtp):
    settings.RESONANZ_OUTBOUND_ALLOW = []
    with pytest.raises(InternalAddressError) as info:
        transport.smtp_connect(smtp_endpoint(smtp, "127.0.0.1"))
    assert smtp.logins == []
    message = transport.explain(info.value, smtp_endpoint(smtp, "127.0.0.1"), "smtp")
    assert "internal address" in message and "RESONANZ_OUTBOUND_ALLOW" in message
    assert "refused" not in message  # says nothing about the port behind the address


def test_dns_rebinding_after_the_form_was_saved_is_refused(settings, smtp, dns):
    settings.RESONANZ_OUTBOUND_ALLOW = []
    dns["mail.example.com"] = "93.184.216.34"
    check_url("https://mail.example.com/")  # what the form checked when the channel was saved: fine
    dns["mail.example.com"] = "169.254.169.254"  # the record now points at the cloud metadata service
    with pytest.raises(InternalAddressError):
        transport.smtp_connect(smtp_endpoint(smtp, "mail.example.com"))
    dns["mail.example.com"] = "127.0.0.1"
    with pytest.raises(InternalAddressError):
        transport.smtp_connect(smtp_endpoint(smtp, "mail.example.com"))
    assert smtp.logins == []


def test_allow_listed_mail_host_connects_to_the_checked_address(settings, smtp, dns):
    settings.RESONANZ_OUTBOUND_ALLOW = [f"127.0.0.1:{smtp.port}"]
    dns["mail.example.com"] = "127.0.0.1"
    client = transport.smtp_connect(smtp_endpoint(smtp, "mail.example.com"))
    client.quit()
    assert smtp.logins == [SMTP_USER]


def test_imap_is_checked_at_connect_time_too(settings, dovecot, mailbox, dns):
    mailbox.append(b"Subject: hi\r\n\r\nhello\r\n")
    endpoint = transport.Endpoint(host="imap.example.com", port=dovecot.port, security="starttls",
                                  username=mailbox.user, password=PASSWORD, ca_file=dovecot.ca_file, verify=False)
    settings.RESONANZ_OUTBOUND_ALLOW = []
    dns["imap.example.com"] = "127.0.0.1"
    with pytest.raises(InternalAddressError):
        transport.imap_connect(endpoint)
    settings.RESONANZ_OUTBOUND_ALLOW = ["127.0.0.1"]
    client = transport.imap_connect(endpoint)
    try:
        client.select_folder("INBOX", readonly=True)
        assert len(client.search("ALL")) == 1
    finally:
        client.logout()


def test_imap_over_tls_is_refused_before_the_handshake(settings, dovecot):
    settings.RESONANZ_OUTBOUND_ALLOW = []
    endpoint = transport.Endpoint(host="127.0.0.1", port=dovecot.port, security="ssl", username="x", password="y")
    with pytest.raises(InternalAddressError):
        transport.imap_connect(endpoint)
