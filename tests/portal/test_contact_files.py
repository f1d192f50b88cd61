"""Files customers attach to the public contact form: checked by type, content and size like reply files, refused
with a clear German or English message that keeps the text, stored as attachments an agent downloads."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from resonanz.core.bodylimit import max_request_bytes
from resonanz.inbox import files
from resonanz.inbox.models import Attachment, Message

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
PROGRAM = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200


def docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def token(client: Client, url: str) -> str:
    page = client.get(url).content.decode()
    start = page.index('name="token" value="') + len('name="token" value="')
    return page[start:page.index('"', start)]


def post(client: Client, url: str, uploads: list, language: str = "de", **fields):
    data = {"name": "Erika Muster", "email": "erika@example.com", "subject": "Defektes Gerät",
            "message": "Anbei die Rechnung und ein Foto vom Schaden.", "website": "", "consent": "on",
            "token": token(client, url), "files": uploads, **fields}
    return client.post(url, data, HTTP_ACCEPT_LANGUAGE=language)


def test_files_become_attachments_the_agent_downloads(client, form_channel, admin_user):
    url = f"/contact/{form_channel.slug}/"
    page = post(client, url, [SimpleUploadedFile("rechnung.pdf", PDF, "application/pdf"),
                              SimpleUploadedFile("../../schaden.PNG", PNG, "image/png"),
                              SimpleUploadedFile("angebot.docx", docx(), "application/octet-stream")])
    text = page.content.decode()
    assert page.status_code == 200 and "Wir haben Ihre 3 Dateien erhalten" in text
    assert "rechnung.pdf" in text and "schaden.PNG" in text
    message = Message.objects.get()
    stored = {a.filename: a for a in message.attachments.all()}
    assert sorted(stored) == ["angebot.docx", "rechnung.pdf", "schaden.PNG"]  # no folder part kept
    assert stored["schaden.PNG"].content_type == "image/png" and stored["rechnung.pdf"].size == len(PDF)
    agent = Client()
    agent.login(username="admin@example.com", password="pw-admin-123")
    conversation = agent.get(f"/inbox/conversations/{message.conversation_id}/").content.decode()
    link = f"/inbox/attachments/{stored['rechnung.pdf'].pk}/"
    assert link in conversation
    download = agent.get(link)
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    assert download["Content-Disposition"].startswith("attachment")
    assert Client().get(link).status_code == 302  # customers and strangers cannot fetch it


@pytest.mark.parametrize(("upload", "language", "said"), [
    (SimpleUploadedFile("rechnung.pdf", PROGRAM), "de", "rechnung.pdf ist keine echte PDF-Datei"),
    (SimpleUploadedFile("foto.jpg", b"<html><script>alert(1)</script></html>"), "en",
     "foto.jpg is not a real JPG file"),
    (SimpleUploadedFile("tool.exe", PROGRAM), "de", "tool.exe kann nicht gesendet werden: Wir nehmen Dokumente"),
    (SimpleUploadedFile("seite.html", b"<html></html>"), "en", "seite.html cannot be sent: we accept documents"),
    (SimpleUploadedFile("notiz.txt", "Hallo".encode("utf-16")), "de", "notiz.txt ist keine echte TXT-Datei"),
    (SimpleUploadedFile("leer.pdf", b""), "de", "leer.pdf ist leer."),
    (SimpleUploadedFile("gross.pdf", b"%PDF-" + b"x" * files.MAX_FILE_BYTES), "de",
     "gross.pdf ist 10,1 MB groß; eine Datei darf höchstens 10 MB groß sein."),
])
def test_a_refused_file_is_explained_and_the_text_stays(client, form_channel, upload, language, said):
    page = post(client, f"/contact/{form_channel.slug}/", [upload], language=language).content.decode()
    assert said in page, page[page.find('id="contact-file-error"'):][:400]
    again = "bitte wählen Sie die Dateien noch einmal aus" if language == "de" else "please choose the files again"
    assert again in page
    assert "Anbei die Rechnung und ein Foto vom Schaden." in page and 'value="Erika Muster"' in page
    assert not Message.objects.exists() and not Attachment.objects.exists()


def test_more_than_five_files_are_refused_without_reading_them(client, form_channel):
    uploads = [SimpleUploadedFile(f"seite{i}.pdf", PDF) for i in range(files.MAX_FORM_FILES + 1)]
    page = post(client, f"/contact/{form_channel.slug}/", uploads).content.decode()
    assert "Sie können höchstens 5 Dateien anhängen; Sie haben 6 ausgewählt." in page
    assert not Message.objects.exists()


def test_files_adding_up_to_more_than_the_total_are_refused(client, form_channel):
    big = b"%PDF-" + b"x" * int(6.9 * 1024 * 1024)
    uploads = [SimpleUploadedFile(f"teil{i}.pdf", big) for i in range(3)]
    page = post(client, f"/contact/{form_channel.slug}/", uploads).content.decode()
    assert "Die Dateien sind zusammen 20,8 MB groß; erlaubt sind höchstens 20 MB." in page
    assert "Anbei die Rechnung" in page and not Message.objects.exists()


def test_a_form_larger_than_any_request_may_be_gets_a_page_not_json(client, form_channel):
    """Over the request limit nothing is read; a person learns in their language that Back brings the text back."""
    big = b"%PDF-" + b"x" * (8 * 1024 * 1024)
    uploads = [SimpleUploadedFile(f"teil{i}.pdf", big) for i in range(3)]
    response = client.post(f"/contact/{form_channel.slug}/", {"message": "Hallo", "files": uploads},
                           HTTP_ACCEPT="text/html,application/xhtml+xml", HTTP_ACCEPT_LANGUAGE="de")
    page = response.content.decode()
    assert response.status_code == 413 and response["Content-Type"].startswith("text/html")
    assert "Zu viel auf einmal" in page and "mit den Dateien 24,0 MB groß" in page and "höchstens 21 MB" in page
    assert "Zurück-Taste" in page and '<html lang="de">' in page
    again = [SimpleUploadedFile(f"teil{i}.pdf", big) for i in range(3)]
    api = client.post(f"/contact/{form_channel.slug}/", {"files": again})  # a program: the JSON as before
    assert api.status_code == 413 and api.json()["limit"] == 22020096
    assert not Message.objects.exists()


def test_a_message_without_files_is_stored_as_before(client, form_channel):
    page = post(client, f"/contact/{form_channel.slug}/", []).content.decode()
    assert "Ihre Ticketnummer" in page and "Wir haben Ihre" not in page
    assert Message.objects.get().attachments.count() == 0


def test_the_form_page_shows_the_limits_and_the_request_limit_fits_them(client, form_channel, settings):
    page = client.get(f"/contact/{form_channel.slug}/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert 'enctype="multipart/form-data"' in page and 'name="files"' in page and "multiple" in page
    assert "Bis zu 5 Dateien, je höchstens 10 MB und zusammen 20 MB" in page
    assert 'data-max-files="5"' in page and "reply_files.js" in page
    assert max_request_bytes(f"/contact/{form_channel.slug}/") >= files.MAX_TOTAL_BYTES
    assert max_request_bytes("/contact/x/y/") == settings.RESONANZ_MAX_REQUEST_BYTES


@pytest.mark.parametrize(("name", "content", "ok"), [
    ("a.pdf", PDF, True), ("a.png", PNG, True), ("a.jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF", True),
    ("a.gif", b"GIF89a\x01\x00", True), ("a.webp", b"RIFF\x10\x00\x00\x00WEBPVP8 ", True),
    ("a.heic", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", True), ("a.docx", docx(), True),
    ("a.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 20, True), ("a.rtf", b"{\\rtf1\\ansi hallo}", True),
    ("a.csv", "Name;Betrag\nMüller;12,50\n".encode("cp1252"), True), ("a.txt", "Grüße".encode(), True),
    ("a.docx", PDF, False), ("a.pdf", PNG, False), ("a.png", b"GIF89a", False), ("a.txt", PROGRAM, False),
    ("a.txt", b"\x7fELF\x02\x01\x01", False), ("a.zip", b"Rar!\x1a\x07", False),
])
def test_content_matches_the_type(name, content, ok):
    assert files.content_matches(name.rsplit(".", 1)[1], content) is ok


@hypothesis_settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(sorted(files.TYPES)), st.binary(max_size=300))
def test_content_check_never_fails_on_any_bytes(extension, content):
    assert files.content_matches(extension, content) in (True, False)
