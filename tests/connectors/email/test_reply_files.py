"""Files attached to an agent's reply go out as real attachments of the mail, through the real SMTP server."""

from __future__ import annotations

from email import message_from_bytes, policy

import pytest
from django.utils import translation
from rest_framework.test import APIClient

from resonanz.connectors.actions import create_channel
from resonanz.connectors.drivers import get_driver
from resonanz.core.errors import ActionError
from resonanz.inbox.actions import deliver, ingest, send_reply
from resonanz.inbox.models import Conversation, Message
from tests.conftest import inbound

from . import samples


@pytest.fixture(autouse=True)
def in_english():
    """The messages are checked in English; the German ones are in the catalogue test."""
    with translation.override("en"):
        yield


PDF = b"%PDF-1.4\n% Rechnung\n" + b"x" * 2000
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_reply_with_files_is_a_mail_with_attachments(email_channel, mailbox, smtp, agent_user):
    mailbox.append(samples.plain())
    get_driver(email_channel).poll()
    conversation = Conversation.objects.get()
    reply = send_reply(conversation, agent_user, "Anbei die Rechnung und ein Foto.",
                       files=[{"filename": "../../Rechnung 42.pdf", "content": PDF},
                              {"filename": "foto.png", "content": PNG}])
    stored = list(reply.attachments.order_by("id"))
    assert [(a.filename, a.content_type, a.size) for a in stored] == [
        ("Rechnung 42.pdf", "application/pdf", len(PDF)), ("foto.png", "image/png", len(PNG))]
    reply = deliver(reply)
    assert reply.delivery_status == "sent", reply.delivery_detail
    [received] = smtp.messages
    sent = message_from_bytes(received.content, policy=policy.default)
    assert "Anbei die Rechnung" in sent.get_body(("plain",)).get_content()
    parts = {p.get_filename(): (p.get_content_type(), p.get_content()) for p in sent.iter_attachments()}
    assert parts["Rechnung 42.pdf"] == ("application/pdf", PDF)
    assert parts["foto.png"] == ("image/png", PNG)


def test_files_are_refused_before_sending_where_the_channel_cannot_carry_them(db, agent_user, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    channel = create_channel(kind="api", name="Shop-API")
    conversation = ingest(channel, inbound("f1", "kim@example.com")).conversation
    with pytest.raises(ActionError, match="cannot send file attachments"):
        send_reply(conversation, agent_user, "Anbei", files=[{"filename": "a.pdf", "content": PDF}])
    assert not Message.objects.filter(direction="outbound").exists()  # nothing queued


@pytest.mark.parametrize(("files", "message"), [
    ([{"filename": "tool.exe", "content": b"MZ..."}], "cannot be attached"),
    ([{"filename": "seite.html", "content": b"<script>"}], "cannot be attached"),
    ([{"filename": "leer.pdf", "content": b""}], "is empty"),
    ([{"filename": "gross.pdf", "content": b"x" * (10 * 1024 * 1024 + 1)}], "at most 10 MB"),
    ([{"filename": f"{i}.pdf", "content": b"x" * (3 * 1024 * 1024)} for i in range(7)], "at most 20 MB"),
    ([{"filename": f"{i}.txt", "content": b"x"} for i in range(11)], "At most 10 files"),
])
def test_file_limits_say_what_is_wrong(email_channel, mailbox, agent_user, files, message):
    mailbox.append(samples.plain())
    get_driver(email_channel).poll()
    with pytest.raises(ActionError, match=message):
        send_reply(Conversation.objects.get(), agent_user, "Anbei", files=files)


def test_api_reply_with_files_and_download(email_channel, mailbox, smtp, agent_user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    mailbox.append(samples.plain())
    get_driver(email_channel).poll()
    conversation = Conversation.objects.get()
    api = APIClient()
    api.force_authenticate(agent_user)
    answer = api.post(f"/api/conversations/{conversation.pk}/reply/", {
        "text": "Anbei die Rechnung.", "files": [SimpleUploadedFile("rechnung.pdf", PDF, "application/pdf")]},
        format="multipart")
    assert answer.status_code == 201, answer.content
    [attachment] = answer.json()["attachments"]
    assert attachment["filename"] == "rechnung.pdf" and attachment["size"] == len(PDF)
    download = api.get(attachment["download"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    assert "attachment" in download["Content-Disposition"]
    bad = api.post(f"/api/conversations/{conversation.pk}/reply/", {
        "text": "x", "files": [SimpleUploadedFile("x.exe", b"MZ", "application/octet-stream")]}, format="multipart")
    assert bad.status_code == 400 and "cannot be attached" in str(bad.json())
    # JSON replies without files work as before
    assert api.post(f"/api/conversations/{conversation.pk}/reply/", {"text": "Nur Text"},
                    format="json").status_code == 201
