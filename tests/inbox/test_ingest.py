"""The single ingestion path: store first, idempotent, contact resolution, threading, pipeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from resonanz.core import pipeline
from resonanz.core.errors import ActionError
from resonanz.crm.models import Contact, Identity
from resonanz.inbox.actions import ingest, ingest_many, send_reply, update_conversation
from resonanz.inbox.models import Conversation, ConversationEvent, Message
from tests.conftest import inbound

pytestmark = pytest.mark.django_db


def test_first_message_creates_contact_identity_and_conversation(api_channel):
    result = ingest(api_channel, inbound("m1", "Kunde@Example.com", sender_name="Karl Kunde", subject="Lieferung"))
    assert result.created
    contact = Contact.objects.get(pk=result.contact_id)
    assert contact.name == "Karl Kunde"
    assert Identity.objects.get(contact=contact).handle == "kunde@example.com"
    conversation = result.conversation
    assert conversation.subject == "Lieferung"
    assert conversation.status == "new" and conversation.waiting_for_us
    assert conversation.message_count == 1
    assert list(conversation.events.values_list("kind", flat=True)) == ["created", "message_received"]


def test_redelivery_returns_same_ids_and_changes_nothing(api_channel):
    first = ingest(api_channel, inbound("m1"))
    again = ingest(api_channel, inbound("m1", text="a different body must not overwrite"))
    assert not again.created
    assert (again.message.pk, again.conversation.pk, again.contact_id) == (
        first.message.pk, first.conversation.pk, first.contact_id)
    assert Message.objects.count() == 1 and Conversation.objects.count() == 1
    assert Message.objects.get().text == "Hallo, meine Bestellung fehlt."


def test_same_external_id_on_another_channel_is_another_message(api_channel, form_channel):
    ingest(api_channel, inbound("m1"))
    ingest(form_channel, inbound("m1"))
    assert Message.objects.count() == 2


def test_second_message_threads_into_open_conversation(api_channel):
    a = ingest(api_channel, inbound("m1"))
    b = ingest(api_channel, inbound("m2", text="Noch eine Frage"))
    assert a.conversation.pk == b.conversation.pk
    assert b.conversation.message_count == 2


def test_explicit_reply_reference_wins_over_open_conversation(api_channel):
    old = ingest(api_channel, inbound("m1", subject="Rechnung"))
    update_conversation(old.conversation, None, status="resolved")
    newer = ingest(api_channel, inbound("m2", subject="Neues Thema"))
    assert newer.conversation.pk != old.conversation.pk
    reply = ingest(api_channel, inbound("m3", text="Zur Rechnung noch", in_reply_to="m1"))
    assert reply.conversation.pk == old.conversation.pk
    reply.conversation.refresh_from_db()
    assert reply.conversation.status == "open"  # the customer's answer reopens a resolved conversation


def test_ticket_reference_in_subject_threads(api_channel):
    first = ingest(api_channel, inbound("m1", subject="Frage"))
    update_conversation(first.conversation, None, status="resolved")
    ingest(api_channel, inbound("m2", subject="Neu"))
    again = ingest(api_channel, inbound("m3", subject=f"Re: Frage [{first.conversation.reference}]"))
    assert again.conversation.pk == first.conversation.pk


def test_closed_conversation_is_not_reopened(api_channel):
    first = ingest(api_channel, inbound("m1"))
    update_conversation(first.conversation, None, status="closed")
    later = ingest(api_channel, inbound("m2", in_reply_to="m1"))
    assert later.conversation.pk != first.conversation.pk


def test_other_sender_gets_other_conversation(api_channel):
    a = ingest(api_channel, inbound("m1", "a@example.com"))
    b = ingest(api_channel, inbound("m2", "b@example.com"))
    assert a.conversation.pk != b.conversation.pk and a.contact_id != b.contact_id


def test_reply_reference_of_another_contact_is_ignored(api_channel):
    a = ingest(api_channel, inbound("m1", "a@example.com"))
    b = ingest(api_channel, inbound("m2", "b@example.com", in_reply_to="m1"))
    assert b.conversation.pk != a.conversation.pk


@pytest.mark.parametrize("field,value", [("external_id", ""), ("text", "   "), ("sender_handle", "")])
def test_bad_input_is_refused_and_stores_nothing(api_channel, field, value):
    message = inbound("m1")
    setattr(message, field, value)
    with pytest.raises(ActionError):
        ingest(api_channel, message)
    assert Message.objects.count() == 0 and Contact.objects.count() == 0 and Conversation.objects.count() == 0


def test_future_sent_at_is_clamped(api_channel):
    result = ingest(api_channel, inbound("m1", sent_at=timezone.now() + timedelta(days=3)))
    assert result.message.sent_at <= timezone.now()


def test_hostile_html_is_sanitized_before_storage(api_channel):
    html = ('<p onclick="steal()">Hi<script>alert(1)</script></p><a href="javascript:alert(2)">x</a>'
            '<img src=x onerror=alert(3)><iframe src="https://evil"></iframe>')
    result = ingest(api_channel, inbound("m1", text="", html=html))
    stored = result.message.html
    for bad in ("<script", "onclick", "javascript:", "onerror", "<iframe", "alert(1)"):
        assert bad not in stored
    assert "Hi" in result.message.text


def test_pipeline_runs_steps_and_marks_done(api_channel, settings, django_capture_on_commit_callbacks):
    seen = []
    settings.RESONANZ_PIPELINE_STEPS = ["tests.inbox.test_ingest.record_step"]
    RECORDED.clear()
    with django_capture_on_commit_callbacks(execute=True):
        result = ingest(api_channel, inbound("m1"))
    seen = list(RECORDED)
    result.message.refresh_from_db()
    assert seen == [result.message.pk]
    assert result.message.pipeline_state == "done"


def test_message_whose_worker_crashed_is_finished_later(api_channel, settings):
    settings.RESONANZ_PIPELINE_STEPS = ["tests.inbox.test_ingest.record_step"]
    RECORDED.clear()
    # No on-commit callbacks run: as if the broker or worker died right after storing.
    result = ingest(api_channel, inbound("m1"))
    stuck = ingest(api_channel, inbound("m2"))
    Message.objects.filter(pk=stuck.message.pk).update(
        pipeline_state="running", pipeline_claimed_at=timezone.now() - timedelta(hours=1))
    assert Message.objects.get(pk=result.message.pk).pipeline_state == "pending"
    from resonanz.core.pipeline import process_pending

    assert process_pending() == 2
    assert sorted(RECORDED) == sorted([result.message.pk, stuck.message.pk])
    assert set(Message.objects.values_list("pipeline_state", flat=True)) == {"done"}


def test_failing_step_does_not_lose_the_batch(api_channel, settings):
    settings.RESONANZ_PIPELINE_STEPS = ["tests.inbox.test_ingest.broken_step", "tests.inbox.test_ingest.record_step"]
    RECORDED.clear()
    result = ingest(api_channel, inbound("m1"))
    assert pipeline.run_batch() == 1
    message = Message.objects.get(pk=result.message.pk)
    assert message.pipeline_state == "done" and "broken_step" in message.pipeline_error
    assert RECORDED == [result.message.pk]


def test_reply_sets_first_response_and_assigns(api_channel, agent_user, django_capture_on_commit_callbacks):
    result = ingest(api_channel, inbound("m1"))
    with django_capture_on_commit_callbacks(execute=True):
        reply = send_reply(result.conversation, agent_user, "Wir kümmern uns darum.")
    conversation = Conversation.objects.get(pk=result.conversation.pk)
    assert conversation.first_response_at is not None and not conversation.waiting_for_us
    assert conversation.status == "open" and conversation.assignee == agent_user
    reply.refresh_from_db()
    assert reply.delivery_status == "stored"  # the API channel keeps replies for collection
    kinds = list(ConversationEvent.objects.filter(conversation=conversation).values_list("kind", flat=True))
    assert "reply_sent" in kinds and "delivery_stored" in kinds


def test_public_channel_reply_is_signed(api_channel, agent_user):
    api_channel.sign_replies = True
    api_channel.save()
    result = ingest(api_channel, inbound("m1"))
    reply = send_reply(result.conversation, agent_user, "Danke für den Hinweis!")
    assert reply.text.endswith("^BB")


RECORDED: list[int] = []


def record_step(messages):
    RECORDED.extend(m.pk for m in messages)


def broken_step(messages):
    raise RuntimeError("boom")


def test_passing_delivery_problem_is_retried_then_given_up(api_channel, agent_user, monkeypatch):
    from resonanz.connectors.drivers.api import ApiDriver
    from resonanz.connectors.drivers.base import SendResult
    from resonanz.inbox.actions import MAX_DELIVERY_ATTEMPTS, deliver

    monkeypatch.setattr(ApiDriver, "send", lambda self, message: SendResult("retry", detail="connection refused"))
    result = ingest(api_channel, inbound("m1"))
    reply = send_reply(result.conversation, agent_user, "Antwort")
    for _ in range(MAX_DELIVERY_ATTEMPTS - 1):
        deliver(Message.objects.get(pk=reply.pk))
        assert Message.objects.get(pk=reply.pk).delivery_status == "queued"
    deliver(Message.objects.get(pk=reply.pk))
    final = Message.objects.get(pk=reply.pk)
    assert final.delivery_status == "failed" and "gave up" in final.delivery_detail


def test_ingest_many_stores_a_batch_once_and_reports_refusals(api_channel):
    from resonanz.inbox.actions import IngestResult, ingest_many

    batch = [inbound(f"b{i}", f"k{i % 3}@example.com", text=f"Nachricht {i}") for i in range(10)]
    batch.insert(4, inbound("bad", "x@example.com", text="  "))
    batch.append(inbound("b1", "k1@example.com", text="Nachricht 1"))  # redelivered within the batch
    results = ingest_many(api_channel, batch, batch_size=4)
    assert isinstance(results[4], ActionError)
    assert [r.created for r in results if isinstance(r, IngestResult)] == [True] * 10 + [False]
    assert Message.objects.count() == 10 and Conversation.objects.count() == 3
    again = ingest_many(api_channel, batch)
    assert not any(r.created for r in again if isinstance(r, IngestResult))
    assert Message.objects.count() == 10


def test_ingest_many_survives_a_race_on_one_message(api_channel, monkeypatch):
    """Another worker stores one of the batch's messages between the batch's lookup and its insert: the
    unique constraint refuses the batch, which is done again message by message; nothing is stored twice."""
    from resonanz.inbox import actions, ingestion

    theirs = actions.ingest(api_channel, inbound("r2", text="Text 2"))
    real = ingestion.stored_messages
    calls = {"n": 0}

    def lookup_before_the_other_commit(channel, external_ids):
        calls["n"] += 1
        return {} if calls["n"] == 1 else real(channel, external_ids)

    monkeypatch.setattr(ingestion, "stored_messages", lookup_before_the_other_commit)
    results = actions.ingest_many(api_channel, [inbound(f"r{i}", text=f"Text {i}") for i in range(5)])
    assert [r.created for r in results] == [True, True, False, True, True]
    assert results[2].message.pk == theirs.message.pk
    assert Message.objects.count() == 5 and Conversation.objects.count() == 1
    assert Conversation.objects.get().message_count == 5


@pytest.mark.parametrize("claimed", [datetime(2099, 1, 1, tzinfo=UTC), datetime(1970, 1, 1, tzinfo=UTC),
                                     datetime(2099, 1, 1)])
def test_implausible_sent_at_is_replaced_and_flagged(api_channel, claimed):
    before = timezone.now()
    message = ingest(api_channel, inbound(f"far-{claimed.year}-{claimed.tzinfo}", sent_at=claimed)).message
    message.refresh_from_db()
    assert before <= message.sent_at <= timezone.now()
    assert message.meta["sent_at_claimed"].startswith(str(claimed.year))


def test_plausible_sent_at_is_kept_unflagged(api_channel):
    claimed = timezone.now() - timedelta(hours=5)
    message = ingest(api_channel, inbound("recent", sent_at=claimed)).message
    message.refresh_from_db()
    assert message.sent_at == claimed and "sent_at_claimed" not in message.meta


def test_old_imported_history_keeps_its_date(api_channel, settings):
    settings.RESONANZ_SENT_AT_MAX_AGE_DAYS = 30
    claimed = datetime(2012, 5, 1, 9, 30, tzinfo=UTC)
    live = ingest(api_channel, inbound("live-old", sent_at=claimed)).message
    assert "sent_at_claimed" in live.meta  # older than the live window: replaced
    result = ingest_many(api_channel, [inbound("hist-old", sent_at=claimed, history=True)])[0]
    assert result.message.sent_at == claimed and "sent_at_claimed" not in result.message.meta


def test_posts_dated_in_the_future_are_clamped(db):
    from resonanz.connectors.actions import create_channel
    from resonanz.connectors.intake import InboundPost
    from resonanz.listening.actions import ingest_post

    channel = create_channel(kind="api", name="Feed")
    post = ingest_post(channel, InboundPost(external_id="p1", text="Neu", published_at=datetime(2099, 1, 1))).post
    assert post.published_at <= timezone.now()


def test_public_and_private_messages_of_one_person_never_share_a_conversation(api_channel):
    """A person's comment (public) and their direct message (private) are two conversations, in either order and
    within one batch; each later item joins the one of its kind."""
    dm = ingest(api_channel, inbound("dm1", text="Privat: meine Bestellnummer ist 4711"))
    comment = ingest(api_channel, inbound("c1", text="Öffentlich: wo bleibt die Lieferung?", is_public=True))
    assert dm.contact_id == comment.contact_id and dm.conversation.pk != comment.conversation.pk
    assert comment.conversation.is_public and not dm.conversation.is_public
    assert ingest(api_channel, inbound("dm2", text="Noch privat")).conversation.pk == dm.conversation.pk
    assert ingest(api_channel, inbound("c2", text="Noch öffentlich", is_public=True)).conversation.pk == \
        comment.conversation.pk
    batch = ingest_many(api_channel, [inbound("b1", "neu@example.com", is_public=True),
                                      inbound("b2", "neu@example.com"), inbound("b3", "neu@example.com", is_public=True)])
    assert batch[0].conversation.pk == batch[2].conversation.pk != batch[1].conversation.pk


def test_a_private_answer_to_a_public_message_starts_the_private_conversation(api_channel):
    comment = ingest(api_channel, inbound("c1", text="Öffentlich", is_public=True))
    answer = ingest(api_channel, inbound("dm1", text="Privat", in_reply_to="c1"))
    assert answer.conversation.pk != comment.conversation.pk and not answer.conversation.is_public
    reply = ingest(api_channel, inbound("c2", text="Öffentlich darunter", in_reply_to="c1", is_public=True))
    assert reply.conversation.pk == comment.conversation.pk


def test_public_items_of_one_person_join_one_conversation_per_thread(api_channel):
    """Comments under two posts are two conversations, under one post one, in a batch and across batches; a
    reply that names its parent joins it wherever the parent is; a redelivery changes nothing; private items
    ignore a thread the driver named."""
    a1 = ingest(api_channel, inbound("a1", text="Zum Rad", is_public=True, thread="post-a",
                                     post={"text": "Das Rad", "link": "javascript:alert(1)",
                                           "media": [{"url": "https://cdn.example/a.jpg", "kind": "image"},
                                                     {"url": "data:x", "kind": "image"}]}))
    batch = ingest_many(api_channel, [
        inbound("b1", text="Zu den Zeiten", is_public=True, thread="post-b"),
        inbound("a2", text="Noch zum Rad", is_public=True, thread="post-a"),
        inbound("b2", text="Noch zu den Zeiten", is_public=True, thread="post-b"),
        inbound("x1", text="Antwort auf a1 unter einem anderen Schlüssel", is_public=True, thread="other",
                in_reply_to="a1"),
        inbound("d1", text="Privat", thread="post-a"),
    ])
    b1, a2, b2, x1, d1 = (r.conversation.pk for r in batch)
    assert a2 == x1 == a1.conversation.pk and b1 == b2 != a2
    assert d1 not in (a2, b1) and not Conversation.objects.get(pk=d1).is_public
    assert Conversation.objects.get(pk=d1).thread_key == ""
    assert Conversation.objects.get(pk=b1).thread_key == "post-b" and a1.conversation.thread_key == "post-a"
    again = ingest(api_channel, inbound("b1", text="Zu den Zeiten", is_public=True, thread="post-a"))
    assert not again.created and again.conversation.pk == b1
    assert Conversation.objects.count() == 3
    # the post's context is kept cleaned: no script link, only http(s) media
    assert a1.message.meta["post"] == {"text": "Das Rad",
                                       "media": [{"url": "https://cdn.example/a.jpg", "kind": "image"}]}
