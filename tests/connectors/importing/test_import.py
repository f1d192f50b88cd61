"""`resonanz import`: the Customer-Support-on-Twitter layout, mapped JSONL, resuming, and the skip report."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from resonanz.connectors.importing import import_file
from resonanz.connectors.models import Channel
from resonanz.crm.models import Identity
from resonanz.inbox.actions import record_outbound
from resonanz.inbox.models import Conversation, ConversationEvent, Message

pytestmark = pytest.mark.django_db
DATA = Path(__file__).parent / "data"
TWCS = DATA / "twcs_small.csv"


def run(*args) -> str:
    out = StringIO()
    call_command("import", *args, "--no-progress", stdout=out)
    return out.getvalue()


def snapshot():
    return sorted(Message.objects.values_list("external_id", "direction", "conversation__contact__identities__handle",
                                              "in_reply_to", "delivery_status"))


def test_twcs_layout_without_mapping(db):
    output = run(str(TWCS), "--channel", "Twitter history")
    channel = Channel.objects.get(name="Twitter history")
    assert channel.kind == "import" and channel.settings["layout"] == "twcs"
    # tweets 1-4 are one thread although the company's reply (2) comes before the question (1)
    thread = Message.objects.get(external_id="1").conversation
    assert list(thread.messages.order_by("sent_at").values_list("external_id", flat=True)) == ["1", "2", "3", "4"]
    assert thread.contact.identities.get().kind == "twitter" and thread.contact.identities.get().handle == "cust_a"
    reply = Message.objects.get(external_id="2")
    assert reply.direction == "outbound" and reply.author_user is None and reply.meta == {"author": "KettleCo"}
    assert reply.delivery_status == "sent" and reply.in_reply_to == "1"
    question = Message.objects.get(external_id="1")
    assert question.direction == "inbound" and question.pipeline_state == "skipped" and question.is_public
    assert "\n" in Message.objects.get(external_id="10").text  # a quoted newline inside the CSV field
    thread.refresh_from_db()
    assert thread.message_count == 4 and not thread.waiting_for_us and thread.status == "resolved"
    assert thread.first_response_at.isoformat() == "2017-10-31T10:05:00+00:00"
    assert thread.created_at.isoformat() == "2017-10-31T10:00:00+00:00"
    # cust_b's later tweet without a reply link starts a new conversation that waits for us
    later = Message.objects.get(external_id="12").conversation
    assert later != Message.objects.get(external_id="10").conversation and later.waiting_for_us
    assert later.status == "new"
    # the reply to the company's broadcast (20, skipped: it answers nothing) starts cust_c's conversation
    assert Message.objects.get(external_id="21").conversation.contact.identities.get().handle == "cust_c"
    assert not Message.objects.filter(external_id__in=["20", "30", "31", "32", "33"]).exists()
    assert Message.objects.count() == 8
    assert ConversationEvent.objects.filter(kind="message_received").count() == 5
    assert ConversationEvent.objects.filter(kind="reply_imported").count() == 3
    assert ConversationEvent.objects.filter(kind="created").count() == Conversation.objects.count() == 4
    assert "company message that answers nothing: 1" in output
    assert "unknown parent: 1" in output and "reply to 999" in output
    assert "missing text: 1" in output and "bad row: 2" in output and "already imported: 1" in output


def test_running_again_imports_nothing_twice(db):
    run(str(TWCS), "--channel", "Twitter history")
    before = snapshot()
    output = run(str(TWCS), "--channel", "Twitter history")
    assert snapshot() == before
    assert "Imported 0 messages" in output and "already imported: 9" in output
    assert Channel.objects.get().settings["last_import"]["inbound"] == 0


def test_interrupted_import_resumes_to_the_same_result(db, tmp_path):
    run(str(TWCS), "--channel", "Reference")
    reference = {(ext, d) for ext, d, *_ in snapshot()}
    Message.objects.all().delete()

    class Interrupt:
        def __init__(self):
            self.n = 0

        def update(self, n):
            self.n += n
            if self.n >= 4:
                raise KeyboardInterrupt

        def close(self):
            pass

    report = import_file(TWCS, "Resumed", batch_size=2, progress_factory=lambda total: Interrupt())
    assert report.interrupted and 0 < Message.objects.count() < 8
    report = import_file(TWCS, "Resumed", batch_size=2)
    assert not report.interrupted
    assert {(ext, d) for ext, d, *_ in snapshot()} == reference
    first = Message.objects.get(external_id="1").conversation
    assert first.messages.count() == 4


def test_small_batches_thread_across_batches(db):
    import_file(TWCS, "Tiny batches", batch_size=1)
    thread = Message.objects.get(external_id="1").conversation
    assert thread.messages.count() == 4 and Message.objects.count() == 8


def test_jsonl_with_a_mapping_file(db):
    output = run(str(DATA / "tickets.jsonl"), "--channel", "Old helpdesk", "--mapping", str(DATA / "tickets_mapping.json"))
    t1, t2, t3 = (Message.objects.get(external_id=f"T-{i}") for i in (1, 2, 3))
    assert t1.direction == "inbound" and t2.direction == "outbound" and t3.direction == "inbound"
    assert t1.conversation == t2.conversation == t3.conversation
    assert t1.subject == "Rechnung" and t1.conversation.subject == "Rechnung"
    identity = Identity.objects.get(contact=t1.author_contact)
    assert identity.kind == "email" and identity.handle == "ola@example.org"
    assert t3.author_contact == t1.author_contact  # same customer, case-insensitive email
    assert t3.sent_at.isoformat() == "2024-02-01T12:00:00+00:00" and not t1.is_public
    assert "bad row: 1" in output and "line 3" in output


def test_bad_input_is_a_clear_error(db, tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        run(str(tmp_path / "missing.csv"), "--channel", "X")
    bad = tmp_path / "mapping.json"
    bad.write_text('{"txt": "body"}')
    with pytest.raises(CommandError, match="unknown mapping fields txt"):
        run(str(TWCS), "--channel", "X", "--mapping", str(bad))


def test_imports_into_existing_conversations_keep_counts(db):
    import_file(TWCS, "Twitter history")
    thread = Message.objects.get(external_id="1").conversation
    extra = TWCS.parent / "extra.csv"
    try:
        extra.write_text("tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id\n"
                         "5,cust_a,True,Tue Oct 31 11:00:00 +0000 2017,@KettleCo thanks!,,4.0\n")
        import_file(extra, "Twitter history")
    finally:
        extra.unlink()
    thread.refresh_from_db()
    assert thread.message_count == 5 and thread.waiting_for_us and thread.status == "new"
    assert thread.last_activity_at.isoformat() == "2017-10-31T11:00:00+00:00"


def test_record_outbound_stores_without_sending(db):
    import_file(TWCS, "Twitter history")
    thread = Message.objects.get(external_id="12").conversation
    message = record_outbound(thread, external_id="99", text="We are on it", author="KettleCo")
    assert message.delivery_status == "sent" and message.author_user is None and message.meta == {"author": "KettleCo"}
    thread.refresh_from_db()
    assert not thread.waiting_for_us and thread.events.filter(kind="reply_imported").exists()
