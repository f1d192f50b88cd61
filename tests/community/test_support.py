"""Unanswered questions reach support through the community channel; an agent's reply becomes a staff answer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from resonanz.community import actions
from resonanz.community.models import Question
from resonanz.connectors.drivers import kinds
from resonanz.inbox.actions import send_reply
from resonanz.inbox.delivery import deliver_message
from resonanz.inbox.models import Conversation, Message

pytestmark = pytest.mark.django_db


def test_community_is_a_channel_kind():
    assert "community" in kinds()


def test_unanswered_question_becomes_a_conversation_once(question, anna, settings):
    settings.RESONANZ_COMMUNITY_ESCALATE_HOURS = 4
    assert actions.escalate_unanswered() == []  # not old enough
    Question.objects.filter(pk=question.pk).update(created_at=timezone.now() - timedelta(hours=5))
    assert [q.pk for q in actions.escalate_unanswered()] == [question.pk]
    assert actions.escalate_unanswered() == []
    conversation = Conversation.objects.get()
    assert conversation.channel.kind == "community"
    assert conversation.contact_id == anna.contact_id  # the member is the CRM contact
    first = conversation.messages.get()
    assert first.external_id == f"community-q-{question.pk}"
    assert f"/community/q/{question.pk}/" in first.text


def test_answered_questions_stay_in_the_community(question, bert):
    actions.answer_question(bert, question, body="Unter Konto → Adressen.")
    Question.objects.filter(pk=question.pk).update(created_at=timezone.now() - timedelta(days=3))
    assert actions.escalate_unanswered() == []


def test_agents_reply_is_posted_as_staff_answer(question, agent_user):
    Question.objects.filter(pk=question.pk).update(created_at=timezone.now() - timedelta(days=3))
    actions.escalate_unanswered()
    conversation = Conversation.objects.get()
    reply = send_reply(conversation, agent_user, "Unter Konto → Adressen können Sie das ändern.")
    assert deliver_message(reply.pk) == "sent"
    answer = question.answers.get()
    assert answer.by_staff and answer.author.user_id == agent_user.pk
    assert "Konto → Adressen" in answer.body
    assert Message.objects.get(pk=reply.pk).external_id == f"community-a-{answer.pk}"
