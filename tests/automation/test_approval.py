"""Approval of replies and the guideline check before sending."""

from __future__ import annotations

import pytest

from resonanz.automation.actions import set_approval_requirement as set_requirement
from resonanz.automation.approval import ReplyHeld, approve, check_reply, return_reply
from resonanz.automation.models import Guidelines, PendingReply
from resonanz.core.errors import ActionError
from resonanz.inbox.actions import ingest, send_reply
from resonanz.inbox.models import Message
from tests.conftest import inbound

pytestmark = pytest.mark.django_db


def test_trainee_reply_waits_then_supervisor_edits_and_sends_it_as_the_author(agent_user, supervisor, api_channel,
                                                                             django_capture_on_commit_callbacks):
    set_requirement(agent=agent_user, note="trainee")
    conversation = ingest(api_channel, inbound("a1")).conversation
    with pytest.raises(ReplyHeld) as held:
        send_reply(conversation, agent_user, "Wir schauen sofort nach.")
    assert not Message.objects.filter(conversation=conversation, direction="outbound").exists()
    pending = held.value.pending
    assert pending.state == "pending" and conversation.events.filter(kind="reply_held", reason="trainee").exists()
    with pytest.raises(ActionError, match="Only supervisors"):
        approve(pending, agent_user)
    with django_capture_on_commit_callbacks(execute=True):
        message = approve(pending, supervisor, text="Wir schauen sofort nach, versprochen.")
    message.refresh_from_db()
    assert message.author_user == agent_user and message.text.startswith("Wir schauen sofort nach, versprochen.")
    assert message.delivery_status in ("sent", "stored")  # the normal delivery ran
    assert conversation.events.filter(kind="reply_approved", actor=supervisor, data__edited=True).exists()
    with pytest.raises(ActionError, match="handled already"):
        approve(pending, supervisor)


def test_channel_requirement_and_returning_a_reply(agent_user, supervisor, api_channel):
    set_requirement(channel=api_channel)
    conversation = ingest(api_channel, inbound("a2")).conversation
    with pytest.raises(ReplyHeld):
        send_reply(conversation, agent_user, "ok")
    send_reply(conversation, supervisor, "Supervisors are not held.")
    pending = PendingReply.objects.get()
    return_reply(pending, supervisor, "Bitte freundlicher formulieren.")
    pending.refresh_from_db()
    assert pending.state == "returned" and pending.review_note == "Bitte freundlicher formulieren."
    assert conversation.events.filter(kind="reply_returned").exists()


def test_guideline_warnings(teams, agent_user, api_channel):
    from resonanz.understanding.models import Analysis

    Guidelines.objects.create(forbidden_words="leider nein\nunmöglich", advertising_words="Rabatt\nbuy now")
    result = ingest(api_channel, inbound("g1", text="Meine Rechnung ist falsch, bitte korrigieren."))
    conversation = result.conversation
    conversation.team = teams["Support"]
    conversation.save()
    Analysis.objects.create(message=result.message, language="de", sentiment="negative", sentiment_score=-0.5,
                                   sentiment_confidence=0.9, intent_labels=",complaint,", urgency=0.3,
                                   complexity="simple", relevance=1.0, result={}, model_version="t")
    codes = {w["code"] for w in check_reply(conversation, agent_user,
                                            "Sorry, that is unmöglich. But buy now with 20% Rabatt and save!")}
    assert codes == {"advertising", "words", "language"}
    assert check_reply(conversation, agent_user, "Wir haben die Rechnung korrigiert, sie kommt morgen.") == []
    send_reply(conversation, agent_user, "Das ist leider nein, wir können das nicht korrigieren.")
    assert conversation.events.filter(kind="guideline_warnings").exists()


def test_held_reply_is_accepted_not_an_error_in_ui_and_api(api, agent_user, admin_user, api_channel):
    from django.test import Client

    from resonanz.inbox.actions import ingest
    from tests.conftest import inbound

    set_requirement(agent=agent_user, note="trainee")
    conversation = ingest(api_channel, inbound("m1")).conversation
    response = api.post(f"/api/conversations/{conversation.pk}/reply/", {"text": "Hallo!"}, format="json")
    assert response.status_code == 202 and response.json()["pending_reply_id"]
    client = Client()
    client.login(username="berta@example.com", password="pw-agent-123")
    page = client.post(f"/inbox/conversations/{conversation.pk}/reply/", {"text": "Noch mal"}, follow=True)
    assert 'class="info"' in page.content.decode()
