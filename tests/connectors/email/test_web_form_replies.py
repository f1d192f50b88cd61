"""Replies to web-form messages go out by email once an email channel exists."""

from __future__ import annotations

import email

import pytest

from resonanz.inbox.actions import deliver, ingest, send_reply
from tests.conftest import inbound

pytestmark = pytest.mark.django_db


def test_form_reply_is_stored_without_email_channel(form_channel, agent_user):
    conversation = ingest(form_channel, inbound("f1", "erika@example.com")).conversation
    reply = deliver(send_reply(conversation, agent_user, "Danke für Ihre Nachricht!"))
    assert reply.delivery_status == "stored"


def test_form_reply_goes_out_through_the_email_channel(form_channel, email_channel, agent_user, smtp):
    conversation = ingest(form_channel, inbound("f1", "erika@example.com", subject="Kündigung")).conversation
    reply = deliver(send_reply(conversation, agent_user, "Wir haben Ihre Kündigung erhalten."))
    assert reply.delivery_status == "sent" and "Support mail" in reply.delivery_detail
    assert len(smtp.messages) == 1 and smtp.messages[0].rcpt_tos == ["erika@example.com"]
    mail = email.message_from_bytes(smtp.messages[0].content)
    assert f"[{conversation.reference}]" in mail["Subject"] and reply.external_id == mail["Message-ID"]
