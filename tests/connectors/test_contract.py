"""The channel contract: a new kind is one driver module; everything else picks it up from the registry.

The driver below lives only in this test module. Without a migration or any other change, an administrator
can create a channel of its kind (UI and API), the platform's pushed requests reach it at /hooks/<slug>/,
what it receives lands in the inbox and the listening stream through the one intake, and replies go out
through its ``send`` with the outcome recorded, signed the way it declares.
"""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from django.http import JsonResponse
from django.test import Client

from resonanz.connectors import drivers, intake
from resonanz.connectors.drivers.base import (
    DeliveryUpdate,
    Driver,
    InboundMessage,
    InboundPost,
    SendResult,
)
from resonanz.connectors.models import Channel
from resonanz.core.errors import ActionError
from resonanz.inbox.actions import send_reply
from resonanz.inbox.models import Conversation, Message
from resonanz.listening.models import Post

SENT: list[str] = []


class EchoDriver(Driver):
    """A made-up public network that pushes signed JSON and takes replies up to 40 characters."""

    label = "Echo network"
    identity_kind = "other"
    public = True
    signs_replies = True
    reply_limit = 40
    accepts_push = True

    def handle_request(self, request):
        secret = self.channel.credentials.get("secret", "").encode()
        expected = hmac.new(secret, request.body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, request.headers.get("X-Echo-Signature", "")):
            return JsonResponse({"error": "unauthorized"}, status=401)
        event = json.loads(request.body)
        if event["type"] == "mention":
            item = InboundMessage(external_id=event["id"], sender_handle=event["user"], text=event["text"],
                                  is_public=True)
        elif event["type"] == "post":
            item = InboundPost(external_id=event["id"], text=event["text"], author=event["user"])
        else:
            item = DeliveryUpdate(message_ids=[event["of"]], status=event["type"], source_id=event["id"])
        intake.submit(self.channel, [item])
        return JsonResponse({"ok": True})

    def send(self, message) -> SendResult:
        SENT.append(message.text)
        return SendResult("sent", external_id=f"echo-{len(SENT)}")


@pytest.fixture
def echo_kind():
    drivers.register("echo")(EchoDriver)
    yield "echo"
    drivers._REGISTRY.pop("echo", None)
    SENT.clear()


def push(client: Client, slug: str, event: dict, secret: str = "s3cret"):
    body = json.dumps(event).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return client.post(f"/hooks/{slug}/", body, content_type="application/json", HTTP_X_ECHO_SIGNATURE=signature)


def test_a_new_kind_is_one_module(echo_kind, admin_api, admin_user, agent_user, django_capture_on_commit_callbacks):
    created = admin_api.post("/api/channels/", {"kind": "echo", "name": "Echo", "credentials": {"secret": "s3cret"}},
                             format="json")
    assert created.status_code == 201, created.content
    channel_id = created.json()["id"]
    channel = Channel.objects.get(pk=channel_id)
    assert channel.sign_replies and channel.kind_label == "Echo network"
    assert ("echo", "Echo network") in drivers.choices()

    client = Client()
    assert push(client, channel.slug, {"type": "mention", "id": "e1", "user": "ana", "text": "Hi"}, "wrong") \
        .status_code == 401
    assert push(client, channel.slug, {"type": "mention", "id": "e1", "user": "ana", "text": "Hi"}).status_code == 200
    assert push(client, channel.slug, {"type": "mention", "id": "e1", "user": "ana", "text": "Hi"}).status_code == 200
    message = Message.objects.get(channel=channel)  # redelivered, stored once
    assert message.is_public and Conversation.objects.filter(channel=channel).count() == 1

    push(client, channel.slug, {"type": "post", "id": "p1", "user": "bo", "text": "Echo is great"})
    assert Post.objects.get(channel=channel).author == "bo"

    with django_capture_on_commit_callbacks(execute=True):  # delivery runs once the reply is committed
        reply = send_reply(message.conversation, agent_user, "Thanks!")
    reply.refresh_from_db()
    assert SENT == ["Thanks! ^BB"] and reply.delivery_status == "sent" and reply.external_id == "echo-1"
    with pytest.raises(ActionError, match="at most 40"):  # the driver's declared limit, before anything is queued
        send_reply(message.conversation, agent_user, "A reply far longer than this network takes in one go.")
    push(client, channel.slug, {"type": "read", "id": "r1", "of": "echo-1"})
    reply.refresh_from_db()
    assert "read" in reply.meta["receipts"]
    assert reply.conversation.events.filter(kind="delivery_read").count() == 1

    admin = Client()
    admin.force_login(admin_user)
    page = admin.get(f"/inbox/settings/channels/{channel.pk}/").content.decode()
    assert "Echo network" in page and f"/hooks/{channel.slug}/" in page
    assert '<option value="echo">Echo network</option>' in admin.get("/inbox/settings/channels/").content.decode()


def test_unknown_kinds_are_refused(admin_api, db):
    response = admin_api.post("/api/channels/", {"kind": "carrier-pigeon", "name": "Tauben"}, format="json")
    assert response.status_code == 400 and "kind" in response.json()
    assert Client().post("/hooks/nothing-here/", b"{}", content_type="application/json").status_code == 404
