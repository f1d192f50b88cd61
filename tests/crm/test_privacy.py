"""GDPR: export everything about a contact in one ZIP, erase it for good (files, index, analyses included).

Real rows through the real actions: mail with an attachment ingested through the channel's intake, an agent's
reply and internal note, an analysis row, a survey answer, a community question, a public post by the
contact's Mastodon identity. The erasure is checked by reading the database, the disk and the search index.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from resonanz.community.actions import ask_question
from resonanz.community.models import Member, Question
from resonanz.core.errors import ActionError
from resonanz.core.models import AuditEntry
from resonanz.crm import actions as crm
from resonanz.crm.models import Contact, Identity
from resonanz.inbox.actions import add_note, ingest
from resonanz.inbox.models import AgentProfile, Attachment, Conversation, Message
from resonanz.inbox.queries import search_conversation_ids
from resonanz.insights.models import Fact, Survey
from resonanz.listening.models import Post
from resonanz.understanding.models import Analysis
from tests.conftest import inbound

PNG = b"\x89PNG\r\n\x1a\n" + b"rechnung" * 50


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def customer(db, api_channel, agent_user):
    """Lena with two conversations, an attachment, a note, an analysis, a survey, community and a public post."""
    first = ingest(api_channel, inbound("p1", "lena@example.com", "Zahnbürste Quarzblau kaputt, Rechnung anbei",
                                        sender_name="Lena Lindqvist", attachments=[
                                            {"filename": "rechnung.png", "content_type": "image/png",
                                             "content": PNG}]))
    Conversation.objects.filter(pk=first.conversation.pk).update(status="resolved")  # the next one starts anew
    second = ingest(api_channel, inbound("p2", "lena@example.com", "Noch eine Frage zur Quarzblau Garantie",
                                         subject="Garantie"))
    contact = first.message.author_contact
    add_note(first.conversation, agent_user, "Kundin ruft oft an, Quarzblau prüfen")
    Analysis.objects.update_or_create(message=first.message, defaults=dict(
        language="de", sentiment="negative", sentiment_score=-0.6, sentiment_confidence=0.9,
        intent_labels=",complaint,", urgency=0.4, complexity="simple", relevance=1.0, result={}, model_version="t"))
    now = timezone.now()
    Fact.objects.update_or_create(message=first.message, defaults=dict(
        channel=api_channel, at=now, hour=now.replace(minute=0, second=0), language="de", sentiment="negative",
        author="lena@example.com"))
    Survey.objects.create(conversation=first.conversation, rating=2, comment="Quarzblau war enttäuschend",
                          answered_at=timezone.now())
    crm.add_identity(contact, "mastodon", "lena@social.example")
    Post.objects.create(channel=api_channel, external_id="post-1", author="Lena", author_handle="lena@social.example",
                        text="Quarzblau ist schon wieder kaputt", fetched_at=timezone.now())
    member = Member.objects.create(contact=contact, display_name="Lena L.")
    ask_question(member, title="Quarzblau Akku", body="Wie lange hält der Akku der Quarzblau?")
    other = ingest(api_channel, inbound("o1", "otto@example.com", "Quarzblau Lieferung fehlt")).message.author_contact
    return {"contact": contact, "first": first, "second": second, "other": other}


def test_export_holds_every_section_and_the_attachment_file(customer):
    from resonanz.crm.privacy import export_zip

    contact = customer["contact"]
    archive = zipfile.ZipFile(io.BytesIO(export_zip(contact)))
    document = json.loads(archive.read("contact.json"))
    assert document["format"] == "resonanz-contact-export/1"
    assert document["contact"]["name"] == "Lena Lindqvist"
    assert {i["handle"] for i in document["identities"]} == {"lena@example.com", "lena@social.example"}
    assert len(document["conversations"]) == 2
    assert {m["text"] for m in document["messages"]} >= {"Zahnbürste Quarzblau kaputt, Rechnung anbei",
                                                          "Noch eine Frage zur Quarzblau Garantie"}
    assert [n["text"] for n in document["notes"]] == ["Kundin ruft oft an, Quarzblau prüfen"]
    assert document["analyses"][0]["sentiment"] == "negative"
    assert document["survey_answers"][0]["comment"] == "Quarzblau war enttäuschend"
    assert "token" not in document["survey_answers"][0]
    assert document["community"]["questions"][0]["title"] == "Quarzblau Akku"
    assert document["public_posts"][0]["text"] == "Quarzblau ist schon wieder kaputt"
    attachment = document["attachments"][0]
    assert attachment["filename"] == "rechnung.png"
    assert archive.read(attachment["path_in_export"]) == PNG
    assert document["missing_files"] == []
    assert "otto@example.com" not in archive.read("contact.json").decode()  # only this contact


def test_erase_needs_the_contacts_number(customer):
    contact = customer["contact"]
    for wrong in (None, "", "0", str(customer["other"].pk)):
        with pytest.raises(ActionError):
            crm.erase_contact(contact, confirm=wrong)
    assert Contact.objects.filter(pk=contact.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_erase_removes_rows_files_index_and_keeps_an_audit_entry_without_personal_data(customer, supervisor_user):
    contact, other = customer["contact"], customer["other"]
    attachment = Attachment.objects.get(message=customer["first"].message)
    path = attachment.file.path
    assert os.path.exists(path)
    assert set(search_conversation_ids("zahnbürste")) == {customer["first"].conversation.pk}
    crm.update_contact(contact, notes="Lena Lindqvist, Geburtstag 1.4.")
    AuditEntry.objects.create(action="contact.update", target_type="crm.contact", target_id=str(contact.pk),
                              target_label="Lena Lindqvist")
    counts = crm.erase_contact(contact, actor=supervisor_user, confirm=contact.pk)
    assert counts["conversations"] == 2 and counts["attachments"] == 1 and counts["notes"] == 1
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert not Identity.objects.filter(handle__startswith="lena@").exists()
    assert not Conversation.objects.filter(pk__in=[customer["first"].conversation.pk,
                                                   customer["second"].conversation.pk]).exists()
    assert not Message.objects.filter(text__icontains="Lena").exists()
    assert not Message.objects.filter(text__icontains="Zahnbürste").exists()
    assert not Analysis.objects.filter(message_id=customer["first"].message.pk).exists()
    assert not Survey.objects.exists()
    assert not Fact.objects.filter(author="lena@example.com").exists()
    assert not Post.objects.filter(author_handle="lena@social.example").exists()
    assert not Question.objects.filter(title="Quarzblau Akku").exists()
    assert not Member.objects.filter(display_name="Lena L.").exists()
    assert not os.path.exists(path)  # the file on disk, after commit
    assert search_conversation_ids("zahnbürste") == []  # the full-text index
    assert search_conversation_ids("quarzblau") == [Conversation.objects.get(contact=other).pk]
    entry = AuditEntry.objects.get(action="contact.erase")
    assert entry.target_id == str(contact.pk) and entry.actor == supervisor_user
    assert entry.detail["messages"] >= 2
    every_entry = json.dumps(list(AuditEntry.objects.values()), default=str)
    assert "Lena" not in every_entry and "lena@" not in every_entry
    assert Contact.objects.filter(pk=other.pk).exists()  # nobody else is touched


def test_erase_and_export_from_the_api_need_a_supervisor(customer, api, supervisor_api):
    contact = customer["contact"]
    assert api.get(f"/api/contacts/{contact.pk}/export/").status_code == 403
    assert api.post(f"/api/contacts/{contact.pk}/erase/", {"confirm": contact.pk}, format="json").status_code == 403
    response = supervisor_api.get(f"/api/contacts/{contact.pk}/export/")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    document = json.loads(zipfile.ZipFile(io.BytesIO(response.content)).read("contact.json"))
    assert document["contact"]["id"] == contact.pk
    assert AuditEntry.objects.filter(action="contact.export", target_id=str(contact.pk)).count() == 1
    wrong = supervisor_api.post(f"/api/contacts/{contact.pk}/erase/", {"confirm": contact.pk + 1}, format="json")
    assert wrong.status_code == 400 and "confirm" in wrong.content.decode()
    missing = supervisor_api.post(f"/api/contacts/{contact.pk}/erase/", {}, format="json")
    assert missing.status_code == 400
    done = supervisor_api.post(f"/api/contacts/{contact.pk}/erase/", {"confirm": contact.pk}, format="json")
    assert done.status_code == 200 and done.json()["erased"]["conversations"] == 2
    assert supervisor_api.get(f"/api/contacts/{contact.pk}/").status_code == 404


def test_cli_exports_a_private_file_and_erases_after_confirmation(customer, tmp_path, monkeypatch):
    contact = customer["contact"]
    target = tmp_path / "lena.zip"
    out = StringIO()
    call_command("contact", "export", str(contact.pk), "-o", str(target), stdout=out)
    assert target.stat().st_mode & 0o777 == 0o600
    assert "contact.json" in zipfile.ZipFile(target).namelist()
    monkeypatch.setattr("builtins.input", lambda prompt: "12345678")
    with pytest.raises(CommandError, match="Nothing was erased"):
        call_command("contact", "erase", str(contact.pk), stdout=StringIO())
    assert Contact.objects.filter(pk=contact.pk).exists()
    monkeypatch.setattr("builtins.input", lambda prompt: str(contact.pk))
    out = StringIO()
    call_command("contact", "erase", str(contact.pk), stdout=out)
    assert "erased" in out.getvalue() and not Contact.objects.filter(pk=contact.pk).exists()
    with pytest.raises(CommandError, match="no contact"):
        call_command("contact", "export", "999999", stdout=StringIO())


def test_the_export_is_also_a_readable_page_in_the_zip_and_on_the_contact_page(customer, client, supervisor_user):
    from resonanz.crm.privacy import export_zip

    contact = customer["contact"]
    html = zipfile.ZipFile(io.BytesIO(export_zip(contact))).read("contact.html").decode()
    assert "Zahnbürste Quarzblau kaputt" in html and "<script" not in html and "otto@example.com" not in html
    AgentProfile.objects.filter(user=supervisor_user).update(language="de")
    client.force_login(supervisor_user)
    profile = client.get(f"/contacts/{contact.pk}/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert f"/contacts/{contact.pk}/export/page/" in profile and "Alle Daten als Seite anzeigen" in profile
    page = client.get(f"/contacts/{contact.pk}/export/page/", HTTP_ACCEPT_LANGUAGE="de")
    text = page.content.decode()
    assert page.status_code == 200 and f"Alles, was über Kontakt #{contact.pk} gespeichert ist" in text
    assert "Kundin ruft oft an, Quarzblau prüfen" in text and "Quarzblau war enttäuschend" in text
    assert AuditEntry.objects.filter(action="contact.export", target_id=str(contact.pk)).exists()


def test_agents_cannot_open_the_readable_export(customer, client, agent_user):
    client.force_login(agent_user)
    assert client.get(f"/contacts/{customer['contact'].pk}/export/page/").status_code == 403
