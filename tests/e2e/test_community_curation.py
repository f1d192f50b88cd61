"""In the browser, German at 390 px: a member uploads an avatar, a moderator merges and moves questions and
edits a tag, and a product manager turns an idea cluster into an idea.

Every page is checked for its rendered text, no console errors or failed requests and no horizontal
overflow; screenshots go to $RESONANZ_SCREENSHOTS (default: the test's temporary directory).
"""

from __future__ import annotations

import pytest
from django.utils import timezone
from PIL import Image

from resonanz.community import actions
from resonanz.community.models import Idea, IdeaLink, Member, Question
from resonanz.connectors.actions import create_channel
from resonanz.inbox.actions import invite_agent
from resonanz.listening.models import Post
from tests.e2e.helpers import wait_until
from tests.e2e.test_community import PHONE, check_layout, open_page, shots, sign_up, smtp  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_avatar_merge_move_and_tags(browser, live_server, smtp, shots, settings, tmp_path):  # noqa: F811
    base = live_server.url
    settings.RESONANZ_BASE_URL = base
    bert = Member.objects.create(display_name="Bert Beispiel")
    keep = actions.ask_question(bert, title="Wie ändere ich meine Lieferadresse?",
                                body="Ich bin umgezogen und finde es nicht.", tags="konto")
    dup = actions.ask_question(bert, title="Lieferadresse ändern, wo geht das?",
                               body="Wo stelle ich die neue Adresse ein?", tags="lieferung")
    helper = Member.objects.create(display_name="Hilde Helfer")
    actions.answer_question(helper, dup, body="Unter Konto → Adressen können Sie sie ändern.")

    ctx, page = open_page(browser, PHONE)
    sign_up(page, base, smtp, "anna@example.com", "de", "/community/me/")
    anna = Member.objects.get(contact__identities__handle="anna@example.com")
    # without a picture: the initials avatar
    assert page.inner_text("#picture h2") == "Ihr Bild"
    assert page.inner_text("#picture .cm-av.big") == "A"  # name from the address: "anna"
    picture = tmp_path / "foto.png"
    Image.new("RGB", (800, 500), (30, 90, 200)).save(picture)
    page.set_input_files("#avatar-file", str(picture))
    page.click("#picture button.primary")
    page.wait_for_selector("#picture img.cm-av.big")
    assert "Ihr Bild wurde gespeichert." in page.inner_text(".cm-messages")
    wait_until(page, "document.querySelector('#picture img.cm-av').complete", timeout=30000)  # loaded, then measured
    assert page.evaluate("document.querySelector('#picture img.cm-av').naturalWidth") == 256
    check_layout(page)
    page.screenshot(path=str(shots / "community-avatar-de-390.png"), full_page=True)
    # a file that is not a picture is refused with what to do
    bad = tmp_path / "nicht-bild.png"
    bad.write_bytes(b"<script>alert(1)</script>")
    page.set_input_files("#avatar-file", str(bad))
    page.click("#picture button.primary")
    page.wait_for_selector(".cm-messages li.error")
    assert "kein Bild, das wir lesen können" in page.inner_text(".cm-messages")

    Member.objects.filter(pk=anna.pk).update(is_moderator=True)
    page.goto(f"{base}/community/q/{dup.pk}/")
    page.click("#curate summary")
    assert "Diese Frage mit einer anderen zusammenführen" in page.inner_text("#curate")
    check_layout(page)
    page.screenshot(path=str(shots / "community-merge-form-de-390.png"), full_page=True)
    page.fill("#merge-into", f"{base}/community/q/{keep.pk}/")
    page.fill("#merge-reason", "Gleiche Frage wie diese")
    page.click("#curate form[action$='/merge/'] button")
    page.wait_for_url(f"**/community/q/{keep.pk}/")
    assert "Die Fragen wurden zusammengeführt." in page.inner_text(".cm-messages")
    assert "Unter Konto → Adressen" in page.inner_text(".cm-answer .prose")
    assert "1 Antwort" in page.inner_text("#answers")
    check_layout(page)
    page.screenshot(path=str(shots / "community-merged-de-390.png"), full_page=True)
    page.goto(f"{base}/community/q/{dup.pk}/")   # the old address leads to the question that lives on
    assert page.url.endswith(f"/community/q/{keep.pk}/")

    page.click("#curate summary")
    page.fill("#move-tags", "konto adresse")
    page.fill("#move-product", "Webshop")
    page.fill("#move-reason", "Passt besser zu Adresse")
    page.click("#curate form[action$='/move/'] button")
    page.wait_for_selector(".cm-messages li")
    assert "Die Frage wurde verschoben." in page.inner_text(".cm-messages")
    assert page.inner_text("#question .cm-tags").split() == ["adresse", "konto", "Webshop"]

    page.goto(f"{base}/community/tags/")
    assert "Schlagwörter" in page.inner_text("h1")
    row = page.locator("li", has=page.locator("a.cm-tag", has_text="konto"))
    row.locator("summary").click()
    row.locator("textarea").fill("Alles rund um Ihr Kundenkonto")
    row.locator("button", has_text="Beschreibung speichern").click()
    page.wait_for_selector(".cm-messages li")
    assert "Das Schlagwort wurde gespeichert." in page.inner_text(".cm-messages")
    assert "Alles rund um Ihr Kundenkonto" in page.inner_text(".cm-tag-list")
    check_layout(page)
    page.screenshot(path=str(shots / "community-tags-de-390.png"), full_page=True)
    page.goto(f"{base}/community/tags/konto/")
    assert "Alles rund um Ihr Kundenkonto" in page.inner_text(".cm-tag-about")
    assert "Wie ändere ich meine Lieferadresse?" in page.inner_text(".cm-questions")
    assert page.query_selector(".cm-questions .cm-av")  # authors with their (initials) avatar
    check_layout(page)
    assert Question.objects.get(pk=dup.pk).merged_into_id == keep.pk
    ctx.close()


def test_idea_cluster_becomes_an_idea(browser, live_server, shots):  # noqa: F811
    base = live_server.url
    invite_agent("pm@example.com", display_name="Paula Produkt", role="supervisor", password="pw-pm-12345",
                 language="de")
    anna, bert = Member.objects.create(display_name="Anna"), Member.objects.create(display_name="Bert")
    actions.submit_idea(anna, title="Dunkelmodus für die App bitte",
                        description="Dunkelmodus für die App, abends ist sie zu hell.")
    actions.submit_idea(bert, title="Dark mode Dunkelmodus App",
                        description="Bitte einen Dunkelmodus in der App, nachts blendet sie.")
    feed = create_channel(kind="feed", name="Blogs")
    for i, text in enumerate(["Export als CSV Datei fehlt, bitte CSV Export einbauen",
                              "CSV Export fehlt mir sehr, Export als CSV Datei wäre toll",
                              "Ich brauche einen CSV Export der Rechnungen als Datei"]):
        Post.objects.create(channel=feed, external_id=f"p{i}", text=text, fetched_at=timezone.now())

    ctx, page = open_page(browser, PHONE)
    page.goto(f"{base}/moderation/ideas/clusters/")
    page.fill("input[name=username]", "pm@example.com")
    page.fill("input[name=password]", "pw-pm-12345")
    page.click("button[type=submit]")
    page.wait_for_selector("h1")
    assert page.inner_text("h1") == "Ideen-Gruppen"
    assert "Idee aus der Gruppe erstellen" in page.inner_text("main")
    assert "Ideen zusammenführen" in page.inner_text("main")
    check_layout(page)
    page.screenshot(path=str(shots / "idea-clusters-de-390.png"), full_page=True)
    group = page.locator("section.cm-cluster", has=page.locator("button", has_text="Idee aus der Gruppe erstellen"))
    group.locator("input[name=title]").fill("CSV-Export der Rechnungen")
    group.locator("button", has_text="Idee aus der Gruppe erstellen").click()
    page.wait_for_url("**/moderation/ideas/*/")
    made = Idea.objects.get(title="CSV-Export der Rechnungen")
    assert IdeaLink.objects.filter(idea=made, kind="post").count() == 3
    assert "3 öffentliche Beiträge" in page.inner_text("main") or "3" in page.inner_text("main p")
    check_layout(page)
    page.screenshot(path=str(shots / "idea-from-cluster-de-390.png"), full_page=True)
    ctx.close()
