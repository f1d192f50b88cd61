"""The email channel end to end: a real Dovecot mailbox in, a real SMTP server out."""

from __future__ import annotations

from email import message_from_bytes, policy

import pytest

from resonanz.connectors.actions import check_channel, update_channel
from resonanz.connectors.drivers import get_driver
from resonanz.connectors.drivers.email import EmailDriver
from resonanz.connectors.tasks import poll_channel
from resonanz.inbox.actions import deliver, send_reply, update_conversation
from resonanz.inbox.models import Attachment, Conversation, ConversationEvent, Message

from . import samples
from .conftest import FROM_ADDRESS, SMTP_USER

pytestmark = [pytest.mark.django_db,
              pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")]

PROCESSED, FAILED = b"$ResonanzProcessed", b"$ResonanzFailed"


def _settings(channel, **changes):
    update_channel(channel, settings={**channel.settings, **changes})
    return channel


def test_mail_becomes_a_conversation_once_and_is_marked(email_channel, mailbox):
    mailbox.append(samples.plain())
    assert poll_channel(email_channel) == 1
    message = Message.objects.get()
    assert message.conversation.subject == "Bestellung 4711 fehlt"
    assert message.text.startswith("Hallo, meine Bestellung")
    assert message.external_id == "<m1@kunde.example>"
    assert message.author_contact.identities.get().handle == "erika@kunde.example"
    assert message.author_contact.name == "Erika Muster"
    assert {b"\\Seen", PROCESSED} <= set(mailbox.flags()[1])
    assert poll_channel(email_channel) == 0
    assert Message.objects.count() == 1
    email_channel.refresh_from_db()
    assert email_channel.healthy and email_channel.last_ok_at


def test_broken_and_hostile_mail_is_stored_as_well_as_possible(email_channel, mailbox):
    _settings(email_channel, max_attachment_bytes=200_000)
    for raw in (samples.no_headers(), samples.wrong_charsets(), samples.alternative_with_script(),
                samples.nested_with_attachments(big=300_000), samples.missing_message_id(),
                samples.auto_reply(), samples.mailing_list(), samples.own_mail(), samples.hostile_attachment_names()):
        mailbox.append(raw)
    assert get_driver(email_channel).poll() == 9  # nothing is dropped
    by_subject = {m.subject: m for m in Message.objects.all()}
    assert set(by_subject) == {"Umlaute", "Rückfrage zur Kündigung", "Rechnung mit Bild", "ID fehlt", "Dateinamen",
                               "", "Abwesenheitsnotiz: Re: Bestellung", "Newsletter März", "Unsere eigene Mail"}
    noise_kinds = {m.subject: (m.meta.get("noise") or {}).get("kind") for m in Message.objects.all()}
    assert noise_kinds["Abwesenheitsnotiz: Re: Bestellung"] == "auto_reply"
    assert noise_kinds["Newsletter März"] == "list" and noise_kinds["Unsere eigene Mail"] == "own"
    assert noise_kinds["Umlaute"] is None and noise_kinds[""] is None

    anonymous = by_subject[""]  # no headers at all: stored under an unknown sender, with a warning
    assert anonymous.text.strip() == "nur ein Text ohne Kopfzeilen"
    assert str(anonymous.author_contact) == "Unknown sender"
    assert anonymous.author_contact.identities.get().handle.endswith("@unknown-sender.invalid")
    assert [w["code"] for w in anonymous.meta["warnings"]] == ["sender_missing"]

    names = [a.file.name for a in Attachment.objects.filter(message=by_subject["Dateinamen"])]
    assert len(names) == 5 and all(n.startswith("attachments/") and ".." not in n.split("/") for n in names)
    assert "Grüße aus Köln" in by_subject["Umlaute"].text

    hostile = by_subject["Rückfrage zur Kündigung"]
    assert "<script" not in hostile.html and "onerror" not in hostile.html and "javascript:" not in hostile.html
    assert hostile.text.strip() == "Ich möchte kündigen."

    nested = by_subject["Rechnung mit Bild"]
    files = {a.filename: a for a in Attachment.objects.filter(message=nested)}
    assert set(files) == {"bild.png", "Rechnung März.pdf", "riesig.bin"}
    assert files["bild.png"].content_id == "bild1@kunde.example" and files["bild.png"].file
    assert files["Rechnung März.pdf"].file.read() == b"%PDF-1.4 fake"
    assert files["riesig.bin"].size == 300_000 and not files["riesig.bin"].file
    assert nested.meta["email"]["omitted_attachments"][0]["filename"] == "riesig.bin"

    flags = mailbox.flags()
    assert all(PROCESSED in f and FAILED not in f for f in flags.values())
    assert get_driver(email_channel).poll() == 0 and Message.objects.count() == 9


def test_agent_reply_threads_and_the_customer_answer_returns_to_the_conversation(
        email_channel, mailbox, smtp, agent_user):
    mailbox.append(samples.plain(extra="References: <earlier@kunde.example>\n"))
    get_driver(email_channel).poll()
    conversation = Conversation.objects.get()
    reply = deliver(send_reply(conversation, agent_user, "Wir schicken die Bestellung erneut."))
    assert reply.delivery_status == "sent", reply.delivery_detail

    [received] = smtp.messages
    assert smtp.logins == [SMTP_USER]
    sent = message_from_bytes(received.content, policy=policy.default)
    assert received.rcpt_tos == ["erika@kunde.example"] and received.mail_from == FROM_ADDRESS
    assert sent["Message-ID"] == reply.external_id
    assert sent["In-Reply-To"] == "<m1@kunde.example>"
    assert sent["References"].split() == ["<earlier@kunde.example>", "<m1@kunde.example>"]
    assert f"[RZ-{conversation.pk}]" in sent["Subject"] and "Auto-Submitted" not in sent
    assert sent["From"].addresses[0].addr_spec == FROM_ADDRESS
    assert "Wir schicken die Bestellung erneut." in sent.get_body(("plain",)).get_content()

    # Resolved, and the answer has another subject without the ticket reference: only headers thread it.
    update_conversation(conversation, agent_user, status="resolved")
    mailbox.append(samples.plain(message_id="<m2@kunde.example>", subject="Danke!", body="Danke, angekommen.",
                                 extra=f"In-Reply-To: {sent['Message-ID']}\n"
                                       f"References: <m1@kunde.example> {sent['Message-ID']}\n"))
    assert get_driver(email_channel).poll() == 1
    answer = Message.objects.get(external_id="<m2@kunde.example>")
    assert answer.conversation_id == conversation.pk
    conversation.refresh_from_db()
    assert conversation.status == "open" and Conversation.objects.count() == 1


def test_crash_between_ingest_and_marking_stores_nothing_twice(email_channel, mailbox, monkeypatch):
    mailbox.append(samples.plain())
    mailbox.append(samples.plain(message_id="<m2@kunde.example>", subject="Zweite"))

    def crash(self, client, uid, **kwargs):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(EmailDriver, "_mark_processed", crash)
    with pytest.raises(RuntimeError):
        get_driver(email_channel).poll()
    assert Message.objects.count() == 1 and all(PROCESSED not in f for f in mailbox.flags().values())
    monkeypatch.undo()
    assert get_driver(email_channel).poll() == 1  # the first one again (known), then the second
    assert Message.objects.count() == 2
    assert all(PROCESSED in f for f in mailbox.flags().values())


def test_lost_connection_is_reconnected(email_channel, mailbox, monkeypatch):
    mailbox.append(samples.plain())
    original, calls = EmailDriver._poll_session, []

    def flaky(self, client):
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionResetError("connection reset by peer")
        return original(self, client)

    monkeypatch.setattr(EmailDriver, "_poll_session", flaky)
    assert get_driver(email_channel).poll() == 1 and len(calls) == 2


def test_bounce_marks_our_reply_failed_and_noise_is_stored_but_never_answered(
        email_channel, mailbox, smtp, agent_user):
    mailbox.append(samples.plain())
    get_driver(email_channel).poll()
    conversation = Conversation.objects.get()
    reply = deliver(send_reply(conversation, agent_user, "Antwort"))
    mailbox.append(samples.auto_reply(in_reply_to=reply.external_id))
    mailbox.append(samples.bounce(reply.external_id))
    assert get_driver(email_channel).poll() == 2  # both stored, neither dropped
    reply.refresh_from_db()
    assert reply.delivery_status == "failed" and "5.1.1" in reply.delivery_detail
    assert "User unknown" in reply.delivery_detail
    kinds = list(ConversationEvent.objects.filter(conversation=conversation).values_list("kind", flat=True))
    assert "delivery_failed" in kinds and "auto_reply_received" in kinds
    stored = {m.external_id: m.meta["noise"] for m in Message.objects.filter(direction="inbound")
              if m.meta.get("noise")}
    assert stored["<ooo@kunde.example>"]["kind"] == "auto_reply"
    assert stored["<bounce-1@mx.resonanz.example>"]["kind"] == "bounce"
    assert "User unknown" in stored["<bounce-1@mx.resonanz.example>"]["reason"]
    assert all(PROCESSED in f for f in mailbox.flags().values())

    # Loop protection: the bot (or a rule) never answers machine mail; a person still can.
    from resonanz.knowledge.bot import bot_user

    bounce_conversation = Message.objects.get(external_id="<bounce-1@mx.resonanz.example>").conversation
    automatic = deliver(send_reply(bounce_conversation, bot_user(), "Danke für Ihre Nachricht!"))
    assert automatic.delivery_status == "failed" and "never answer machine-generated" in automatic.delivery_detail
    assert len(smtp.messages) == 1  # only the agent's first reply went out
    ooo_conversation = Message.objects.get(external_id="<ooo@kunde.example>").conversation
    assert deliver(send_reply(ooo_conversation, bot_user(), "Automatisch")).delivery_status == "failed"
    assert deliver(send_reply(ooo_conversation, agent_user, "Persönlich")).delivery_status == "sent"
    assert len(smtp.messages) == 2


def test_move_mode_moves_processed_mail(email_channel, mailbox):
    _settings(email_channel, processed="move", processed_folder="Erledigt")
    mailbox.append(samples.plain())
    assert get_driver(email_channel).poll() == 1
    assert mailbox.count("INBOX") == 0 and mailbox.count("Erledigt") == 1
    assert get_driver(email_channel).poll() == 0


def test_check_connection_says_what_to_fix(email_channel, dovecot):
    ok, detail = check_channel(email_channel)
    assert ok, detail
    assert "IMAP: logged in" in detail and "SMTP: connected" in detail

    update_channel(email_channel, credentials={"imap_password": "wrong", "smtp_password": "wrong"})
    ok, detail = check_channel(email_channel)
    assert not ok and "imap_password" in detail and "smtp_password" in detail

    _settings(email_channel, imap_port=1, imap_folder="Nope")
    ok, detail = get_driver(email_channel).check_connection()
    assert not ok and "connection refused" in detail and "imap_port" in detail
    email_channel.refresh_from_db()
    assert not email_channel.healthy


def test_missing_folder_is_reported(email_channel):
    _settings(email_channel, imap_folder="Nope")
    ok, detail = get_driver(email_channel).check_connection()
    assert not ok and "'Nope' does not exist" in detail


def test_plain_smtp_and_unreachable_smtp(email_channel, mailbox, smtp, agent_user):
    _settings(email_channel, smtp_security="none")
    mailbox.append(samples.plain())
    get_driver(email_channel).poll()
    conversation = Conversation.objects.get()
    assert deliver(send_reply(conversation, agent_user, "eins")).delivery_status == "sent"
    _settings(email_channel, smtp_port=1)
    pending = deliver(send_reply(Conversation.objects.get(), agent_user, "zwei"))
    pending.refresh_from_db()
    # a refused connection passes: the reply stays queued for the sweep, then fails for good
    assert pending.delivery_status == "queued" and "smtp_port" in pending.delivery_detail
    from resonanz.inbox.actions import MAX_DELIVERY_ATTEMPTS
    from resonanz.inbox.models import Message

    for _ in range(MAX_DELIVERY_ATTEMPTS - 1):
        failed = deliver(Message.objects.get(pk=pending.pk))
    assert failed.delivery_status == "failed" and "smtp_port" in failed.delivery_detail
    assert len(smtp.messages) == 1


def test_a_mail_reusing_a_message_id_is_stored_and_redeliveries_are_known(email_channel, mailbox):
    first = samples.plain(message_id="<same@mailer.example>", subject="Bestellung 5001", body="Wo bleibt 5001?")
    second = samples.plain(message_id="<same@mailer.example>", subject="Rechnung 5002", body="Betrag falsch.")
    mailbox.append(first)
    assert get_driver(email_channel).poll() == 1
    mailbox.append(second)
    mailbox.append(first)  # the same bytes again
    assert get_driver(email_channel).poll() == 1
    mailbox.append(second.replace(b"\r\n", b"\n"))  # the same mail with other line endings
    assert get_driver(email_channel).poll() == 0
    stored = {m.subject: m.external_id for m in Message.objects.all()}
    assert stored["Bestellung 5001"] == "<same@mailer.example>"  # the first keeps the plain Message-ID
    assert stored["Rechnung 5002"].startswith("<same@mailer.example>#") and len(stored) == 2


def test_mail_without_message_id_is_stored_once_whatever_its_line_endings(email_channel, mailbox):
    mailbox.append(samples.missing_message_id())
    mailbox.append(samples.missing_message_id().replace(b"\r\n", b"\n"))
    assert get_driver(email_channel).poll() == 1 and Message.objects.count() == 1
    assert Message.objects.get().external_id.endswith("@no-message-id.invalid>")


def test_mail_stored_before_fingerprints_is_still_recognised(email_channel, mailbox):
    from resonanz.connectors.drivers.base import InboundMessage
    from resonanz.inbox.actions import ingest

    ingest(email_channel, InboundMessage(external_id="<m1@kunde.example>", sender_handle="erika@kunde.example",
                                         text="Hallo", meta={"email": {"message_id": "<m1@kunde.example>"}}))
    mailbox.append(samples.plain())
    assert get_driver(email_channel).poll() == 0 and Message.objects.count() == 1


def test_a_follow_up_to_the_customers_own_mail_threads_by_its_message_id(email_channel, mailbox, agent_user):
    mailbox.append(samples.plain())
    get_driver(email_channel).poll()
    conversation = Conversation.objects.get()
    update_conversation(conversation, agent_user, status="resolved")
    mailbox.append(samples.plain(message_id="<m2@kunde.example>", subject="Nachtrag", body="Noch etwas.",
                                 extra="In-Reply-To: <m1@kunde.example>\n"))
    assert get_driver(email_channel).poll() == 1
    assert Message.objects.get(external_id="<m2@kunde.example>").conversation_id == conversation.pk


def test_unknown_sender_is_stored_with_a_warning_and_cannot_be_answered(email_channel, mailbox, smtp, agent_user):
    mailbox.append(samples.raw("From: undisclosed-recipients:;\nTo: support@resonanz.example\nSubject: Anonym\n"
                               "Message-ID: <anon@x.example>\n\nIhr Fahrer parkt auf dem Gehweg."))
    mailbox.append(samples.raw("From: Jonas\nReply-To: Jonas Wolf <jonas@kunde.example>\nSubject: Rechnung\n"
                               "Message-ID: <jw@kunde.example>\n\nZweimal berechnet."))
    assert get_driver(email_channel).poll() == 2
    anonymous = Message.objects.get(external_id="<anon@x.example>")
    assert anonymous.meta["warnings"][0]["code"] == "sender_missing"
    assert str(anonymous.author_contact) == "Unknown sender"
    reply = deliver(send_reply(anonymous.conversation, agent_user, "Danke für den Hinweis."))
    assert reply.delivery_status == "failed" and "no email address" in reply.delivery_detail
    assert smtp.messages == []

    recovered = Message.objects.get(external_id="<jw@kunde.example>")
    assert recovered.author_contact.identities.get().handle == "jonas@kunde.example"
    assert recovered.meta["warnings"][0]["code"] == "sender_recovered"
    assert deliver(send_reply(recovered.conversation, agent_user, "Wir prüfen das.")).delivery_status == "sent"
    assert smtp.messages[0].rcpt_tos == ["jonas@kunde.example"]
