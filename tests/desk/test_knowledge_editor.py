"""The knowledge editor in the agent UI: list, search, edit, preview, history and restore, permissions."""

from __future__ import annotations

import pytest
from django.urls import reverse

from resonanz.knowledge.actions import create_article, create_category
from resonanz.knowledge.models import Article, ArticleVersion

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def agent(client, agent_user):
    client.force_login(agent_user)
    return client


@pytest.fixture
def article(admin_user):
    return create_article(admin_user, title="How do I reset my password?", body="Open **Account**.",
                          language="en", status="published", example_questions="forgot password")


def form_data(**overrides):
    data = {"title": "Shipping costs", "body": "Shipping is **free** from 50 €.", "language": "en",
            "translation_of": "", "category": "", "tags": "shipping, costs", "status": "draft",
            "visibility": "public", "example_questions": "What does shipping cost?\r\nIs shipping free?",
            "note": ""}
    data.update(overrides)
    return data


def test_editor_creates_an_article_with_tags_and_questions(editor, admin_user):
    response = editor.post(reverse("knowledge:new"), form_data())
    article = Article.objects.get(title="Shipping costs")
    assert response.status_code == 302 and response["Location"] == reverse("knowledge:detail", args=[article.pk])
    assert sorted(article.tags.values_list("name", flat=True)) == ["costs", "shipping"]
    assert article.questions == ["What does shipping cost?", "Is shipping free?"]
    assert article.created_by == admin_user and article.versions.count() == 1
    page = editor.get(reverse("knowledge:detail", args=[article.pk])).content.decode()
    assert "<strong>free</strong>" in page and "Ada Admin" in page


def test_preview_renders_without_saving(editor):
    response = editor.post(reverse("knowledge:new"), form_data(body="Hello **world** <script>alert(1)</script>",
                                                              preview="1"))
    page = response.content.decode()
    assert response.status_code == 200 and not Article.objects.exists()
    assert "<strong>world</strong>" in page and "<script>alert(1)" not in page
    live = editor.post(reverse("knowledge:preview"), {"body": "*x* <img src=x onerror=alert(1)>"})
    assert live.content.decode().startswith("<p><em>x</em> &lt;img")


def test_edit_keeps_versions_and_restore_brings_old_text_back(editor, article, admin_user):
    url = reverse("knowledge:edit", args=[article.pk])
    form = editor.get(url).content.decode()
    assert "How do I reset my password?" in form
    editor.post(url, form_data(title="Reset your password", body="New text.", status="published",
                               note="shorter title"))
    article.refresh_from_db()
    assert article.title == "Reset your password" and article.versions.count() == 2
    history = editor.get(reverse("knowledge:history", args=[article.pk])).content.decode()
    assert "shorter title" in history and "Ada Admin" in history and "v1" in history
    old = editor.get(reverse("knowledge:version", args=[article.pk, 1])).content.decode()
    assert "<strong>Account</strong>" in old
    response = editor.post(reverse("knowledge:restore", args=[article.pk, 1]))
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.title == "How do I reset my password?" and article.body == "Open **Account**."
    latest = article.versions.first()
    assert latest.number == 3 and latest.note == "restored version 1" and latest.editor == admin_user


def test_translation_link_and_unlink(editor, article):
    editor.post(reverse("knowledge:new"), form_data(title="Passwort zurücksetzen", body="Öffnen Sie **Konto**.",
                                                    language="de", translation_of=article.pk))
    german = Article.objects.get(language="de")
    article.refresh_from_db()
    assert german.translation_group == article.translation_group and article.translation_group
    same = editor.post(reverse("knowledge:edit", args=[german.pk]),
                       form_data(title="Passwort zurücksetzen", body="x", language="en", translation_of=article.pk))
    assert same.status_code == 200 and "other language" in same.content.decode()
    editor.post(reverse("knowledge:edit", args=[german.pk]),
                form_data(title="Passwort zurücksetzen", body="x", language="de", translation_of=""))
    german.refresh_from_db()
    article.refresh_from_db()
    assert german.translation_group is None and article.translation_group is None


def test_status_buttons(editor, admin_user):
    draft = create_article(admin_user, title="Draft", body="text", language="en")
    editor.post(reverse("knowledge:status", args=[draft.pk]), {"status": "published"})
    draft.refresh_from_db()
    assert draft.status == "published" and draft.published_at is not None
    editor.post(reverse("knowledge:status", args=[draft.pk]), {"status": "nonsense"})
    draft.refresh_from_db()
    assert draft.status == "published"


def test_list_filters_and_search(editor, admin_user, article):
    category = create_category("Account", name_de="Konto")
    create_article(admin_user, title="Versandkosten", body="Ab 50 € kostenlos.", language="de", status="published",
                   category=category)
    create_article(admin_user, title="Proposed: delivery times", body="Two days.", language="en",
                   source="proposed", proposal={"conversations": [1, 2], "size": 2})
    create_article(admin_user, title="Internal password notes", body="password reset tool", language="en",
                   status="published", visibility="internal")
    url = reverse("knowledge:list")
    page = editor.get(url).content.decode()
    assert all(t in page for t in ("Versandkosten", "Proposed: delivery times", "How do I reset my password?"))
    page = editor.get(url, {"language": "de"}).content.decode()
    assert "Versandkosten" in page and "How do I reset" not in page
    page = editor.get(url, {"category": category.pk}).content.decode()
    assert "Versandkosten" in page and "How do I reset" not in page
    page = editor.get(url, {"proposed": "1", "status": "draft"}).content.decode()
    assert "Proposed: delivery times" in page and "Versandkosten" not in page
    page = editor.get(url, {"visibility": "internal"}).content.decode()
    assert "Internal password notes" in page and "Versandkosten" not in page
    ranked = editor.get(url, {"q": "password"}).content.decode()
    # Ranked best first by the one ranking; drafts are not part of it.
    assert ranked.index("How do I reset my password?") < ranked.find("Versandkosten") % (len(ranked) + 1)
    assert "Proposed: delivery times" not in ranked
    drafts = editor.get(url, {"q": "delivery", "status": "draft"}).content.decode()
    assert "Proposed: delivery times" in drafts
    assert editor.get(url, {"q": "   "}).status_code == 200
    assert editor.get(url, {"q": "x" * 5000}).status_code == 200


def test_agents_read_but_cannot_edit(agent, article):
    assert agent.get(reverse("knowledge:list")).status_code == 200
    detail = agent.get(reverse("knowledge:detail", args=[article.pk]))
    assert detail.status_code == 200 and reverse("knowledge:edit", args=[article.pk]) not in detail.content.decode()
    assert agent.get(reverse("knowledge:history", args=[article.pk])).status_code == 200
    assert agent.get(reverse("knowledge:edit", args=[article.pk])).status_code == 403
    assert agent.post(reverse("knowledge:new"), form_data()).status_code == 403
    assert agent.post(reverse("knowledge:restore", args=[article.pk, 1])).status_code == 403
    assert agent.post(reverse("knowledge:status", args=[article.pk]), {"status": "archived"}).status_code == 403
    assert agent.post(reverse("knowledge:categories"), {"name": "X"}).status_code == 403
    assert agent.get(reverse("knowledge:export_json")).status_code == 403
    assert ArticleVersion.objects.filter(article=article).count() == 1
    assert not Article.objects.filter(title="Shipping costs").exists()


def test_supervisors_edit(client, teams):
    from resonanz.inbox.actions import invite_agent

    lead = invite_agent("lead@example.com", display_name="Lea Lead", role="supervisor", password="pw-lead-1234")
    client.force_login(lead)
    assert client.post(reverse("knowledge:new"), form_data()).status_code == 302


def test_login_required(client, article):
    response = client.get(reverse("knowledge:list"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_categories_page(editor):
    editor.post(reverse("knowledge:categories"), {"name": "Orders", "name_de": "Bestellungen", "description": "",
                                                  "position": "2"})
    from resonanz.knowledge.models import Category

    category = Category.objects.get(name="Orders")
    assert category.name_de == "Bestellungen" and category.position == 2 and category.slug == "orders"
    editor.post(reverse("knowledge:category_edit", args=[category.pk]),
                {"name": "Orders and returns", "name_de": "Bestellungen", "description": "All about orders",
                 "position": "1"})
    category.refresh_from_db()
    assert category.name == "Orders and returns" and category.slug == "orders"
    assert "Orders and returns" in editor.get(reverse("knowledge:categories")).content.decode()


def test_pages_render_and_translation_is_prefilled(editor, article):
    for url in [reverse("knowledge:new"), reverse("knowledge:transfer"), reverse("knowledge:categories"),
                reverse("knowledge:list") + "?proposed=1&status=draft",
                reverse("knowledge:list") + "?q=password&status=archived"]:
        assert editor.get(url).status_code == 200, url
    html = editor.get(reverse("knowledge:new"), {"translate": article.pk}).content.decode()
    assert '<option value="de" selected>' in html and f'<option value="{article.pk}" selected>' in html
