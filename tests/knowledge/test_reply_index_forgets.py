"""Earlier answers suggested to agents come from resolved conversations: an erased contact's or an
anonymised conversation's answer is not suggested any more, in a process that built its index before."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from resonanz.crm.actions import erase_contact
from resonanz.inbox import retention
from resonanz.inbox.actions import ingest, send_reply
from resonanz.inbox.models import Conversation
from resonanz.knowledge.replies import ReplyIndex
from tests.conftest import inbound


def answered(channel, agent, key, question, answer):
    result = ingest(channel, inbound(key, f"{key}@example.com", question))
    send_reply(result.conversation, agent, answer, status="resolved")
    return result


def test_erased_and_anonymised_answers_leave_the_index(api_channel, agent_user, settings,
                                                       django_capture_on_commit_callbacks):
    lena = answered(api_channel, agent_user, "r1", "Mein Wasserkocher Modell Fjord leckt am Boden",
                    "Bitte senden Sie den Fjord Wasserkocher ein, wir tauschen ihn.")
    otto = answered(api_channel, agent_user, "r2", "Mein Toaster Modell Brise brennt das Brot an",
                    "Stellen Sie den Brise Toaster eine Stufe niedriger ein.")
    index = ReplyIndex()

    def found(question: str, conversation) -> bool:
        return conversation.conversation.pk in {hit["conversation_id"] for hit in index.similar(question)}

    assert found("Wasserkocher Fjord leckt", lena) and found("Toaster Brise brennt", otto)
    with django_capture_on_commit_callbacks(execute=True):
        erase_contact(lena.message.author_contact, confirm=lena.message.author_contact.pk)
    assert not found("Wasserkocher Fjord leckt", lena)
    assert found("Toaster Brise brennt", otto)
    Conversation.objects.filter(pk=otto.conversation.pk).update(last_activity_at=timezone.now() - timedelta(days=90))
    retention.save_rule(days=30, action="anonymise")
    with django_capture_on_commit_callbacks(execute=True):
        assert retention.apply() == 1
    assert not found("Toaster Brise brennt", otto)
