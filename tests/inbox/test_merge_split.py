"""Merging conversations (undo included) and splitting messages off, through the actions and the API."""

from __future__ import annotations

import pytest
from django.utils import translation
from rest_framework.test import APIClient

from resonanz.connectors.actions import create_channel
from resonanz.core.errors import ActionError
from resonanz.core.models import AuditEntry
from resonanz.inbox import actions
from resonanz.inbox.models import Conversation, ConversationEvent, Message
from tests.conftest import inbound

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def in_english():
    """Messages are matched in English here (an earlier test may have left German active)."""
    with translation.override("en"):
        yield


@pytest.fixture
def agent():
    return actions.invite_agent("anna@example.com", display_name="Anna", role="agent", password="pw-anna-12345")


@pytest.fixture
def pair(agent):
    """Two conversations of one customer: the first resolved before the second mail came."""
    channel = create_channel(kind="api", name="API")
    first = actions.ingest(channel, inbound("a1", "kim@example.com", subject="Lieferung", text="Wo bleibt mein Paket?"))
    actions.send_reply(first.conversation, agent, "Es ist unterwegs.")
    actions.update_conversation(first.conversation, agent, status="resolved")
    second = actions.ingest(channel, inbound("a2", "kim@example.com", subject="Nochmal Lieferung",
                                             text="Das Paket ist immer noch nicht da."))
    assert second.conversation.pk != first.conversation.pk
    return first.conversation, second.conversation, channel


def test_merge_moves_messages_closes_the_source_with_a_link_and_can_be_undone(agent, pair):
    source, target, _channel = pair
    moved = set(source.messages.values_list("pk", flat=True))
    actions.merge_conversations(source, target, agent)
    source.refresh_from_db()
    target.refresh_from_db()
    assert set(target.messages.values_list("pk", flat=True)) >= moved
    assert target.message_count == 3 and source.message_count == 0
    assert source.status == "closed" and source.merged_into_id == target.pk
    assert target.created_at <= source.created_at and target.waiting_for_us
    assert ConversationEvent.objects.filter(conversation=source, kind="merged_into").exists()
    assert ConversationEvent.objects.get(conversation=target, kind="merged").data["source"] == source.pk
    assert AuditEntry.objects.filter(action="conversation.merge", target_id=str(target.pk)).exists()
    actions.unmerge_conversation(source, agent)
    source.refresh_from_db()
    target.refresh_from_db()
    assert set(source.messages.values_list("pk", flat=True)) == moved
    assert source.status == "resolved" and source.merged_into_id is None
    assert target.message_count == 1
    assert AuditEntry.objects.filter(action="conversation.unmerge").exists()


def test_merge_refuses_itself_other_customers_and_merged_ones(agent, pair):
    source, target, channel = pair
    with pytest.raises(ActionError, match="itself"):
        actions.merge_conversations(source, source, agent)
    other = actions.ingest(channel, inbound("b1", "lou@example.com", subject="Rechnung")).conversation
    with pytest.raises(ActionError, match="different contacts"):
        actions.merge_conversations(source, other, agent)
    actions.merge_conversations(source, target, agent)
    with pytest.raises(ActionError, match="already"):
        actions.merge_conversations(source, target, agent)
    with pytest.raises(ActionError, match="not merged"):
        actions.unmerge_conversation(target, agent)


def test_a_customer_answering_the_merged_ticket_lands_in_the_target(agent, pair):
    source, target, channel = pair
    actions.merge_conversations(source, target, agent)
    answer = actions.ingest(channel, inbound("a3", "kim@example.com", subject=f"Re: Lieferung [{source.reference}]",
                                             text="Danke, ist angekommen."))
    assert answer.conversation.pk == target.pk
    # and one answering a message that moved (a reply reference) too
    ref = actions.ingest(channel, inbound("a4", "kim@example.com", text="Noch etwas", in_reply_to="a1"))
    assert ref.conversation.pk == target.pk


def test_split_moves_the_selected_messages_into_a_new_conversation(agent, pair):
    source, target, channel = pair
    extra = actions.ingest(channel, inbound("a5", "kim@example.com", text="Und: wie ändere ich meine Adresse?"))
    assert extra.conversation.pk == target.pk
    new = actions.split_conversation(target, [extra.message.pk], agent, subject="Adresse ändern")
    assert new.pk != target.pk and new.subject == "Adresse ändern"
    assert list(new.messages.values_list("pk", flat=True)) == [extra.message.pk]
    assert (new.contact_id, new.channel_id, new.status) == (target.contact_id, target.channel_id, "open")
    target.refresh_from_db()
    assert target.message_count == 1 and new.message_count == 1
    assert ConversationEvent.objects.filter(conversation=target, kind="split", data__into=new.pk).exists()
    assert ConversationEvent.objects.filter(conversation=new, kind="split_from").exists()
    with pytest.raises(ActionError, match="at least one"):
        actions.split_conversation(new, [extra.message.pk], agent)
    with pytest.raises(ActionError, match="not part"):
        actions.split_conversation(target, [extra.message.pk], agent)
    with pytest.raises(ActionError, match="Select"):
        actions.split_conversation(target, [], agent)


def test_api_merge_unmerge_and_split(agent, pair):
    source, target, channel = pair
    api = APIClient()
    api.force_authenticate(agent)
    bad = api.post(f"/api/conversations/{source.pk}/merge/", {"into": source.pk}, format="json")
    assert bad.status_code == 400 and "itself" in str(bad.json())
    assert api.post(f"/api/conversations/{source.pk}/merge/", {"into": 999999}, format="json").status_code == 400
    assert api.post(f"/api/conversations/{source.pk}/merge/", {"into": "x"}, format="json").status_code == 400
    done = api.post(f"/api/conversations/{source.pk}/merge/", {"into": target.pk}, format="json")
    assert done.status_code == 200 and done.json()["message_count"] == 3
    assert api.get(f"/api/conversations/{source.pk}/").json()["merged_into"] == target.pk
    back = api.post(f"/api/conversations/{source.pk}/unmerge/")
    assert back.status_code == 200 and back.json()["merged_into"] is None
    msg = Message.objects.filter(conversation=source, direction="outbound").first()
    split = api.post(f"/api/conversations/{source.pk}/split/", {"messages": [msg.pk]}, format="json")
    assert split.status_code == 201, split.json()
    assert Conversation.objects.get(pk=split.json()["id"]).messages.get().pk == msg.pk
    assert api.post(f"/api/conversations/{source.pk}/split/", {"messages": []}, format="json").status_code == 400


def test_undo_finds_the_messages_after_the_target_was_merged_on(agent, pair):
    source, target, channel = pair
    third = actions.ingest(channel, inbound("c1", "kim@example.com", subject="Drittes", text="Noch eine Frage")).conversation
    assert third.pk == target.pk  # the open conversation takes it; make a real third one
    actions.update_conversation(target, agent, status="resolved")
    third = actions.ingest(channel, inbound("c2", "kim@example.com", subject="Drittes", text="Neue Frage")).conversation
    moved = set(source.messages.values_list("pk", flat=True))
    actions.merge_conversations(source, target, agent)
    actions.merge_conversations(target, third, agent)
    actions.unmerge_conversation(source, agent)
    assert set(Message.objects.filter(conversation=source).values_list("pk", flat=True)) == moved
    third.refresh_from_db()
    assert third.message_count == Message.objects.filter(conversation=third).count() == 3


def test_a_merged_conversation_takes_no_reply(agent, pair):
    source, target, _channel = pair
    actions.merge_conversations(source, target, agent)
    source.refresh_from_db()
    with pytest.raises(ActionError, match="reply there") as refused:
        actions.send_reply(source, agent, "Hallo")
    assert refused.value.status == 409
