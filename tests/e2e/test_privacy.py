"""GDPR and retention as a supervisor and an administrator meet them, in German on a phone (390 px).

The contact page offers the download and the erasure; the erasure page lists what goes and refuses a wrong
number; the retention settings page saves a rule and shows the dry run. Each page is rendered by chromium,
checked for console errors and overflow, and photographed under var/screenshots.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.utils import timezone

from resonanz.connectors.actions import create_channel
from resonanz.core.models import AuditEntry
from resonanz.crm.models import Contact
from resonanz.inbox import actions
from resonanz.inbox.models import Conversation, RetentionRule
from tests.conftest import inbound
from tests.e2e.helpers import Watched

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people(settings, tmp_path):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.MEDIA_ROOT = str(tmp_path / "media")
    actions.ensure_default_teams()
    actions.invite_agent("sina@example.com", display_name="Sina Supervisor", role="supervisor",
                         password="pw-super-1234", language="de")
    actions.invite_agent("ada@example.com", display_name="Ada Admin", role="admin", password="pw-admin-1234",
                         language="de")
    channel = create_channel(kind="api", name="Web-API")
    result = actions.ingest(channel, inbound("g1", "lena@example.com", subject="Rechnung doppelt",
                                             text="Die Rechnung kam doppelt, bitte prüfen.", sender_name="Lena Lind",
                                             attachments=[{"filename": "rechnung.pdf",
                                                           "content_type": "application/pdf",
                                                           "content": b"%PDF-1.4 rechnung"}]))
    return {"channel": channel, "contact": result.message.author_contact, "conversation": result.conversation}


def test_download_and_erase_a_contact_on_a_phone(live_server, browser, people):
    contact = people["contact"]
    w = Watched(browser, "phone")
    w.login(live_server.url, "sina@example.com", "pw-super-1234", path=f"/contacts/{contact.pk}/")
    card = w.page.locator("section.privacy")
    assert "Personenbezogene Daten (DSGVO)" in card.inner_text()
    w.check("gdpr-contact")
    with w.page.expect_download() as download:
        card.get_by_text("Alle Daten herunterladen (ZIP)").click()
    archive = zipfile.ZipFile(io.BytesIO(open(download.value.path(), "rb").read()))
    document = json.loads(archive.read("contact.json"))
    assert document["contact"]["name"] == "Lena Lind" and len(document["attachments"]) == 1
    card.get_by_text("Alle Daten als Seite anzeigen").click()
    w.page.wait_for_load_state()
    assert f"Alles, was über Kontakt #{contact.pk} gespeichert ist" in w.page.locator("h1").inner_text()
    assert "Die Rechnung kam doppelt, bitte prüfen." in w.page.locator(".export").inner_text()
    w.check("gdpr-export-page")
    w.page.go_back()
    w.page.wait_for_load_state()
    card = w.page.locator("section.privacy")
    card.get_by_text("Diesen Kontakt löschen (DSGVO)…").click()
    w.page.wait_for_load_state()
    main = w.page.inner_text("main")
    assert "Kontakt endgültig löschen" in main and "Konversationen" in main and "Anhänge" in main
    w.check("gdpr-erase")
    w.page.fill("#id_confirm", str(contact.pk + 1))
    w.page.click("button.danger")
    w.page.wait_for_load_state()
    assert f"Geben Sie zur Bestätigung die Kontaktnummer {contact.pk} ein." in w.page.inner_text("main")
    assert Contact.objects.filter(pk=contact.pk).exists()
    w.problems = [p for p in w.problems if "HTTP 400" not in p and "status of 400" not in p]
    w.check("gdpr-erase-wrong-number")
    w.page.fill("#id_confirm", str(contact.pk))
    w.page.click("button.danger")
    w.page.wait_for_load_state()
    assert w.page.url.endswith("/contacts/")
    assert f"Kontakt #{contact.pk} und" in w.page.inner_text("body")
    w.check("gdpr-erased")
    w.close()
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert AuditEntry.objects.filter(action="contact.erase", target_id=str(contact.pk)).exists()


def test_retention_rule_with_dry_run_on_a_phone(live_server, browser, people):
    Conversation.objects.filter(pk=people["conversation"].pk).update(
        status="resolved", last_activity_at=timezone.now() - timedelta(days=400))
    w = Watched(browser, "phone")
    w.login(live_server.url, "ada@example.com", "pw-admin-1234", path="/inbox/settings/retention/")
    assert "Noch keine Regeln" in w.page.inner_text("main")
    w.page.fill("#id_days", "365")
    w.page.select_option("#id_action", "delete")
    w.page.click("form.card button.primary")
    w.page.wait_for_load_state()
    main = w.page.inner_text("main")
    assert "Alle Kanäle ohne eigene Regel" in main and "nach 365 Tagen: Löschen" in main
    assert "Probelauf: 1 Konversation wäre jetzt fällig." in main
    assert Conversation.objects.filter(pk=people["conversation"].pk).exists()  # the page only counts
    w.check("retention")
    w.close()
    assert RetentionRule.objects.get().days == 365
