"""The public community pages: login by link, ask → answer → accept, ideas, languages and what stays private."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from resonanz.community import actions
from resonanz.community.models import Idea, Member, Question

pytestmark = pytest.mark.django_db


def login(client: Client, email: str, lang: str = "en") -> Member:
    client.get(f"/community/lang/{lang}/")
    mail.outbox.clear()
    response = client.post("/community/login/", {"email": email, "next": "/community/ask/"})
    assert response.status_code == 200
    link = re.search(r"http://[^\s]+/community/login/[^\s]+", mail.outbox[-1].body).group(0)
    path = link.split("127.0.0.1:8000", 1)[-1]
    assert client.get(path).status_code == 200  # a confirmation page, the link is not spent by opening it
    response = client.post(path.split("?")[0], {"next": "/community/ask/"})
    assert response.status_code == 302 and response["Location"] == "/community/ask/"
    return Member.objects.get(contact__identities__handle=email)


def test_ask_answer_accept_through_the_pages():
    asker, helper = Client(), Client()
    anna = login(asker, "anna@example.com")
    r = asker.post("/community/ask/", {"title": "How do I change my delivery address?",
                                       "body": "I moved and cannot find the **address** setting.", "tags": "account"})
    assert r.status_code == 302
    question = Question.objects.get()
    login(helper, "bert@example.com")
    helper.post(f"/community/q/{question.pk}/answer/", {"body": "Open Account → Addresses and edit it."})
    answer = question.answers.get()
    assert helper.post(f"/community/q/{question.pk}/accept/{answer.pk}/").status_code == 302
    assert Question.objects.get().accepted_answer_id is None  # only the asker may accept
    asker.post(f"/community/q/{question.pk}/accept/{answer.pk}/")
    assert Question.objects.get().accepted_answer_id == answer.pk
    page = Client().get(f"/community/q/{question.pk}/").content.decode()
    assert "Accepted answer" in page and "<strong>address</strong>" in page
    assert "anna@example.com" not in page and "bert@example.com" not in page
    profile = Client().get(f"/community/members/{answer.author_id}/").content.decode()
    assert ">15<" in profile and "Problem solver" in profile
    assert anna.pk != answer.author_id


def test_pages_in_german_and_sorting(client):
    login(client, "anna@example.com", lang="de")
    client.post("/community/ask/", {"title": "Wie ändere ich meine Adresse?", "body": "Ich bin umgezogen, wo geht das?"})
    for url in ("/community/", "/community/?sort=votes", "/community/?sort=unanswered", "/community/?q=Adresse",
                "/community/ideas/", "/community/ideas/done/", "/community/ideas/new/", "/community/ask/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert '<html lang="de">' in response.content.decode()
    assert "Fragen" in client.get("/community/").content.decode()
    assert "Wie ändere ich" in client.get("/community/?sort=unanswered").content.decode()


def test_members_only_pages_redirect_and_bad_input_is_a_4xx():
    client = Client()
    assert client.get("/community/ask/")["Location"].startswith("/community/login/?next=/community/ask/")
    assert client.post("/community/login/", {"email": "nope"}).status_code == 200
    assert client.get("/community/q/999/").status_code == 404
    assert client.get("/community/login/garbage/").status_code == 200
    assert client.post("/community/login/garbage/")["Location"] == "/community/login/"
    login(client, "anna@example.com")
    r = client.post("/community/ask/", {"title": "short", "body": "x"})
    assert r.status_code == 200 and Question.objects.count() == 0
    assert client.post("/community/q/abc/vote/").status_code == 404


def test_csrf_is_required_for_votes():
    client = Client(enforce_csrf_checks=True)
    author = Client()
    login(author, "anna@example.com")
    author.post("/community/ideas/new/", {"title": "Dunkelmodus für die App", "description": "Abends bitte dunkel."})
    idea = Idea.objects.get()
    assert client.post(f"/community/ideas/{idea.pk}/vote/").status_code == 403


def test_similar_questions_and_articles_while_typing(admin_user):
    from resonanz.knowledge.actions import create_article

    create_article(admin_user, title="Change your delivery address", body="Open Account, then Addresses.",
                   language="en", status="published")
    anna = Member.objects.create(display_name="Anna")
    actions.ask_question(anna, title="How do I change my delivery address?", body="I moved to another city.")
    data = Client().get("/community/similar/?q=delivery address").json()
    assert data["questions"][0]["title"] == "How do I change my delivery address?"
    assert data["articles"][0]["title"] == "Change your delivery address"
    assert Client().get("/community/similar/?q=").json() == {"questions": [], "articles": []}


def test_ideas_vote_and_status_history(client, admin_user):
    login(client, "anna@example.com")
    client.post("/community/ideas/new/", {"title": "Dunkelmodus für die App", "description": "Abends bitte dunkel."})
    idea = Idea.objects.get()
    voter = Client()
    login(voter, "bert@example.com")
    voter.post(f"/community/ideas/{idea.pk}/vote/", {"up": "1"})
    assert Idea.objects.get().votes == 2
    actions.set_idea_status(idea, status="planned", note="Kommt im Frühjahr.", actor=admin_user)
    actions.link_idea(idea, kind="conversation", object_id=1, actor=admin_user)
    page = voter.get(f"/community/ideas/{idea.pk}/").content.decode()
    assert "Kommt im Frühjahr." in page and "2 votes" in page and "1 customer asked for it in support" in page


def test_editor_turns_an_answer_into_a_draft_article(client, admin_user, agent_user):
    anna = Member.objects.create(display_name="Anna")
    bert = Member.objects.create(display_name="Bert")
    q = actions.ask_question(anna, title="Wie ändere ich meine Adresse?", body="Ich bin umgezogen, was nun?",
                             language="de")
    a = actions.answer_question(bert, q, body="Unter **Konto → Adressen** ändern.")
    client.force_login(agent_user)  # an agent may not write articles
    assert "Draft a help-center article" not in client.get(f"/community/q/{q.pk}/").content.decode()
    assert client.post(f"/community/q/{q.pk}/article/{a.pk}/").status_code == 403
    client.force_login(admin_user)
    assert "Draft a help-center article" in client.get(f"/community/q/{q.pk}/").content.decode()
    response = client.post(f"/community/q/{q.pk}/article/{a.pk}/")
    from resonanz.knowledge.models import Article

    article = Article.objects.get()
    assert response["Location"] == f"/knowledge/{article.pk}/edit/"
    assert (article.status, article.title, article.source) == ("draft", q.title, "community")
    assert "Konto → Adressen" in article.body


def test_writes_are_rate_limited_per_address(client, settings):
    settings.RESONANZ_RATE_LIMITS = {**settings.RESONANZ_RATE_LIMITS, "community_writes": "2/600"}
    login(client, "anna@example.com")
    author = Member.objects.create(display_name="Bert")
    idea = actions.submit_idea(author, title="Dunkelmodus für die App", description="Abends ist die App zu hell.")
    assert client.post(f"/community/ideas/{idea.pk}/vote/", {"up": "1"}).status_code == 302
    assert client.post(f"/community/ideas/{idea.pk}/vote/", {"up": "0"}).status_code == 302
    response = client.post(f"/community/ideas/{idea.pk}/vote/", {"up": "1"})
    assert response.status_code == 429 and Idea.objects.get().votes == 1


def test_a_products_questions_and_experts_have_their_own_page():
    """Experts of the week per product (issue 14): the product on a question leads to its questions and experts."""
    from django.core.cache import cache

    from tests.community.conftest import member_via_link

    anna, bert = member_via_link("anna@example.com", "Anna"), member_via_link("bert@example.com", "Bert")
    app = actions.ask_question(anna, title="App stürzt beim Start ab", body="Seit dem Update startet sie nicht.",
                               product="Shop-App")
    actions.ask_question(anna, title="Rechnung doppelt erhalten", body="Ich habe zwei Rechnungen bekommen.")
    actions.accept_answer(anna, actions.answer_question(bert, app, body="Neu installieren hilft."))
    cache.clear()
    question_page = Client().get(f"/community/q/{app.pk}/").content.decode()
    assert 'href="/community/?product=Shop-App"' in question_page
    client = Client()
    client.get("/community/lang/de/")
    page = client.get("/community/?product=Shop-App").content.decode()
    assert "Fragen zu „Shop-App“" in page and "App stürzt" in page and "Rechnung doppelt" not in page
    assert "Experten der Woche" in page and "Bert" in page and "?sort=votes&product=Shop-App" in page
    assert "Bert" not in Client().get("/community/?product=Kasse").content.decode()
    assert Client().get("/community/?product=%00%ff").status_code == 200


def test_the_idea_form_suggests_similar_ideas_not_questions(admin_user):
    """Issue 14: "duplicates suggested while typing" an idea; a merged idea is no longer suggested."""
    from resonanz.community import search

    search.reset()
    anna, bert = Member.objects.create(display_name="Anna"), Member.objects.create(display_name="Bert")
    actions.ask_question(anna, title="Dark mode in the app?", body="Is there a dark mode in the app?")
    dark = actions.submit_idea(anna, title="Dark mode for the app", description="The app is too bright at night.")
    other = actions.submit_idea(bert, title="A dark theme for the app", description="Please add a dark theme.")
    data = Client().get("/community/similar/?kind=ideas&q=dark mode app").json()
    assert set(data) == {"ideas", "articles"}
    assert data["ideas"][0] == {"title": "Dark mode for the app", "url": f"/community/ideas/{dark.pk}/", "votes": 1}
    assert "Dark mode in the app?" not in str(data)
    actions.merge_ideas(dark, other, reason="Doppelt", actor=admin_user)
    titles = [i["title"] for i in Client().get("/community/similar/?kind=ideas&q=dark theme app").json()["ideas"]]
    assert "A dark theme for the app" not in titles and "Dark mode for the app" in titles
    assert Client().get("/community/similar/?kind=ideas&q=%00").json() == {"ideas": [], "articles": []}


def test_the_showcase_names_who_proposed_and_who_backed_done_ideas(admin_user):
    from tests.community.conftest import member_via_link

    anna, bert = member_via_link("anna@example.com", "Anna"), member_via_link("bert@example.com", "Bert")
    carla = member_via_link("carla@example.com", "Carla")
    done = actions.submit_idea(anna, title="Dunkelmodus für die App", description="Abends blendet die App stark.")
    waiting = actions.submit_idea(bert, title="Export als CSV-Datei", description="Alle Rechnungen als CSV laden.")
    actions.vote_idea(bert, done)
    actions.vote_idea(carla, done)
    actions.set_keep_posts(carla, True)
    actions.erase_contact(carla.contact)  # a deleted member is not listed as a backer
    actions.set_idea_status(done, status="done", note="Ist seit Version 3 da.", actor=admin_user)
    page = Client().get("/community/ideas/done/").content.decode()
    assert "Dunkelmodus für die App" in page and waiting.title not in page
    backed = page.split("backed by", 1)[1].split("</p>", 1)[0]
    assert ">Bert<" in backed and "Anna" not in backed and "Carla" not in backed
    assert "Proposed by" in page and ">Anna<" in page


def test_staff_and_moderators_are_badged_and_member_links_are_nofollow(agent_user):
    from tests.community.conftest import member_via_link

    anna, mona = member_via_link("anna@example.com", "Anna"), member_via_link("mona@example.com", "Mona")
    mona.is_moderator = True
    mona.save()
    q = actions.ask_question(anna, title="Wie ändere ich meine Adresse?", body="Siehe [Hilfe](https://example.org/hilfe), bitte.")
    actions.post_staff_answer(q.pk, agent_user, "Unter Konto → Adressen.")
    actions.add_comment(mona, text="Danke für die Frage!", question=q)
    page = Client().get(f"/community/q/{q.pk}/").content.decode()
    assert 'class="cm-badge staff">Staff<' in page and 'class="cm-badge mod">Moderator<' in page
    assert 'rel="noopener noreferrer nofollow"' in page and 'href="https://example.org/hilfe"' in page
