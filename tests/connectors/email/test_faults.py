"""Faults on the mail path, against real servers: an SMTP server that refuses, then times out, then accepts
(aiosmtpd), and an IMAP connection to Dovecot that drops in the middle of a FETCH. Each test counts lost and
duplicated messages and fails on any."""

from __future__ import annotations

import asyncio
from collections import Counter
from email import message_from_bytes

import pytest

from resonanz.connectors.actions import update_channel
from resonanz.connectors.drivers import get_driver
from resonanz.connectors.mail import transport
from resonanz.connectors.tasks import poll_channel
from resonanz.inbox.actions import deliver, ingest, send_reply
from resonanz.inbox.models import ConversationEvent, Message
from tests.conftest import inbound
from tests.support.tcpfault import TcpFaultProxy

from . import samples
from .conftest import free_port

pytestmark = [pytest.mark.django_db,
              pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")]


class Scripted:
    """An SMTP server whose answers to DATA follow a script: refuse (451), timeout (answers after the
    client gave up, without taking the mail), slow-accept (takes the mail but answers too late), accept."""

    def __init__(self, script: list[str], delay: float) -> None:
        self.script, self.delay = script, delay
        self.attempts = 0
        self.taken: list[bytes] = []  # mails the server took responsibility for

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        step = self.script[min(self.attempts, len(self.script) - 1)]
        self.attempts += 1
        if step == "refuse":
            return "451 4.3.0 Mailbox busy, try again later"
        if step == "timeout":
            await asyncio.sleep(self.delay)
            return "451 4.4.2 too late"
        if step == "slow-accept":
            self.taken.append(envelope.content)
            await asyncio.sleep(self.delay)
            return "250 OK"
        self.taken.append(envelope.content)
        return "250 OK"


def _controller(handler: Scripted):
    """aiosmtpd on a free port that takes any login (the channel logs in as in production)."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), auth_require_tls=False,
                            authenticator=lambda *args: AuthResult(success=True),
                            auth_exclude_mechanism=["LOGIN"])
    controller.start()
    return controller


@pytest.fixture
def scripted_smtp(request):
    handler = Scripted(request.param, delay=2.5)
    controller = _controller(handler)
    yield controller, handler
    controller.stop()


def _reply_through(channel, controller, agent_user, monkeypatch) -> Message:
    monkeypatch.setattr(transport, "TIMEOUT", 1)  # the client gives up long before the server answers
    update_channel(channel, settings={**channel.settings, "smtp_host": "127.0.0.1",
                                      "smtp_port": controller.port, "smtp_security": "none"})
    channel.refresh_from_db()
    conversation = ingest(channel, inbound("<c1@kunde.example>", "erika@kunde.example", "Wo ist mein Paket?",
                                           subject="Paket")).conversation
    return send_reply(conversation, agent_user, "Es ist unterwegs.")


@pytest.mark.parametrize("scripted_smtp", [["refuse", "timeout", "accept"]], indirect=True)
def test_smtp_refusing_then_timing_out_then_accepting_delivers_once(email_channel, scripted_smtp, agent_user,
                                                                   monkeypatch):
    controller, server = scripted_smtp
    reply = _reply_through(email_channel, controller, agent_user, monkeypatch)
    for _ in range(5):  # what the delivery sweep does while the reply is queued
        reply = deliver(Message.objects.get(pk=reply.pk))
    assert server.attempts == 3
    assert len(server.taken) == 1, "lost or duplicated at the server"
    assert reply.delivery_status == "sent"
    assert message_from_bytes(server.taken[0])["Message-ID"] == reply.external_id
    kinds = Counter(ConversationEvent.objects.filter(kind__startswith="delivery_").values_list("kind", flat=True))
    assert kinds == {"delivery_retry": 2, "delivery_sent": 1}
    assert Message.objects.filter(direction="outbound").count() == 1


@pytest.mark.parametrize("scripted_smtp", [["slow-accept", "accept"]], indirect=True)
def test_a_retry_after_the_server_took_the_mail_keeps_its_message_id(email_channel, scripted_smtp, agent_user,
                                                                     monkeypatch):
    """SMTP cannot tell the client that a mail was taken once the answer is lost; the retry sends it with the
    same Message-ID, so the customer's mail system shows it once."""
    controller, server = scripted_smtp
    reply = _reply_through(email_channel, controller, agent_user, monkeypatch)
    for _ in range(3):
        reply = deliver(Message.objects.get(pk=reply.pk))
    assert reply.delivery_status == "sent"
    ids = {message_from_bytes(raw)["Message-ID"] for raw in server.taken}
    assert ids == {reply.external_id}


def test_reply_marked_failed_with_the_reason_when_the_server_never_accepts(email_channel, agent_user,
                                                                          monkeypatch):
    server = Scripted(["refuse"], delay=0)
    controller = _controller(server)
    try:
        reply = _reply_through(email_channel, controller, agent_user, monkeypatch)
        for _ in range(8):
            reply = deliver(Message.objects.get(pk=reply.pk))
    finally:
        controller.stop()
    assert reply.delivery_status == "failed" and server.attempts == 5
    assert "gave up after 5 attempts" in reply.delivery_detail and "451" in reply.delivery_detail


@pytest.fixture
def imap_proxy(email_channel, dovecot):
    proxy = TcpFaultProxy(dovecot.host, dovecot.port)
    update_channel(email_channel, settings={**email_channel.settings, "imap_port": proxy.port,
                                            "imap_security": "none"})
    email_channel.refresh_from_db()
    yield proxy
    proxy.stop()


def _lost_and_duplicated(sent: list[str]) -> tuple[set[str], dict[str, int]]:
    stored = Counter(Message.objects.filter(direction="inbound").values_list("external_id", flat=True))
    subjects = Counter(Message.objects.filter(direction="inbound").values_list("subject", flat=True))
    lost = set(sent) - set(stored)
    duplicated = {k: n for k, n in (stored + subjects).items() if n > 1}
    return lost, duplicated


def test_imap_dropping_mid_fetch_loses_and_duplicates_nothing(email_channel, mailbox, imap_proxy):
    sent = [f"<drop-{n}@kunde.example>" for n in range(25)]
    for n, message_id in enumerate(sent):
        mailbox.append(samples.plain(message_id=message_id, subject=f"Frage {n}", body=f"Text {n} " + "x" * 400))
    imap_proxy.cut(b"FETCH", after_bytes=1500)  # in the middle of the first mail's body
    assert poll_channel(email_channel) == 25  # the driver reconnected once and read them all
    assert imap_proxy.made == 1 and imap_proxy.connections == 2
    assert _lost_and_duplicated(sent) == (set(), {})

    # dropped twice in a row: this poll gives up, the next one finishes; still nothing lost or twice
    more = [f"<drop2-{n}@kunde.example>" for n in range(5)]
    for n, message_id in enumerate(more):
        mailbox.append(samples.plain(message_id=message_id, subject=f"Nachfrage {n}", body="y" * 2000))
    imap_proxy.cut(b"FETCH", after_bytes=800, times=2)
    with pytest.raises(Exception):  # noqa: B017 (the connection error of whichever layer noticed first)
        get_driver(email_channel).poll()
    assert get_driver(email_channel).poll() == 5
    assert _lost_and_duplicated(sent + more) == (set(), {})
    assert poll_channel(email_channel) == 0


def test_imap_dropping_after_storing_before_flagging_stores_once(email_channel, mailbox, imap_proxy):
    """The mail was stored, the connection dropped while it was being marked processed: whichever way the
    server went, it is stored once."""
    sent = [f"<flag-{n}@kunde.example>" for n in range(3)]
    for n, message_id in enumerate(sent):
        mailbox.append(samples.plain(message_id=message_id, subject=f"Flag {n}"))
    imap_proxy.cut(b"STORE", after_bytes=0, times=2)  # both sessions of the first poll die at the first flag
    with pytest.raises(Exception):  # noqa: B017
        get_driver(email_channel).poll()
    # each session stored one mail; the server applied its flag but the answer was lost
    assert Message.objects.count() == 2
    assert get_driver(email_channel).poll() == 1
    assert _lost_and_duplicated(sent) == (set(), {})
