"""In the browser, German at 390 px: a mentor approves a held post, a promoted moderator locks a question from
its page, a product's page lists its questions and experts, and the idea form suggests a duplicate idea.

Every page is checked for its rendered text, no console errors or failed requests and no horizontal
overflow; screenshots go to $RESONANZ_SCREENSHOTS (default: the test's temporary directory).
"""

from __future__ import annotations

import pytest

from resonanz.community import actions
from resonanz.community.models import Answer, Member, Question
from tests.e2e.test_community import PHONE, check_layout, open_page, shots, sign_up, smtp  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_mentor_moderator_product_page_and_duplicate_ideas(browser, live_server, smtp, shots, settings):  # noqa: F811
    base = live_server.url
    settings.RESONANZ_BASE_URL = base
    bert = Member.objects.create(display_name="Bert Beispiel")
    question = actions.ask_question(bert, title="App stürzt beim Start ab", body="Seit dem Update startet sie nicht.",
                                    product="Shop-App")
    hilde = Member.objects.create(display_name="Hilde Helfer")
    actions.accept_answer(bert, actions.answer_question(hilde, question, body="Neu installieren hat geholfen."))
    newbie = Member.objects.create(display_name="Neu Ling")
    held = actions.answer_question(newbie, question, body="Günstig hier: http://spam.example www.spam.example")
    actions.submit_idea(bert, title="Dunkelmodus für die App", description="Abends blendet die App sehr stark.")

    ctx, page = open_page(browser, PHONE)
    sign_up(page, base, smtp, "anna@example.com", "de", "/community/")
    anna = Member.objects.get(contact__identities__handle="anna@example.com")
    Member.objects.filter(pk=anna.pk).update(reputation=500)  # the mentor level: reviews new members' posts

    page.goto(f"{base}/community/")
    page.click("nav.cm-nav a[href='/community/moderation/']")
    assert page.inner_text("h1") == "Beiträge, die auf eine Moderation warten"
    assert "spam.example" in page.inner_text(f"#held-answer-{held.pk}")
    check_layout(page)
    page.screenshot(path=str(shots / "community-held-queue-de-390.png"), full_page=True)
    page.fill(f"#reason-answer-{held.pk}", "Die Links sind in Ordnung")
    page.click(f"#held-answer-{held.pk} button[value=approve]")
    page.wait_for_selector(".cm-messages li")
    assert "Nichts wartet." in page.inner_text(".cm-held")
    assert Answer.objects.get(pk=held.pk).visibility == "visible"

    Member.objects.filter(pk=anna.pk).update(is_moderator=True)
    page.goto(f"{base}/community/q/{question.pk}/")
    form = page.locator("#question details.cm-mod", has=page.locator("select[name=action]"))
    form.locator("summary").click()
    form.locator("select[name=action]").select_option("lock")
    form.locator("input[name=reason]").fill("Die Frage ist beantwortet")
    check_layout(page)
    page.screenshot(path=str(shots / "community-moderate-form-de-390.png"), full_page=True)
    form.locator("button[type=submit]").click()
    page.wait_for_selector(".cm-messages li")
    assert "Diese Frage ist gesperrt." in page.inner_text("#question")
    assert Question.objects.get(pk=question.pk).locked

    page.click("#question a.cm-tag.product")
    page.wait_for_url("**/community/?product=Shop-App")
    assert page.inner_text("h1") == "Fragen zu „Shop-App“"
    assert "App stürzt beim Start ab" in page.inner_text(".cm-questions")
    assert "Hilde Helfer" in page.inner_text(".cm-experts")
    check_layout(page)
    page.screenshot(path=str(shots / "community-product-de-390.png"), full_page=True)

    page.goto(f"{base}/community/ideas/new/")
    page.fill("input[name=title]", "Dunkles Design für die App")
    page.wait_for_selector("#similar:not([hidden]) #similar-questions a", timeout=60000)
    assert "Dunkelmodus für die App" in page.inner_text("#similar-questions")
    assert "Vielleicht schon vorgeschlagen" in page.inner_text("#similar")
    check_layout(page)
    page.screenshot(path=str(shots / "community-idea-duplicate-de-390.png"), full_page=True)
    ctx.close()
