"""Conversations started by machine-generated messages wait in the filtered view; a person's message
releases them, and the API lists them only on request."""

from __future__ import annotations

import pytest

from resonanz.inbox.actions import ingest
from resonanz.inbox.models import Conversation
from tests.conftest import inbound

pytestmark = pytest.mark.django_db


def test_a_person_writing_releases_a_filtered_conversation(api_channel):
    first = ingest(api_channel, inbound("n1", "ops@kunde.example", "Job 17 failed",
                                        meta={"noise": {"kind": "auto_generated", "reason": "no-reply sender"}}))
    conversation = Conversation.objects.get(pk=first.conversation.pk)
    assert conversation.filtered == "auto_generated" and not conversation.waiting_for_us
    again = ingest(api_channel, inbound("n2", "ops@kunde.example", "Job 17 failed again",
                                        meta={"noise": {"kind": "auto_generated", "reason": "no-reply sender"}}))
    assert again.conversation.pk == conversation.pk
    conversation.refresh_from_db()
    assert conversation.filtered == "auto_generated"  # more notices keep it filtered
    ingest(api_channel, inbound("n3", "ops@kunde.example", "Hello, this is Olaf from ops: can you help?"))
    conversation.refresh_from_db()
    assert conversation.filtered == "" and conversation.waiting_for_us
    assert conversation.events.filter(kind="unfiltered").count() == 1


def test_the_api_lists_the_filtered_view_on_request(api, api_channel):
    ingest(api_channel, inbound("b1", "mailer-daemon@mx.example", "Delivery failed",
                                meta={"noise": {"kind": "bounce", "reason": "550 no such user"}}))
    ingest(api_channel, inbound("h1", "kunde@example.com", "Wo bleibt meine Bestellung?"))
    assert [c["filtered"] for c in api.get("/api/conversations/").json()["results"]] == [""]
    only = api.get("/api/conversations/?filtered=only").json()["results"]
    assert [(c["filtered"], c["filtered_reason"]) for c in only] == [("bounce", "550 no such user")]
    assert len(api.get("/api/conversations/?filtered=all").json()["results"]) == 2
