"""The desk's reply form with files: a refused file is explained in German and the draft is kept."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from resonanz.connectors.actions import create_channel
from resonanz.inbox import actions
from resonanz.inbox.models import Message
from tests.conftest import inbound

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    actions.invite_agent("anna@example.com", password="pw-anna-12345", language="de")
    client = Client()
    client.login(username="anna@example.com", password="pw-anna-12345")
    return client


def test_a_refused_file_is_explained_and_the_draft_stays(client):
    form = create_channel(kind="web_form", name="Formular")
    conversation = actions.ingest(form, inbound("f1", "kim@example.com")).conversation
    url = f"/inbox/conversations/{conversation.pk}/"
    page = client.post(url + "reply/", {"text": "Mein Entwurf", "files": [SimpleUploadedFile("x.exe", b"MZ")]},
                       follow=True).content.decode()
    assert "x.exe: Dateien dieser Art können nicht angehängt werden" in page
    assert "Mein Entwurf</textarea>" in page
    assert not Message.objects.filter(direction="outbound").exists()
    many = [SimpleUploadedFile(f"{i}.txt", b"x") for i in range(11)]
    page = client.post(url + "reply/", {"text": "Entwurf 2", "files": many}, follow=True).content.decode()
    assert "Höchstens 10 Dateien und 20 MB pro Antwort" in page
    client.post(url + "reply/", {"text": "Anbei", "files": [SimpleUploadedFile("a.pdf", b"%PDF-1.4 x")]})
    reply = Message.objects.get(direction="outbound")
    assert [(a.filename, a.content_type) for a in reply.attachments.all()] == [("a.pdf", "application/pdf")]


def test_a_channel_without_files_refuses_in_german(client):
    api = create_channel(kind="api", name="Shop")
    conversation = actions.ingest(api, inbound("a1", "kim@example.com")).conversation
    page = client.post(f"/inbox/conversations/{conversation.pk}/reply/",
                       {"text": "Anbei", "files": [SimpleUploadedFile("a.pdf", b"%PDF-1.4 x")]}, follow=True)
    assert "kann keine Dateianhänge senden" in page.content.decode()
    assert not Message.objects.filter(direction="outbound").exists()


def test_the_live_refresh_of_the_page_does_not_take_a_kept_draft(client):
    """CI lost a kept draft: the old page's live refresh fetched the conversation between the refused send and
    the redirect, and the refresh took the draft out of the session."""
    form = create_channel(kind="web_form", name="Formular")
    conversation = actions.ingest(form, inbound("f2", "kim@example.com")).conversation
    url = f"/inbox/conversations/{conversation.pk}/"
    client.post(url + "reply/", {"text": "Entwurf", "files": [SimpleUploadedFile("x.exe", b"MZ")]})
    refresh = client.get(url, headers={"X-Resonanz-Live": "1"}).content.decode()
    assert "Entwurf</textarea>" not in refresh
    assert "Entwurf</textarea>" in client.get(url).content.decode()
    assert "Entwurf</textarea>" not in client.get(url).content.decode()  # shown once, then it is the page's
