"""The widget's endpoints: every one answers the allowed site, refuses others, and bad input gets a 4xx."""

from __future__ import annotations

import pytest

from resonanz.connectors.actions import create_channel, update_channel
from resonanz.crm.models import Identity
from resonanz.inbox.actions import ingest, send_reply
from resonanz.inbox.models import Conversation, Message
from tests.chat.conftest import SITE, Widget, sign
from tests.conftest import inbound

pytestmark = pytest.mark.django_db


def test_config_carries_the_channel_settings_with_cors_for_the_allowed_site(chat_channel, widget):
    update_channel(chat_channel, settings={**chat_channel.settings, "colour": "#aa3300", "position": "left",
                                           "greeting": {"en": "Hi there", "de": "Moin"}, "prechat": ["name"]})
    response = widget.get("config/?lang=de")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == SITE
    data = response.json()
    assert (data["greeting"], data["colour"], data["position"], data["prechat"], data["open"]) == \
        ("Moin", "#aa3300", "left", ["name"], True)
    assert widget.get("config/?lang=en").json()["greeting"] == "Hi there"


@pytest.mark.parametrize("path,method", [("config/", "get"), ("session/", "post"), ("messages/", "get"),
                                         ("messages/", "post"), ("read/", "post"), ("feedback/", "post"),
                                         ("leave-message/", "post")])
def test_every_endpoint_refuses_other_sites_without_cors_headers(widget, path, method):
    evil = Widget(widget.slug, origin="https://evil.example.net")
    evil.token = widget.start()["token"]
    response = evil.get(path) if method == "get" else evil.post(path, {"client_id": "a", "text": "hi"})
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response


def test_no_origin_and_no_referer_is_refused_and_a_preflight_is_answered(widget):
    assert widget.client.get(widget.url("config/")).status_code == 403
    response = widget.client.options(widget.url("messages/"), HTTP_ORIGIN=SITE,
                                     HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")
    assert response.status_code == 204
    assert "X-Resonanz-Chat" in response["Access-Control-Allow-Headers"]


def test_unknown_disabled_or_non_chat_channels_are_404(chat_channel, api_channel):
    assert Widget("nope").get("config/").status_code == 404
    assert Widget(api_channel.slug).get("config/").status_code == 404
    update_channel(chat_channel, enabled=False)
    assert Widget(chat_channel.slug).get("config/").status_code == 404


def test_a_visitor_line_enters_the_inbox_once_per_client_id(chat_channel, widget):
    widget.start(name="Vera Visitor")
    first = widget.say("Do you ship to Austria?", "c1")
    assert first.status_code == 201 and first.json()["ack"] == "c1"
    again = widget.say("Do you ship to Austria?", "c1")  # a resend after a network drop
    assert again.status_code == 201 and again.json()["message"]["id"] == first.json()["message"]["id"]
    message = Message.objects.get()
    assert message.channel == chat_channel and message.direction == "inbound"
    assert message.meta["chat"]["page"] == f"{SITE}/pricing"
    assert message.conversation.contact.name == "Vera Visitor"
    assert Identity.objects.get(contact=message.conversation.contact).kind == "chat"
    lines = widget.get("messages/").json()["messages"]
    assert [(m["from"], m["text"], m["client_id"]) for m in lines] == [("visitor", "Do you ship to Austria?", "c1")]


def test_agent_replies_reach_the_widget_and_read_receipts_come_back(chat_channel, widget, agent_user,
                                                                     django_capture_on_commit_callbacks):
    widget.start()
    widget.say("Hello?", "c1")
    conversation = Conversation.objects.get()
    assert widget.get("messages/").json()["state"] == {"handed_over": False, "agent": "", "status": "new",
                                                          "waiting": False, "queue": None, "typing": "",
                                                          "rating": None, "conversation": conversation.pk}
    with django_capture_on_commit_callbacks(execute=True):
        reply = send_reply(conversation, agent_user, "Hello, Berta here. How can I help?")
    reply.refresh_from_db()
    assert reply.delivery_status == "sent" and reply.external_id == f"chat-out-{reply.pk}"
    after = widget.get("messages/?after=0").json()
    agent_line = after["messages"][-1]
    assert (agent_line["from"], agent_line["name"]) == ("agent", "Berta Beispiel")
    assert after["state"]["handed_over"] and after["state"]["agent"] == "Berta Beispiel"
    assert widget.get(f"messages/?after={agent_line['id']}").json()["messages"] == []
    assert widget.post("read/", {"up_to": agent_line["id"]}).json() == {"read": 1}
    reply.refresh_from_db()
    assert "read" in reply.meta["receipts"]
    assert widget.post("read/", {"up_to": agent_line["id"]}).json() == {"read": 0}


def test_a_returning_visitor_keeps_the_history_and_nobody_else_can_read_it(chat_channel, widget):
    first = widget.start()
    widget.say("My order 4711 is late", "c1")
    again = widget.start(token=widget.token)
    assert again["visitor_id"] == first["visitor_id"]
    assert [m["text"] for m in widget.get("messages/").json()["messages"]] == ["My order 4711 is late"]
    stranger = Widget(chat_channel.slug)
    stranger.start()
    assert stranger.get("messages/").json()["messages"] == []
    forged = Widget(chat_channel.slug)
    forged.token = widget.token[:-3] + ("abc" if not widget.token.endswith("abc") else "xyz")
    assert forged.get("messages/").status_code == 401
    assert forged.post("session/", {"token": forged.token}).status_code == 401
    other = create_channel(kind="chat", name="Other chat", settings={"allowed_origins": [SITE]})
    elsewhere = Widget(other.slug)
    elsewhere.token = widget.token
    assert elsewhere.get("messages/").status_code == 401


def test_a_signed_user_id_meets_the_existing_contact_and_a_bad_signature_is_refused(chat_channel, widget,
                                                                                     api_channel):
    known = ingest(api_channel, inbound("m1", "kunde@example.com", text="Earlier question")).conversation.contact
    assert widget.post("session/", {"user_id": "kunde@example.com", "user_hash": sign("x")}).status_code == 403
    assert widget.post("session/", {"user_id": "kunde@example.com",
                                    "user_hash": sign("kunde@example.com", "wrong")}).status_code == 403
    data = widget.start(user_id="kunde@example.com", user_hash=sign("kunde@example.com"))
    assert data["identified"]
    widget.say("It's me again", "c1")
    assert Message.objects.get(channel=chat_channel).conversation.contact == known
    unsigned = Widget(chat_channel.slug)
    assert not unsigned.start(user_id="kunde@example.com")["identified"]
    unsigned.say("I claim to be kunde", "c2")
    assert Message.objects.get(channel=chat_channel, text="I claim to be kunde").conversation.contact != known
    assert [m["text"] for m in unsigned.get("messages/").json()["messages"]] == ["I claim to be kunde"]


@pytest.mark.parametrize("body,status", [
    ({"client_id": "c1", "text": "x" * 2001}, 413),
    ({"client_id": "c1", "text": ""}, 400),
    ({"client_id": "c1", "text": 5}, 400),
    ({"client_id": "../../etc", "text": "hi"}, 400),
    ({"client_id": "x" * 65, "text": "hi"}, 400),
    ({"text": "hi"}, 400),
    ([1, 2], 400),
])
def test_bad_lines_get_a_4xx(widget, body, status):
    widget.start()
    assert widget.post("messages/", body).status_code == status
    assert not Message.objects.exists()


def test_bad_bodies_and_tokens_get_a_4xx(widget):
    assert widget.post("session/", raw=b"{not json").status_code == 400
    assert widget.post("session/", raw=b"x" * 20000).status_code == 413
    assert widget.post("session/", {"email": "not-an-address"}).status_code == 400
    assert widget.post("session/", {"name": "n" * 201}).status_code == 413
    assert widget.post("session/", {"token": 12}).status_code == 401
    assert widget.get("messages/").status_code == 401  # no token yet
    widget.start()
    assert widget.get("messages/?after=abc").status_code == 400
    assert widget.post("read/", {"up_to": "7"}).status_code == 400
    assert widget.post("feedback/", {"message_id": 1}).status_code == 400
    assert widget.post("feedback/", {"message_id": 99999, "helpful": True}).status_code == 404
    assert widget.client.put(widget.url("messages/"), HTTP_ORIGIN=SITE).status_code == 405


def test_lines_are_rate_limited_per_visitor(widget):
    widget.start()
    codes = [widget.say(f"line {n}", f"c{n}").status_code for n in range(22)]
    assert codes[:19] == [201] * 19 and codes[-1] == 429
    assert widget.post("read/", {"up_to": 1}).status_code == 200  # reading has a budget of its own


def test_outside_business_hours_a_left_message_becomes_an_email_conversation(chat_channel, widget):
    update_channel(chat_channel, settings={**chat_channel.settings, "hours": {"sun": ["00:00", "00:01"]}})
    config = widget.get("config/").json()
    assert config["open"] is False
    form = {"form_token": config["form_token"]}  # signed when the widget loaded (the time check)
    response = widget.post("leave-message/", {"client_id": "l1", "name": "Lena", "email": "lena@example.com",
                                              "text": "Please call me back about my contract.", **form})
    assert response.status_code == 201
    widget.post("leave-message/", {"client_id": "l1", "name": "Lena", "email": "lena@example.com",
                                   "text": "Please call me back about my contract.", **form})
    message = Message.objects.get()
    assert message.meta["chat"]["left_message"]
    assert Identity.objects.get(contact=message.conversation.contact).kind == "email"
    assert widget.post("leave-message/", {"client_id": "l2", "email": "nope", "text": "x", **form}).status_code == 400
    assert widget.post("leave-message/", {"client_id": "l3", "email": "a@b.de", "text": "", **form}).status_code == 400
