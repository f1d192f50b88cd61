"""Merge and split conversations, files in replies, duplicate contacts and the getting-started guide, in a real
browser, in German, at phone width (and desktop where the layout differs): each test checks the page that
results, with no console error, no failed request and nothing wider than the screen."""

from __future__ import annotations

import pytest

from resonanz.connectors.actions import create_channel
from resonanz.crm.actions import create_contact, create_organization
from resonanz.crm.models import Contact
from resonanz.inbox import actions
from resonanz.inbox.models import Conversation
from tests.conftest import inbound
from tests.e2e.helpers import Watched, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PDF = b"%PDF-1.4\n% Rechnung\n" + b"0123456789" * 150_000  # 1.5 MB: more than the general 1 MB body limit


@pytest.fixture
def lead(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # no pipeline, no delivery attempts during the test
    actions.ensure_default_teams()
    return actions.invite_agent("lea@example.com", display_name="Lea Leitung", role="admin", password="pw-lea-12345",
                                language="de")


@pytest.fixture
def two(lead):
    """Two conversations of one customer on the API channel: the first resolved before the second came."""
    channel = create_channel(kind="api", name="Shop-API")
    first = actions.ingest(channel, inbound("x1", "kim@example.com", subject="Lieferung fehlt",
                                            text="Mein Paket ist nicht da.")).conversation
    actions.update_conversation(first, lead, status="resolved")
    second = actions.ingest(channel, inbound("x2", "kim@example.com", subject="Immer noch kein Paket",
                                             text="Wo bleibt die Lieferung?")).conversation
    actions.ingest(channel, inbound("x3", "kim@example.com", text="Und wie ändere ich meine Adresse?"))
    return first, second


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_merge_by_keyboard_and_undo(live_server, browser, lead, two, size):
    source, target = two
    w = Watched(browser, size)
    w.login(live_server.url, "lea@example.com", "pw-lea-12345", f"/inbox/conversations/{source.pk}/")
    page = w.page
    page.keyboard.press("Shift+M")
    page.wait_for_url(f"**/conversations/{source.pk}/merge/")
    assert "mit einer anderen Konversation zusammenführen" in page.inner_text("h1")
    page.fill("#merge-q", target.reference)
    page.keyboard.press("Enter")
    page.wait_for_selector(".merge-choice")
    assert page.locator(".merge-choice").count() == 1
    assert target.subject in page.inner_text("#merge-form")
    w.check("merge-search")
    page.locator(".merge-choice input").focus()
    page.keyboard.press("Space")
    page.click("#merge-form button[type=submit]")
    page.wait_for_url(f"**/conversations/{target.pk}/")
    assert "wurde in diese Konversation zusammengeführt" in page.inner_text(".flash")
    assert "Mein Paket ist nicht da." in page.inner_text("#messages")  # the moved message is shown here
    assert source.reference in page.inner_text(".merged-here")
    history = page.inner_text("#history")
    assert "Konversationen zusammengeführt" in history and source.reference in history
    w.check("merge-target")
    page.goto(live_server.url + f"/inbox/conversations/{source.pk}/")
    assert f"Zusammengeführt in {target.reference}" in page.inner_text("#merged-notice")
    assert "Geschlossen" in page.inner_text("#conversation-meta")
    assert page.query_selector("#reply-form") is None and target.reference in page.inner_text("#merged-reply-hint")
    w.check("merge-source")
    page.click("#merged-notice button")
    page.wait_for_selector(".flash li")
    assert "rückgängig gemacht" in page.inner_text(".flash")
    assert "Mein Paket ist nicht da." in page.inner_text("#messages")
    assert page.query_selector("#merged-notice") is None
    w.check("merge-undone")
    w.close()
    source.refresh_from_db()
    assert source.status == "resolved" and source.merged_into_id is None


def test_split_messages_off(live_server, browser, lead, two):
    _source, target = two
    w = Watched(browser, "phone")
    w.login(live_server.url, "lea@example.com", "pw-lea-12345", f"/inbox/conversations/{target.pk}/")
    page = w.page
    page.keyboard.press("Shift+S")
    page.wait_for_url(f"**/conversations/{target.pk}/split/")
    choices = page.locator(".split-choice")
    assert choices.count() == 2
    w.check("split-choose")
    choices.nth(1).locator("input").check()
    page.fill("#split-subject", "Adresse ändern")
    page.click("#split-form button[type=submit]")
    page.wait_for_selector(".flash li")
    new = Conversation.objects.exclude(pk__in=[target.pk, _source.pk]).get()
    assert page.url.endswith(f"/inbox/conversations/{new.pk}/")
    assert "Adresse ändern" in page.inner_text("h1")
    assert "Und wie ändere ich meine Adresse?" in page.inner_text("#messages")
    assert "Wo bleibt die Lieferung?" not in page.inner_text("#messages")
    assert "aus einer anderen Konversation abgetrennt" in page.inner_text("#history").lower() or \
        "abgetrennt" in page.inner_text("#history")
    w.check("split-new")
    w.close()


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_reply_with_files_by_button_and_drop(live_server, browser, lead, tmp_path, settings, size):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    form = create_channel(kind="web_form", name="Kontaktformular")
    conversation = actions.ingest(form, inbound("w1", "kim@example.com", subject="Rechnung bitte",
                                                text="Bitte schicken Sie mir die Rechnung.")).conversation
    (tmp_path / "Rechnung.pdf").write_bytes(PDF)
    (tmp_path / "tool.exe").write_bytes(b"MZ" * 100)
    w = Watched(browser, size)
    w.login(live_server.url, "lea@example.com", "pw-lea-12345", f"/inbox/conversations/{conversation.pk}/")
    page = w.page
    assert "Dateien anhängen" in page.inner_text("#reply-files")
    page.set_input_files("#reply-file-input", [str(tmp_path / "Rechnung.pdf"), str(tmp_path / "tool.exe")])
    wait_until(page, "document.querySelectorAll('#reply-file-list li').length === 1")
    assert "Rechnung.pdf" in page.inner_text("#reply-file-list")
    assert "tool.exe: Dateien dieser Art können nicht angehängt werden." in page.inner_text("#reply-file-error")
    # a file dropped on the reply box joins the list
    page.evaluate("""() => {
        const dt = new DataTransfer();
        dt.items.add(new File(["Hallo"], "notiz.txt", {type: "text/plain"}));
        document.getElementById("reply-form").dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true,
                                                                                cancelable: true}));
    }""")
    wait_until(page, "document.querySelectorAll('#reply-file-list li').length === 2")
    w.check("reply-files-chosen")
    page.fill("#reply-text", "Anbei die Rechnung.")
    page.click("#reply-actions button[type=submit]")
    page.wait_for_selector(".flash li")
    assert "Antwort gesendet" in page.inner_text(".flash"), page.inner_text(".flash")
    outbound = page.locator("article.message.outbound").last
    links = outbound.locator(".attachments a")
    assert links.count() == 2 and "Rechnung.pdf" in outbound.inner_text() and "notiz.txt" in outbound.inner_text()
    download = page.request.get(live_server.url + links.first.get_attribute("href"))
    assert download.status == 200 and download.body() == PDF
    w.check("reply-files-sent")
    w.close()


def test_channel_without_files_says_so(live_server, browser, lead):
    channel = create_channel(kind="api", name="Shop-API")
    conversation = actions.ingest(channel, inbound("a1", "kim@example.com", subject="Frage")).conversation
    w = Watched(browser, "phone")
    w.login(live_server.url, "lea@example.com", "pw-lea-12345", f"/inbox/conversations/{conversation.pk}/")
    assert w.page.query_selector("#reply-file-input") is None
    assert "können keine Dateien enthalten" in w.page.inner_text("#reply-no-files")
    w.check("reply-no-files")
    w.close()


def test_duplicate_contacts_suggested_merged_and_dismissed(live_server, browser, lead):
    acme = create_organization(name="Acme GmbH")
    kim = create_contact(name="Kim Schulz", identities=[("email", "kim@example.com")], organization=acme)
    kim_api = create_contact(name="Kim S.", identities=[("api", "kim@example.com")])
    schultz = create_contact(name="Schultz, Kim", identities=[("email", "ks@acme.example")], organization=acme)
    w = Watched(browser, "phone")
    w.login(live_server.url, "lea@example.com", "pw-lea-12345", f"/contacts/{kim.pk}/")
    page = w.page
    card = page.inner_text("#duplicates")
    assert "Mögliche Dubletten" in card and "gleiche E-Mail-Adresse" in card
    assert "ähnlicher Name, gleiche Organisation" in card and "Schultz, Kim" in card
    w.check("contact-duplicates")
    page.locator("#duplicates li", has_text="Schultz, Kim").get_by_role("button", name="Keine Dublette").click()
    page.wait_for_selector(".flash li")
    assert "werden nicht mehr vorgeschlagen" in page.inner_text(".flash")
    assert "Schultz, Kim" not in page.inner_text("#duplicates")
    page.goto(live_server.url + "/contacts/duplicates/")
    assert page.locator(".duplicate").count() == 1
    assert "Beim Zusammenführen kommen" in page.inner_text(".duplicate")
    w.check("duplicates-list")
    page.get_by_role("button", name="Zusammenführen").click()
    page.wait_for_selector(".flash li")
    assert page.url.endswith("/contacts/duplicates/")
    assert "zusammengeführt" in page.inner_text(".flash")
    assert "Zurzeit keine wahrscheinlichen Dubletten" in page.inner_text("#duplicate-list")
    w.check("duplicates-done")
    w.close()
    assert Contact.objects.filter(pk__in=[kim.pk, kim_api.pk]).count() == 1
    assert Contact.objects.filter(pk=schultz.pk).exists()


def test_contact_merge_by_search_with_confirmation(live_server, browser, lead):
    keep = create_contact(name="Anna Muster", identities=[("email", "anna@example.com")])
    drop = create_contact(name="A. Muster", identities=[("phone", "+49 170 5550000")])
    w = Watched(browser, "phone")
    w.login(live_server.url, "lea@example.com", "pw-lea-12345", f"/contacts/{keep.pk}/")
    page = w.page
    page.click("#merge-search-link")
    page.fill("#contact-merge-q", "5550000")
    page.keyboard.press("Enter")
    page.wait_for_selector("#merge-found a")
    page.click("#merge-found a")
    page.wait_for_selector("#merge-confirm")
    assert "A. Muster geht in Anna Muster auf" in page.inner_text("#merge-confirm")
    assert "491705550000" in page.inner_text("#merge-confirm")
    w.check("contact-merge-confirm")
    page.click("#merge-confirm button[type=submit]")
    page.wait_for_selector(".flash li")
    assert "zusammengeführt" in page.inner_text(".flash")
    assert "491705550000" in page.inner_text(".identities")
    w.check("contact-merged")
    w.close()
    assert not Contact.objects.filter(pk=drop.pk).exists()


def test_first_run_guide(live_server, browser, lead):
    w = Watched(browser, "phone")
    w.login(live_server.url, "lea@example.com", "pw-lea-12345")
    page = w.page
    assert "Erste Schritte" in page.inner_text("#start-banner")
    w.check("start-banner")
    page.click("#start-banner a")
    page.wait_for_url("**/inbox/start/")
    steps = page.locator("#start-steps > li")
    assert steps.count() == 3
    assert "Den ersten Kanal verbinden" in steps.nth(0).inner_text()
    assert "Ihr Team einladen" in steps.nth(1).inner_text()
    assert "Mit Demodaten ausprobieren" in steps.nth(2).inner_text()
    assert "0 von 3 Schritten erledigt" in page.inner_text("main")
    w.check("start-steps")
    page.click("#step-channel a")
    page.wait_for_url("**/inbox/settings/channels/")
    w.check("start-to-channels")
    w.close()
