"""A customer sends the contact form with files on a phone, in German: a file of the wrong type is refused in the
page at once, a renamed program by the server with the text kept, and the agent downloads what arrived."""

from __future__ import annotations

import pytest

from resonanz.connectors.actions import create_channel
from resonanz.inbox import actions
from resonanz.inbox.models import Message
from tests.e2e.helpers import Watched, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
PROGRAM = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200
TEXT = "Mein Gerät ist defekt, anbei die Rechnung."


def fill(page) -> None:
    page.fill("input[name=name]", "Erika Muster")
    page.fill("input[name=email]", "erika@example.com")
    page.fill("input[name=subject]", "Defektes Gerät")
    page.fill("textarea[name=message]", TEXT)
    page.check("input[name=consent]")


def test_contact_form_with_files_on_a_phone_in_german(live_server, browser, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    form = create_channel(kind="web_form", name="Kontakt")
    actions.invite_agent("agentin@example.com", display_name="Anna Agentin", role="admin", password="pw-anna-12345",
                         language="de")
    w = Watched(browser, "phone")
    page = w.page
    page.goto(f"{live_server.url}/contact/{form.slug}/")
    assert "Dateien anhängen (freiwillig)" in page.inner_text("main")
    fill(page)
    # the page refuses a program at once and keeps the good file in the list
    page.set_input_files("#contact-file-input", files=[
        {"name": "rechnung.pdf", "mimeType": "application/pdf", "buffer": PDF},
        {"name": "setup.exe", "mimeType": "application/octet-stream", "buffer": PROGRAM}])
    wait_until(page, "!document.getElementById('contact-file-error').hidden")
    assert "setup.exe: Dateien dieser Art können nicht gesendet werden." in page.inner_text("#contact-file-error")
    assert "rechnung.pdf" in page.inner_text("#contact-file-list")
    w.check("contact-files-refused-in-page")
    # a program renamed to .pdf passes the page's check by name; the server reads its content and refuses it
    page.set_input_files("#contact-file-input", files=[
        {"name": "foto.pdf", "mimeType": "application/pdf", "buffer": PROGRAM}])
    page.click("button[type=submit]")
    page.wait_for_load_state()
    error = page.inner_text("#contact-file-error")
    assert "foto.pdf ist keine echte PDF-Datei" in error and "bitte wählen Sie die Dateien noch einmal aus" in error
    assert page.input_value("textarea[name=message]") == TEXT and page.input_value("input[name=name]") == "Erika Muster"
    assert not Message.objects.exists()
    w.check("contact-files-refused-by-server")
    # choose the right file again and send
    page.check("input[name=consent]")
    page.set_input_files("#contact-file-input", files=[
        {"name": "rechnung.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    page.click("button[type=submit]")
    page.wait_for_load_state()
    thanks = page.inner_text("main")
    assert "Wir haben Ihre Datei erhalten" in thanks and "rechnung.pdf" in thanks and "RZ-" in thanks
    w.check("contact-files-thanks")
    message = Message.objects.get()
    attachment = message.attachments.get()
    # the agent sees the file on the conversation and downloads it
    w.login(live_server.url, "agentin@example.com", "pw-anna-12345",
            path=f"/inbox/conversations/{message.conversation_id}/")
    link = page.locator(f"a[href='/inbox/attachments/{attachment.pk}/']")
    assert link.inner_text() == "rechnung.pdf"
    with page.expect_download() as download:
        link.click()
    assert open(download.value.path(), "rb").read() == PDF
    w.check("contact-files-agent-sees-attachment")
    w.close()
