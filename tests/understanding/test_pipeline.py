"""Text understanding wired into Resonanz: analysis per message, UI, API, filters, corrections, training."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.test import Client

from resonanz.inbox.actions import ingest
from resonanz.inbox.models import ConversationEvent
from resonanz.understanding.models import Analysis, Correction
from tests.conftest import inbound

pytestmark = pytest.mark.django_db

ANGRY = "Das ist eine Frechheit! Seit drei Wochen keine Lieferung, ich will sofort mein Geld zurück."
HAPPY = "Thank you so much, your support team was fantastic and solved everything in minutes!"


def ingest_and_analyse(channel, external_id, text, handle="kunde@example.com", capture=None):
    with capture(execute=True):
        return ingest(channel, inbound(external_id, handle, text=text))


def test_every_inbound_message_is_analysed(model_dir, api_channel, django_capture_on_commit_callbacks):
    result = ingest_and_analyse(api_channel, "m1", ANGRY, capture=django_capture_on_commit_callbacks)
    analysis = Analysis.objects.get(message=result.message)
    assert analysis.language == "de" and analysis.sentiment == "negative"
    assert analysis.model_version.startswith("seed-")
    assert 0 <= analysis.urgency <= 1 and analysis.result["sentiment"]["confidence"] > 0.5
    result.conversation.contact.refresh_from_db()
    assert result.conversation.contact.preferred_language == "de"
    assert ConversationEvent.objects.filter(conversation=result.conversation, kind="analysed").exists()
    other = ingest_and_analyse(api_channel, "m2", HAPPY, "happy@example.com", capture=django_capture_on_commit_callbacks)
    happy = Analysis.objects.get(message=other.message)
    assert happy.language == "en" and happy.sentiment == "positive"


def test_without_a_model_the_lexicons_still_answer(settings, tmp_path, api_channel, django_capture_on_commit_callbacks):
    from resonanz.understanding import engine

    settings.RESONANZ_MODEL_DIR = tmp_path / "empty"
    engine.reset()
    result = ingest_and_analyse(api_channel, "m1", ANGRY, capture=django_capture_on_commit_callbacks)
    assert Analysis.objects.get(message=result.message).model_version == "lexicon-only"
    engine.reset()


def test_analysis_in_ui_api_and_filters(model_dir, api, agent_user, api_channel, django_capture_on_commit_callbacks):
    angry = ingest_and_analyse(api_channel, "m1", ANGRY, "a@example.com", capture=django_capture_on_commit_callbacks)
    happy = ingest_and_analyse(api_channel, "m2", HAPPY, "b@example.com", capture=django_capture_on_commit_callbacks)
    client = Client()
    client.login(username="berta@example.com", password="pw-agent-123")
    page = client.get(f"/inbox/conversations/{angry.conversation.pk}/").content.decode()
    assert "sentiment-negative" in page and "Korrigieren" in page  # the agent works in German
    negative = client.get("/inbox/?sentiment=negative").content.decode()
    assert f'data-id="{angry.conversation.pk}"' in negative and f'data-id="{happy.conversation.pk}"' not in negative
    body = api.get(f"/api/conversations/{angry.conversation.pk}/messages/").json()["results"][0]
    assert body["analysis"]["sentiment"] == "negative" and body["analysis"]["language"] == "de"
    ids = [c["id"] for c in api.get("/api/conversations/", {"sentiment": "positive"}).json()["results"]]
    assert ids == [happy.conversation.pk]


def test_corrections_through_ui_and_api_then_train_and_roll_back(model_dir, api, agent_user, api_channel, tmp_path,
                                                                 django_capture_on_commit_callbacks):
    first = ingest_and_analyse(api_channel, "m1", "Wann kommt endlich mein Paket? Bestellung 4711",
                               capture=django_capture_on_commit_callbacks)
    client = Client()
    client.login(username="berta@example.com", password="pw-agent-123")
    response = client.post(f"/inbox/messages/{first.message.pk}/correct/",
                           {"sentiment": "negative", "intents": ["question", "complaint"], "language": "de"})
    assert response.status_code == 302
    analysis = Analysis.objects.get(message=first.message)
    assert analysis.corrected and analysis.sentiment == "negative" and analysis.intents == ["complaint", "question"]
    second = ingest_and_analyse(api_channel, "m2", "Ich will einen Vertrag für 20 Lizenzen abschließen.",
                                "sales@example.com", capture=django_capture_on_commit_callbacks)
    response = api.post(f"/api/messages/{second.message.pk}/correction/",
                        {"intents": ["purchase_interest"], "sentiment": "neutral"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["analysis"]["intents"] == ["purchase_interest"]
    bad = api.post(f"/api/messages/{second.message.pk}/correction/", {"intents": ["nonsense"]}, format="json")
    assert bad.status_code == 400 and "intents" in bad.json()
    # one row per field that the agent actually changed
    assert Correction.objects.filter(message=second.message, field="intents").get().new_value == ["purchase_interest"]
    assert Correction.objects.filter(message=first.message, field="intents").exists()

    labelled = tmp_path / "labelled.jsonl"
    rows = [{"text": f"Super Service, danke Nummer {i}!", "sentiment": "positive"} for i in range(15)]
    rows += [{"text": f"Totaler Mist, Gerät {i} ist kaputt.", "sentiment": "negative"} for i in range(15)]
    labelled.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows))
    call_command("train", "--file", str(labelled))
    from resonanz.understanding import engine

    versions = engine.store().list_versions()
    assert len(versions) == 2
    seed_version = [v["version"] for v in versions if v["version"].startswith("seed")][0]
    call_command("models", "--rollback", seed_version)
    assert engine.store().active_version() == seed_version


def test_train_refuses_bad_files(model_dir, tmp_path):
    from django.core.management.base import CommandError

    bad = tmp_path / "bad.csv"
    bad.write_text("text,sentiment\nnur eine Klasse,positive\nnoch eine,positive\n")
    with pytest.raises(CommandError):
        call_command("train", "--file", str(bad), "--no-corrections")
    with pytest.raises(CommandError, match="Nothing to learn"):
        call_command("train", "--no-corrections")


def test_catalog_entities(model_dir, admin_api, api_channel, django_capture_on_commit_callbacks):
    response = admin_api.post("/api/catalog/", {"name": "Resonanz Hub X2", "kind": "product",
                                                "aliases": "Hub X2\nX2 Hub"}, format="json")
    assert response.status_code == 201, response.json()
    assert admin_api.post("/api/catalog/", {"name": "resonanz hub x2", "kind": "product"},
                          format="json").status_code == 400
    result = ingest_and_analyse(api_channel, "m1", "Mein Hub X2 startet nicht mehr seit dem Update.",
                                capture=django_capture_on_commit_callbacks)
    entities = Analysis.objects.get(message=result.message).entities
    assert [e["name"] for e in entities] == ["Resonanz Hub X2"]
