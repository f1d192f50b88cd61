"""Files both ways, typing both ways, the queue while waiting for a person, the satisfaction question, and the
proactive invitations' settings: each as the widget's endpoints answer them."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from resonanz.connectors.actions import update_channel
from resonanz.core.errors import ActionError
from resonanz.inbox import typing
from resonanz.inbox.actions import send_reply, update_conversation
from resonanz.inbox.models import Attachment, Conversation, Message
from resonanz.insights.models import Survey
from resonanz.knowledge.bot import HANDOVER_TAG
from tests.chat.conftest import SITE, Widget

pytestmark = pytest.mark.django_db

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa75\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")


def png(width: int = 160, height: int = 90, rgb: tuple = (31, 95, 191)) -> bytes:
    """A real PNG of one colour (what a screenshot from a customer would be, only smaller)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def upload(widget, name, content, content_type, client_id="f1", text=""):
    data = {"file": SimpleUploadedFile(name, content, content_type=content_type), "client_id": client_id}
    if text:
        data["text"] = text
    return widget.client.post(widget.url("upload/"), data=data, **widget.headers())


def test_a_visitors_image_is_stored_as_an_attachment_and_shown_back_by_a_signed_address(widget):
    widget.start()
    response = upload(widget, "screenshot.png", PNG, "image/png", text="So sieht der Fehler aus")
    assert response.status_code == 201, response.content
    files = response.json()["message"]["files"]
    assert [(f["name"], f["image"], f["size"]) for f in files] == [("screenshot.png", True, len(PNG))]
    attachment = Attachment.objects.get()
    assert attachment.message.text == "So sieht der Fehler aus" and attachment.message.direction == "inbound"
    assert attachment.file.read() == PNG
    shown = widget.client.get(widget.url(f"files/{files[0]['key']}/"))  # an <img> sends no token and maybe no origin
    assert shown.status_code == 200 and shown["Content-Type"] == "image/png"
    assert b"".join(shown.streaming_content) == PNG
    assert "sandbox" in shown["Content-Security-Policy"]
    assert widget.client.get(widget.url(f"files/{attachment.pk}/")).status_code == 404  # a guessed id is no key
    again = upload(widget, "screenshot.png", PNG, "image/png", text="So sieht der Fehler aus")  # a resend
    assert again.json()["message"]["id"] == response.json()["message"]["id"] and Attachment.objects.count() == 1


@pytest.mark.parametrize("name,content,content_type,status,error", [
    ("virus.exe", b"MZ\x90\x00" + b"\x00" * 100, "application/x-msdownload", 415, "only images"),
    ("fake.png", b"MZ\x90\x00" + b"\x00" * 100, "image/png", 415, "only images"),  # renamed program
    ("page.html", b"<script>alert(1)</script>", "text/html", 415, "only images"),
    ("logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml", 415, "only images"),
    ("empty.txt", b"", "text/plain", 400, "empty"),
    # over the channel's 1 MB (less the room the server keeps for the form), under the server's request limit
    ("big.pdf", b"%PDF-" + b"x" * 1_040_000, "application/pdf", 413, "at most 1.0 MB"),
])
def test_files_outside_the_limits_are_refused_with_a_reason(widget, name, content, content_type, status, error):
    update_channel(widget_channel(widget), settings={**widget_channel(widget).settings, "max_upload_mb": 1})
    widget.start()
    response = upload(widget, name, content, content_type)
    assert response.status_code == status and error in response.json()["error"]
    assert response["Access-Control-Allow-Origin"] == SITE  # the widget can read the reason
    assert not Message.objects.exists()


def test_pdf_and_text_files_are_downloads_never_pages(widget):
    widget.start()
    key = upload(widget, "rechnung.pdf", b"%PDF-1.4\n%...", "application/pdf").json()["message"]["files"][0]["key"]
    response = widget.client.get(widget.url(f"files/{key}/"))
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith('attachment; filename="rechnung.pdf"')


def test_uploads_need_a_token_and_are_rate_limited(widget):
    assert upload(widget, "a.png", PNG, "image/png").status_code == 401
    widget.start()
    codes = [upload(widget, "a.png", PNG, "image/png", client_id=f"f{i}").status_code for i in range(12)]
    assert codes[:10] == [201] * 10 and codes[10:] == [429, 429]


def test_an_agents_image_reply_reaches_the_widget(widget, agent_user, django_capture_on_commit_callbacks):
    widget.start()
    widget.say("Wo finde ich die Seriennummer?", "c1")
    with django_capture_on_commit_callbacks(execute=True):
        send_reply(Conversation.objects.get(), agent_user, "Hier, auf der Rückseite:",
                   images=[{"filename": "rueckseite.png", "content_type": "image/png", "content": PNG,
                            "alt": "Rückseite des Geräts mit markierter Seriennummer"}])
    reply = widget.get("messages/").json()["messages"][-1]
    assert reply["from"] == "agent" and reply["files"][0]["alt"].startswith("Rückseite des Geräts")
    assert widget.client.get(widget.url(f"files/{reply['files'][0]['key']}/")).status_code == 200


def test_typing_goes_both_ways_and_the_preview_only_where_the_channel_allows_it(widget, agent_user):
    widget.start(name="Vera")
    widget.say("Hallo", "c1")
    conversation = Conversation.objects.get()
    assert widget.post("typing/", {"text": "Meine Bestellnummer ist"}).json() == {"typing": True}
    assert typing.typing(conversation.pk, "customer") == {"name": "Vera", "preview": "", "at": pytest.approx(
        typing.typing(conversation.pk, "customer")["at"])}
    update_channel(widget_channel(widget), settings={**widget_channel(widget).settings, "typing_preview": True})
    widget.post("typing/", {"text": "Meine Bestellnummer ist"})
    assert typing.typing(conversation.pk, "customer")["preview"] == "Meine Bestellnummer ist"
    widget.say("Meine Bestellnummer ist 4711", "c2")  # sending ends the signal
    assert typing.typing(conversation.pk, "customer") is None
    assert widget.get("messages/").json()["state"]["typing"] == ""
    typing.note_typing(conversation.pk, "agent", name="Berta Beispiel")
    assert widget.get("messages/").json()["state"]["typing"] == "Berta Beispiel"


def test_a_visitor_waiting_for_a_person_sees_the_queue_position_and_the_expected_wait(chat_channel, agent_user):
    visitors = [Widget(chat_channel.slug) for _ in range(3)]
    for i, visitor in enumerate(visitors):
        visitor.start()
        visitor.say("Ich möchte mit einem Mitarbeiter sprechen.", f"c{i}")
    for conversation in Conversation.objects.order_by("id"):
        update_conversation(conversation, None, tags=[HANDOVER_TAG])
    assert visitors[0].get("messages/").json()["state"]["queue"] == {"position": 1, "minutes": 3}
    assert visitors[2].get("messages/").json()["state"]["queue"] == {"position": 3, "minutes": 9}
    send_reply(Conversation.objects.order_by("id").first(), agent_user, "Guten Tag, Berta hier.")
    state = visitors[2].get("messages/").json()["state"]
    assert state["queue"]["position"] == 2
    assert visitors[0].get("messages/").json()["state"]["queue"] is None  # a person answers them now


def test_the_satisfaction_answer_lands_in_the_conversations_survey(widget, agent_user):
    widget.start()
    widget.say("Hallo", "c1")
    conversation = Conversation.objects.get()
    assert widget.post("rating/", {"conversation": conversation.pk, "rating": 5}).status_code == 409
    send_reply(conversation, agent_user, "Erledigt!", status="resolved")
    state = widget.get("messages/").json()["state"]
    assert state["rating"] == {"conversation": conversation.pk, "rating": None, "comment": False}
    assert widget.post("rating/", {"conversation": conversation.pk, "rating": 9}).status_code == 400
    assert widget.post("rating/", {"conversation": conversation.pk, "rating": 4}).json() == \
        {"rating": 4, "comment": False}
    assert widget.post("rating/", {"conversation": conversation.pk, "rating": 4,
                                   "comment": "Schnell und freundlich"}).status_code == 200
    survey = Survey.objects.get(conversation=conversation)
    assert (survey.rating, survey.comment) == (4, "Schnell und freundlich") and survey.answered_at
    assert widget.get("messages/").json()["state"]["rating"]["rating"] == 4
    other = Widget(widget.slug)
    other.start()
    assert other.post("rating/", {"conversation": conversation.pk, "rating": 1}).status_code == 404
    update_channel(widget_channel(widget), settings={**widget_channel(widget).settings, "satisfaction": False})
    assert widget.get("messages/").json()["state"]["rating"] is None


def test_invitations_are_validated_and_handed_to_the_widget_in_its_language(chat_channel, widget):
    rule = {"message": {"de": "Fragen zum Preis?", "en": "Questions about pricing?"}, "url": "*/pricing*",
            "after_seconds": 20, "min_pages": 2, "returning": True}
    update_channel(chat_channel, settings={**chat_channel.settings, "invitations": [rule],
                                           "invitation_period_hours": 48})
    data = widget.get("config/?lang=de").json()
    assert data["invitations"] == [{"message": "Fragen zum Preis?", "url": "*/pricing*", "after_seconds": 20,
                                    "min_pages": 2, "returning": True}]
    assert data["invitation_period_hours"] == 48 and data["upload"]["max_bytes"] > 0
    for bad, field in [({"message": ""}, "message"), ({"message": "Hi", "after_seconds": -1}, "after_seconds"),
                       ({"message": "Hi", "colour": "red"}, "invitations[0]")]:
        with pytest.raises(ActionError, match=field.replace("[", r"\[").replace("]", r"\]")):
            update_channel(chat_channel, settings={**chat_channel.settings, "invitations": [bad]})


def widget_channel(widget):
    from resonanz.connectors.models import Channel

    return Channel.objects.get(slug=widget.slug)




def test_the_agents_conversation_page_shows_the_visitor_typing_and_tells_the_widget_the_agent_is(widget, agent_user):
    from django.test import Client

    widget.start(name="Vera")
    widget.say("Hallo", "c1")
    conversation = Conversation.objects.get()
    update_channel(widget_channel(widget), settings={**widget_channel(widget).settings, "typing_preview": True})
    widget.post("typing/", {"text": "Die Rechnung"})
    desk = Client()
    desk.force_login(agent_user)
    data = desk.post(f"/inbox/conversations/{conversation.pk}/presence/", {"typing": "1"}).json()
    assert data["customer"]["preview"] == "Die Rechnung"
    assert widget.get("messages/").json()["state"]["typing"] == "Berta Beispiel"
    widget.post("typing/", {"typing": False})
    assert desk.post(f"/inbox/conversations/{conversation.pk}/presence/", {"typing": "0"}).json()["customer"] is None


def test_a_reply_delivered_after_a_newer_line_is_not_skipped(widget, agent_user):
    """The cursor waits before a reply that is still queued, so a line shown meanwhile does not jump over it."""
    from resonanz.inbox.delivery import deliver_message

    widget.start()
    widget.say("Hallo", "c1")
    reply = send_reply(Conversation.objects.get(), agent_user, "Moment bitte")  # queued: not delivered yet
    widget.say("Noch da?", "c2")
    data = widget.get("messages/?after=0").json()
    assert [m["text"] for m in data["messages"]] == ["Hallo", "Noch da?"]
    assert data["cursor"] == reply.pk - 1
    deliver_message(reply.pk)
    later = widget.get(f"messages/?after={data['cursor']}").json()
    assert "Moment bitte" in [m["text"] for m in later["messages"]]
    assert later["cursor"] == max(m["id"] for m in later["messages"])
