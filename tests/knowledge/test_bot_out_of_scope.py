"""The virtual agent hands over requests the model files under its "everything else" intent instead of answering."""

from __future__ import annotations

import pytest

from resonanz.inbox.actions import ingest
from resonanz.inbox.models import Conversation, Message
from resonanz.knowledge import bot
from resonanz.knowledge.actions import create_article
from resonanz.knowledge.models import Suggestion
from tests.analysis.oos_support import oos_store
from tests.conftest import inbound

pytestmark = pytest.mark.django_db


@pytest.fixture
def oos_model_dir(tmp_path, settings):
    from resonanz.knowledge.search import reset
    from resonanz.understanding import engine

    oos_store(tmp_path / "models")
    settings.RESONANZ_MODEL_DIR = tmp_path / "models"
    settings.RESONANZ_EMBEDDER = "none"  # the small model has no embeddings; the KB ranks lexically
    engine.reset()
    reset()
    yield tmp_path / "models"
    engine.reset()
    reset()


@pytest.fixture
def kb(admin_user):
    # An article that shares words with the out-of-scope request: a lexical match alone would answer it.
    return create_article(admin_user, title="Lieferzeiten bei Unwetter", body="Bei Unwetter und schlechtem Wetter "
                          "kann sich die Lieferung um einen Tag verzögern.", language="de",
                          example_questions="Verzögert sich die Lieferung bei Unwetter?\nWetter und Lieferzeit",
                          status="published")


def test_out_of_scope_request_is_handed_over(oos_model_dir, kb, api_channel, teams,
                                             django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        result = ingest(api_channel, inbound("m1", "h@example.com", text="Wie wird das Wetter übermorgen in München?"))
    message = Message.objects.get(pk=result.message.pk)
    assert message.analysis.result["intents"]["out_of_scope"] is True
    assert Suggestion.objects.get(message=message).bot_decision == bot.OUT_OF_SCOPE
    assert not Message.objects.filter(conversation=result.conversation, direction="outbound").exists()
    conversation = Conversation.objects.get(pk=result.conversation.pk)
    assert bot.HANDOVER_TAG in conversation.tags.values_list("name", flat=True)
    assert conversation.team == teams["Support"]
    event = conversation.events.filter(kind="handed_over").get()
    assert bot.OUT_OF_SCOPE_REASON in event.reason


def test_signal_reads_the_stored_analysis():
    class A:
        def __init__(self, result):
            self.result = result

    assert bot.out_of_scope(A({"intents": {"labels": [], "probabilities": {}, "out_of_scope": True}}))
    assert not bot.out_of_scope(A({"intents": {"labels": ["question"], "probabilities": {}}}))  # older analyses
    assert not bot.out_of_scope(None)
