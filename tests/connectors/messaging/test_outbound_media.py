"""Agents' files in replies on the messaging platforms: each platform's upload flow and limits, and a clear
refusal (before anything is queued) where a platform cannot take a file; against the local documented servers."""

from __future__ import annotations

import pytest

from resonanz.connectors.models import Channel
from resonanz.core.errors import ActionError
from resonanz.inbox.actions import send_reply
from resonanz.inbox.delivery import deliver
from resonanz.inbox.models import Conversation, Message
from tests.connectors.messaging.test_whatsapp import receive

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
PDF = b"%PDF-1.4\n" + b"x" * 500


def image(**extra) -> dict:
    return {"filename": "lageplan.png", "content_type": "image/png", "content": PNG, "alt": "", **extra}


def pdf(**extra) -> dict:
    return {"filename": "rechnung.pdf", "content_type": "application/pdf", "content": PDF, **extra}


def test_whatsapp_uploads_then_sends_image_and_document_with_the_text_as_caption(wa_channel, whatsapp, agent_user):
    receive(wa_channel, whatsapp)
    reply = deliver(send_reply(Conversation.objects.get(), agent_user, "Hier Plan und Rechnung.",
                               images=[image(), pdf()]))
    assert reply.delivery_status == "sent", reply.delivery_detail
    assert [u["mime"] for u in whatsapp.uploads] == ["image/png", "application/pdf"]
    photo, document = whatsapp.sent[-2:]
    assert photo["type"] == "image" and photo["image"] == {"id": whatsapp.uploads[0]["id"],
                                                           "caption": "Hier Plan und Rechnung."}
    assert document["type"] == "document" and document["document"] == {"id": whatsapp.uploads[1]["id"],
                                                                       "filename": "rechnung.pdf"}
    assert whatsapp.media[whatsapp.uploads[1]["id"]][0] == PDF
    assert {a.filename for a in Message.objects.get(pk=reply.pk).attachments.all()} == {"lageplan.png", "rechnung.pdf"}


def test_whatsapp_limits_are_refused_before_queueing(wa_channel, whatsapp, agent_user):
    receive(wa_channel, whatsapp)
    conversation = Conversation.objects.get()
    with pytest.raises(ActionError, match="only as image/jpeg, image/png"):
        send_reply(conversation, agent_user, "GIF", images=[image(filename="a.gif", content_type="image/gif")])
    with pytest.raises(ActionError, match="at most 5 MB"):
        send_reply(conversation, agent_user, "Groß", images=[image(content=PNG + b"0" * (5 * 1024 * 1024))])
    with pytest.raises(ActionError, match="only as"):
        send_reply(conversation, agent_user, "exe", images=[pdf(filename="x.exe", content_type="application/x-msdownload")])
    assert not Message.objects.filter(direction="outbound").exists() and not whatsapp.uploads


def test_whatsapp_long_text_goes_first_then_the_file(wa_channel, whatsapp, agent_user):
    receive(wa_channel, whatsapp)
    text = "Lang. " * 300
    reply = deliver(send_reply(Conversation.objects.get(), agent_user, text, images=[pdf()]))
    assert reply.delivery_status == "sent"
    assert whatsapp.sent[-2]["type"] == "text" and whatsapp.sent[-1]["type"] == "document"
    assert "caption" not in whatsapp.sent[-1]["document"]


def test_whatsapp_upload_refused_by_the_platform_fails_with_its_reason(wa_channel, whatsapp, agent_user):
    receive(wa_channel, whatsapp)
    whatsapp.revoke()
    reply = deliver(send_reply(Conversation.objects.get(), agent_user, "Plan", images=[image()]))
    assert Message.objects.get(pk=reply.pk).delivery_status == "queued"  # retried once a new token is saved
    assert "access token refused" in Channel.objects.get(pk=wa_channel.pk).last_error and not whatsapp.uploads


def test_telegram_sends_photo_with_caption_and_document_as_multipart(tg_channel, telegram, agent_user):
    from tests.connectors.messaging.test_telegram import push
    push(tg_channel, telegram.update())
    reply = deliver(send_reply(Conversation.objects.get(), agent_user, "Foto und PDF", images=[image(), pdf()]))
    assert reply.delivery_status == "sent", reply.delivery_detail
    photo, document = telegram.sent[-2:]
    assert photo["_method"] == "sendPhoto" and photo["caption"] == "Foto und PDF" and photo["_file"][1] == PNG
    assert document["_method"] == "sendDocument" and "caption" not in document
    assert document["_file"] == ("rechnung.pdf", PDF, "application/pdf")


def test_telegram_document_limit_is_50_mb(tg_channel, telegram, agent_user):
    from tests.connectors.messaging.test_telegram import push
    push(tg_channel, telegram.update())
    with pytest.raises(ActionError, match="at most 50 MB"):
        send_reply(Conversation.objects.get(), agent_user, "Groß", images=[pdf(content=PDF * (51 * 2048))])


def test_messenger_sends_the_text_then_uploads_each_file(fb_channel, messenger, agent_user):
    from tests.connectors.messaging.test_messenger import now_ms, post
    post(fb_channel, messenger, messenger.notification("page_message", timestamp=now_ms()))
    reply = deliver(send_reply(Conversation.objects.get(), agent_user, "Anbei", images=[image(), pdf()]))
    assert reply.delivery_status == "sent", reply.delivery_detail
    text, photo, document = messenger.sent[-3:]
    assert text["message"] == {"text": "Anbei"}
    assert photo["message"]["attachment"]["type"] == "image" and photo["_files"]["filedata"][1] == PNG
    assert document["message"]["attachment"]["type"] == "file"
    assert document["_files"]["filedata"] == ("rechnung.pdf", PDF, "application/pdf")
    assert photo["recipient"] == text["recipient"] and photo["messaging_type"] == "RESPONSE"


def test_messenger_comment_replies_refuse_files_clearly(fb_channel, messenger, agent_user):
    from tests.connectors.messaging.test_messenger import post
    post(fb_channel, messenger, messenger.comment("page", text="Foto?"))
    with pytest.raises(ActionError, match="carry text only"):  # refused before it is queued
        send_reply(Conversation.objects.get(), agent_user, "Hier", images=[image()])
    assert not Message.objects.filter(direction="outbound").exists()


def test_x_uploads_images_with_alt_text_onto_the_first_post_and_refuses_documents(x_channel, xapi, agent_user):
    from tests.connectors.messaging.test_x import documented as x_documented
    from tests.connectors.messaging.test_x import post as x_post
    x_post(x_channel, xapi, x_documented("tweet_create_event"))
    conversation = Conversation.objects.get()
    with pytest.raises(ActionError, match="cannot send documents"):
        send_reply(conversation, agent_user, "PDF", images=[pdf()])
    with pytest.raises(ActionError, match="alt text"):
        send_reply(conversation, agent_user, "Bild", images=[image()])
    reply = deliver(send_reply(conversation, agent_user, "So sieht es aus. " * 20,
                               images=[image(alt="Lageplan des Ladens")]))
    assert reply.delivery_status == "sent", reply.delivery_detail
    (media_id, media), = xapi.media.items()
    assert media["category"] == "tweet_image" and media["alt"] == "Lageplan des Ladens" and media["content"] == PNG
    assert xapi.tweets[-2]["media"] == {"media_ids": [media_id]} and "media" not in xapi.tweets[-1]


def test_x_direct_message_carries_one_image(x_channel, xapi, agent_user):
    from tests.connectors.messaging.test_x import documented as x_documented
    from tests.connectors.messaging.test_x import post as x_post
    x_post(x_channel, xapi, x_documented("direct_message_event"))
    conversation = Conversation.objects.get()
    with pytest.raises(ActionError, match="carries one image"):
        send_reply(conversation, agent_user, "Zwei", images=[image(alt="a"), image(alt="b")])
    reply = deliver(send_reply(conversation, agent_user, "Eins", images=[image(alt="Quittung")]))
    assert reply.delivery_status == "sent", reply.delivery_detail
    (media_id, media), = xapi.media.items()
    assert media["category"] == "dm_image" and xapi.dms[-1][1]["attachments"] == [{"media_id": media_id}]


def test_reply_form_takes_a_document_and_an_image_without_alt_on_whatsapp(wa_channel, whatsapp, agent_user):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client
    receive(wa_channel, whatsapp)
    conversation = Conversation.objects.get()
    client = Client()
    client.force_login(agent_user)
    page = client.get(f"/inbox/conversations/{conversation.pk}/").content.decode()
    assert "Bild oder Dokument anhängen" in page and 'name="document"' in page and 'name="image_alt"' not in page
    assert "Bilder bis 5 MB · Dokumente bis 100 MB" in page
    client.post(f"/inbox/conversations/{conversation.pk}/reply/", {
        "text": "Anbei", "image": SimpleUploadedFile("plan.png", PNG, "image/png"),
        "document": SimpleUploadedFile("rechnung.pdf", PDF, "application/pdf")})
    reply = Message.objects.get(direction="outbound")
    assert sorted(a.content_type for a in reply.attachments.all()) == ["application/pdf", "image/png"]
    fake = client.post(f"/inbox/conversations/{conversation.pk}/reply/", {
        "text": "Fake", "document": SimpleUploadedFile("virus.pdf", b"MZ\x90\x00", "application/pdf")}, follow=True)
    assert "kein PDF" in fake.content.decode() and Message.objects.filter(direction="outbound").count() == 1
    exe = client.post(f"/inbox/conversations/{conversation.pk}/reply/", {
        "text": "Exe", "document": SimpleUploadedFile("setup.exe", b"MZ\x90\x00", "application/octet-stream")},
        follow=True)
    assert "WhatsApp Business" in exe.content.decode() and Message.objects.filter(direction="outbound").count() == 1
