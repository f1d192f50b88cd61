"""Retention: closed conversations older than the rule are deleted or anonymised (worker, CLI, API, settings).

Conversations are made through the real ingest and aged by moving their last activity back; the result is
read from the database, the disk and the full-text index.
"""

from __future__ import annotations

import os
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from resonanz.core.errors import ActionError
from resonanz.core.models import AuditEntry
from resonanz.inbox import retention
from resonanz.inbox.actions import ingest
from resonanz.inbox.models import Attachment, Conversation, Message, RetentionRule
from resonanz.inbox.queries import search_conversation_ids
from resonanz.inbox.tasks import apply_retention
from resonanz.understanding.models import Analysis
from tests.conftest import inbound


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def conversation(channel, key: str, text: str, *, age_days: int, status: str = "resolved", **kwargs):
    result = ingest(channel, inbound(key, f"{key}@example.com", text, **kwargs))
    Conversation.objects.filter(pk=result.conversation.pk).update(
        status=status, last_activity_at=timezone.now() - timedelta(days=age_days))
    return result


@pytest.fixture
def shop(db, api_channel, form_channel):
    return {
        "old_api": conversation(api_channel, "a1", "Alte Reklamation Kaffeemühle", age_days=400, attachments=[
            {"filename": "beleg.pdf", "content_type": "application/pdf", "content": b"%PDF-1.4 beleg"}]),
        "young_api": conversation(api_channel, "a2", "Neue Reklamation Kaffeemühle", age_days=10),
        "open_api": conversation(api_channel, "a3", "Offene Frage Kaffeemühle", age_days=400, status="open"),
        "old_form": conversation(form_channel, "f1", "Altes Formular Kaffeemühle", age_days=100),
    }


def test_dry_run_counts_and_changes_nothing(shop, api_channel):
    retention.save_rule(days=365, action="delete")
    assert [d.count for d in retention.plan()] == [1]
    out = StringIO()
    call_command("retention", "--dry-run", stdout=out)
    assert "1 conversation(s) would go" in out.getvalue()
    assert Conversation.objects.count() == 4


def test_delete_takes_files_index_and_analyses_and_spares_open_and_young(shop, api_channel,
                                                                         django_capture_on_commit_callbacks):
    old = shop["old_api"]
    attachment = Attachment.objects.get(message=old.message)
    path = attachment.file.path
    Analysis.objects.update_or_create(message=old.message, defaults=dict(
        language="de", sentiment="negative", sentiment_score=-0.5, sentiment_confidence=0.9, intent_labels="",
        urgency=0.1, complexity="simple", relevance=1.0, result={}, model_version="t"))
    retention.save_rule(days=365, action="delete")
    with django_capture_on_commit_callbacks(execute=True):
        assert apply_retention() == 1  # what beat runs every hour
    assert not Conversation.objects.filter(pk=old.conversation.pk).exists()
    assert not Analysis.objects.filter(message_id=old.message.pk).exists()
    assert not os.path.exists(path)
    assert old.conversation.pk not in search_conversation_ids("reklamation")
    assert shop["young_api"].conversation.pk in search_conversation_ids("reklamation")
    assert Conversation.objects.filter(pk=shop["open_api"].conversation.pk).exists()
    assert Conversation.objects.filter(pk=shop["old_form"].conversation.pk).exists()  # 100 days < 365
    entry = AuditEntry.objects.get(action="retention.delete")
    assert entry.detail["conversations"] == 1
    assert RetentionRule.objects.get().last_count == 1


def test_a_channel_rule_overrides_the_global_one_and_anonymise_keeps_the_numbers(
        shop, api_channel, form_channel, django_capture_on_commit_callbacks):
    retention.save_rule(days=365, action="delete")
    retention.save_rule(channel=form_channel, days=30, action="anonymise")
    form = shop["old_form"]
    path = Attachment.objects.get(message=shop["old_api"].message).file.path
    form_text_before = search_conversation_ids("formular")
    assert form.conversation.pk in form_text_before
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("retention", stdout=out, stderr=StringIO())
    assert "2 conversation(s) deleted or anonymised" in out.getvalue()
    kept = Conversation.objects.get(pk=form.conversation.pk)
    assert kept.subject == "" and kept.status == "resolved" and kept.channel_id == form_channel.pk
    assert kept.contact.identities.get().handle == retention.ANONYMOUS_HANDLE
    message = Message.objects.get(pk=form.message.pk)
    assert message.text == "" and message.author_contact_id is None
    assert form.conversation.pk not in search_conversation_ids("formular")
    assert not os.path.exists(path)
    assert retention.plan()[0].count == 0 and retention.apply() == 0  # anonymised once, not again


def test_rules_are_checked(db, api_channel):
    with pytest.raises(ActionError):
        retention.save_rule(days=0, action="delete")
    with pytest.raises(ActionError):
        retention.save_rule(days=30, action="shred")
    retention.save_rule(days=30, action="delete")
    retention.save_rule(days=60, action="anonymise")
    assert RetentionRule.objects.get(channel=None).days == 60  # one global rule, changed


def test_api_rules_preview_and_apply_need_an_administrator(shop, api, admin_api, api_channel):
    assert api.post("/api/retention-rules/", {"days": 365, "action": "delete"}, format="json").status_code == 403
    created = admin_api.post("/api/retention-rules/", {"days": 365, "action": "delete"}, format="json")
    assert created.status_code == 201, created.content
    assert admin_api.post("/api/retention-rules/", {"days": 0}, format="json").status_code == 400
    preview = admin_api.get("/api/retention-rules/preview/").json()
    assert preview[0]["would_go"] == 1
    assert api.post("/api/retention-rules/apply/").status_code == 403
    assert admin_api.post("/api/retention-rules/apply/").json() == {"conversations": 1}
    assert admin_api.delete(f"/api/retention-rules/{created.json()['id']}/").status_code == 204
