"""The knowledge API: articles through the actions, categories, search, feedback and suggestions."""

from __future__ import annotations

import pytest

from resonanz.inbox.actions import ingest, send_reply
from resonanz.knowledge.actions import create_article
from resonanz.knowledge.models import Article, ArticleFeedback, Suggestion
from tests.conftest import inbound

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(admin_user):
    return create_article(admin_user, title="How do I reset my password?", body="Open **Account → Security**.",
                          language="en", status="published", example_questions="forgot my password")


def test_create_update_translate_and_archive(admin_api):
    category = admin_api.post("/api/categories/", {"name": "Account", "name_de": "Konto"}, format="json")
    assert category.status_code == 201 and category.json()["slug"] == "account"
    created = admin_api.post("/api/articles/", {
        "title": "Reset your password", "body": "Open **Account**.", "language": "en", "status": "published",
        "category": category.json()["id"], "tags": ["account"], "example_questions": ["forgot password"]},
        format="json")
    assert created.status_code == 201, created.json()
    data = created.json()
    assert data["body_html"] == "<p>Open <strong>Account</strong>.</p>" and data["tags"] == ["account"]
    assert data["example_questions"] == ["forgot password"] and data["url"].endswith(
        f"/help/en/{data['id']}-reset-your-password/")
    german = admin_api.post("/api/articles/", {"title": "Passwort zurücksetzen", "body": "Öffnen Sie **Konto**.",
                                               "language": "de", "translation_of": data["id"]}, format="json")
    assert german.status_code == 201 and german.json()["translations"] == [data["id"]]
    assert german.json()["url"] is None  # a draft is not in the help center
    patched = admin_api.patch(f"/api/articles/{data['id']}/", {"body": "Changed."}, format="json")
    assert patched.status_code == 200 and patched.json()["body"] == "Changed."
    article = Article.objects.get(pk=data["id"])
    assert article.versions.count() == 2 and article.updated_by.username == "admin@example.com"
    versions = admin_api.get(f"/api/articles/{data['id']}/versions/").json()["results"]
    assert [v["number"] for v in versions] == [2, 1]
    restored = admin_api.post(f"/api/articles/{data['id']}/restore/", {"version": 1}, format="json")
    assert restored.json()["body"] == "Open **Account**."
    assert admin_api.delete(f"/api/articles/{data['id']}/").status_code == 204
    assert Article.objects.get(pk=data["id"]).status == "archived"


def test_bad_input_is_a_clear_400(admin_api, published):
    empty = admin_api.post("/api/articles/", {"title": " ", "body": "x", "language": "en"}, format="json")
    assert empty.status_code == 400 and "title" in empty.json()
    lang = admin_api.post("/api/articles/", {"title": "T", "body": "x", "language": "fr"}, format="json")
    assert lang.status_code == 400 and "language" in lang.json()
    same = admin_api.post("/api/articles/", {"title": "T", "body": "x", "language": "en",
                                             "translation_of": published.pk}, format="json")
    assert same.status_code == 400 and "other language" in str(same.json())
    assert not Article.objects.filter(title="T").exists()


def test_filters(api, admin_user, published):
    create_article(admin_user, title="Entwurf", body="x", language="de")
    create_article(admin_user, title="Intern", body="x", language="de", status="published", visibility="internal")
    titles = lambda **p: {a["title"] for a in api.get("/api/articles/", p).json()["results"]}  # noqa: E731
    assert titles(status="draft") == {"Entwurf"}
    assert titles(language="en") == {"How do I reset my password?"}
    assert titles(visibility="internal") == {"Intern"}
    assert titles(language="de", status="published") == {"Intern"}


def test_agents_read_but_do_not_write(api, published):
    assert api.get(f"/api/articles/{published.pk}/").status_code == 200
    assert api.post("/api/articles/", {"title": "x", "body": "y", "language": "en"}, format="json").status_code == 403
    assert api.patch(f"/api/articles/{published.pk}/", {"title": "x"}, format="json").status_code == 403
    assert api.delete(f"/api/articles/{published.pk}/").status_code == 403
    assert api.post("/api/categories/", {"name": "x"}, format="json").status_code == 403


def test_feedback_changes_counts(api, published):
    response = api.post(f"/api/articles/{published.pk}/feedback/", {"helpful": True, "query": "forgot password"},
                        format="json")
    assert response.json() == {"helpful_count": 1, "unhelpful_count": 0}
    response = api.post(f"/api/articles/{published.pk}/feedback/", {"helpful": False}, format="json")
    assert response.json() == {"helpful_count": 1, "unhelpful_count": 1}
    assert ArticleFeedback.objects.filter(article=published, source="api").count() == 2
    assert api.post(f"/api/articles/{published.pk}/feedback/", {}, format="json").status_code == 400


def test_search_endpoint(api, admin_user, published):
    create_article(admin_user, title="Internal: password tool", body="password admin tool", language="en",
                   status="published", visibility="internal")
    results = api.get("/api/knowledge/search/", {"q": "password reset"}).json()
    assert {r["id"] for r in results} >= {published.pk}
    assert set(results[0]) == {"id", "title", "score", "language", "url"}
    public = api.get("/api/knowledge/search/", {"q": "password", "public": "1"}).json()
    assert [r["title"] for r in public] == ["How do I reset my password?"]
    for q in ("", "   ", "x" * 3000, "the and of", "und oder der die das"):
        response = api.get("/api/knowledge/search/", {"q": q})
        assert response.status_code == 200 and response.json() == [], q


def test_suggestions_for_a_conversation(api, admin_user, api_channel, published):
    result = ingest(api_channel, inbound("s1", text="I forgot my password"))
    url = f"/api/conversations/{result.conversation.pk}/suggestions/"
    missing = api.get(url)
    assert missing.status_code == 404 and "detail" in missing.json()
    earlier = ingest(api_channel, inbound("s0", handle="other@example.com", text="Password lost"))
    reply = send_reply(earlier.conversation, admin_user, "Use the reset link on the login page.")
    Suggestion.objects.create(message=result.message, articles=[{"id": published.pk, "score": 0.91}],
                              replies=[{"message_id": reply.pk, "conversation_id": earlier.conversation.pk,
                                        "score": 0.5}],
                              answer_article=published, answer_confidence=0.87, bot_decision="below_threshold")
    data = api.get(url).json()
    assert data["message"] == result.message.pk and data["bot_decision"] == "below_threshold"
    assert data["articles"] == [{"id": published.pk, "title": published.title, "score": 0.91, "language": "en",
                                 "url": f"http://testserver/help/en/{published.pk}-{published.slug}/"}]
    assert data["confidence"] == 0.87
    assert data["replies"] == [{"message_id": reply.pk, "conversation_id": earlier.conversation.pk, "score": 0.5,
                                "text": "Use the reset link on the login page."}]
    assert api.get("/api/conversations/999999/suggestions/").status_code == 404
