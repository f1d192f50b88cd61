"""Abuse of "was this helpful?" (issue 16): one vote per browser in a signed cookie (no session row), no
embedding in the web request, and votes from one address cannot move the ranking by themselves."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from resonanz.knowledge import search
from resonanz.knowledge.actions import create_article
from resonanz.knowledge.models import ArticleFeedback

pytestmark = pytest.mark.django_db

QUERY = "Paketlieferung verschollen Spedition"


@pytest.fixture
def article(admin_user):
    search.reset()
    yield create_article(admin_user, title="Wie setze ich mein Passwort zurück?", language="de", status="published",
                         body="Öffnen Sie Konto → Sicherheit.", example_questions="Passwort vergessen")
    search.reset()


def vote(client: Client, article, helpful: str = "yes", q: str = QUERY):
    return client.post(f"/help/de/{article.pk}/feedback/", {"helpful": helpful, "q": q})


def found(article) -> bool:
    return article.pk in [r.article.pk for r in search.articles().search(QUERY, public_only=True, language="de")]


def test_one_vote_per_browser_in_a_signed_cookie_without_a_session_row(article):
    browser = Client(REMOTE_ADDR="203.0.113.1")
    assert vote(browser, article).status_code == 302
    assert vote(browser, article, "no").status_code == 302  # the same browser again: not counted
    article.refresh_from_db()
    assert (article.helpful_count, article.unhelpful_count) == (1, 0)
    assert Session.objects.count() == 0
    cookie = browser.cookies["help_votes"]
    assert cookie["httponly"] and cookie["path"] == "/help/" and cookie.value.startswith(f"{article.pk}:")
    page = browser.get(f"/help/de/{article.pk}-{article.slug}/").content.decode()
    assert 'name="helpful"' not in page  # the page knows this browser voted

    forged = Client(REMOTE_ADDR="203.0.113.2")
    forged.cookies["help_votes"] = str(article.pk)  # unsigned: worth nothing
    vote(forged, article)
    article.refresh_from_db()
    assert article.helpful_count == 2


def test_the_vote_request_never_embeds_the_worker_learns(article, monkeypatch, django_capture_on_commit_callbacks):
    learned = []
    monkeypatch.setattr(search.ArticleIndex, "feedback", lambda self, a, q, helpful: learned.append((a.pk, q)))
    with django_capture_on_commit_callbacks(execute=False) as queued:
        vote(Client(REMOTE_ADDR="203.0.113.1"), article)
        vote(Client(REMOTE_ADDR="198.51.100.9"), article)
    assert learned == [] and len(queued) == 2  # the requests only counted and queued
    for callback in queued:
        callback()  # what the worker runs (the task is eager in tests)
    assert learned == [(article.pk, QUERY), (article.pk, QUERY)]


def test_votes_from_one_address_alone_do_not_move_the_ranking(article, django_capture_on_commit_callbacks):
    assert not found(article)
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(5):  # five browsers (or cleared cookies) behind one address
            vote(Client(REMOTE_ADDR="203.0.113.1"), article)
    assert ArticleFeedback.objects.count() == 5  # counted as votes ...
    assert not found(article)  # ... but the ranking did not learn the query from one address
    search.reset()
    assert not found(article)  # nor after a restart, when the history is read from the database

    with django_capture_on_commit_callbacks(execute=True):
        vote(Client(REMOTE_ADDR="198.51.100.9"), article)  # a second address agrees
    assert found(article)
    search.reset()
    assert found(article)


def test_agents_feedback_counts_at_once(article, admin_user, django_capture_on_commit_callbacks):
    from resonanz.knowledge.actions import record_feedback

    with django_capture_on_commit_callbacks(execute=True):
        record_feedback(article, True, query=QUERY, source="suggestion_used", agent=admin_user)
    assert found(article)
