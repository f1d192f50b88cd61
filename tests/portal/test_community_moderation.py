"""Moderation on the public pages (issue 14): promoted members lock, remove, restore and edit posts from the
post's page; mentors approve or remove new members' held posts; everything with a reason the author sees."""

from __future__ import annotations

import pytest
from django.test import Client

from resonanz.community import actions
from resonanz.community.models import Answer, Idea, ModerationAction, Question
from resonanz.portal.community.common import SESSION_KEY
from tests.community.conftest import member_via_link

pytestmark = pytest.mark.django_db


def signed_in(member, lang: str = "en") -> Client:
    client = Client()
    client.get(f"/community/lang/{lang}/")
    session = client.session
    session[SESSION_KEY] = member.pk
    session.save()
    return client


@pytest.fixture
def thread(db):
    anna = member_via_link("anna@example.com", "Anna")
    bert = member_via_link("bert@example.com", "Bert")
    q = actions.ask_question(anna, title="Wie ändere ich meine Lieferadresse?",
                             body="Ich bin umgezogen und finde die Adresse nicht.")
    answer = actions.answer_question(bert, q, body="Unter Konto → Adressen.")
    return {"anna": anna, "bert": bert, "question": q, "answer": answer}


def test_a_promoted_moderator_locks_edits_and_removes_from_the_page(thread):
    mod = member_via_link("mod@example.com", "Mona")
    mod.is_moderator = True
    mod.save()
    q, answer = thread["question"], thread["answer"]
    client = signed_in(mod)
    page = client.get(f"/community/q/{q.pk}/").content.decode()
    assert f'id="mod-question-{q.pk}-action"' in page and f'id="mod-answer-{answer.pk}-action"' in page
    assert 'href="/community/moderation/"' in page
    r = client.post("/community/moderate/", {"kind": "question", "id": q.pk, "action": "lock", "reason": "Erledigt"})
    assert r.status_code == 302 and r["Location"] == f"/community/q/{q.pk}/"
    assert Question.objects.get(pk=q.pk).locked
    client.post("/community/moderate/", {"kind": "answer", "id": answer.pk, "action": "edit",
                                         "body": "Unter **Konto → Adressen** ändern.", "reason": "Formatierung"})
    assert "<strong>" in Answer.objects.get(pk=answer.pk).body_html
    r = client.post("/community/moderate/", {"kind": "answer", "id": answer.pk, "action": "remove", "reason": "x"},
                    follow=True)
    assert "at least 3 characters" in r.content.decode() and Answer.objects.get(pk=answer.pk).visibility == "visible"
    client.post("/community/moderate/", {"kind": "answer", "id": answer.pk, "action": "remove", "reason": "Falsch"})
    assert Answer.objects.get(pk=answer.pk).visibility == "removed"
    assert Question.objects.get(pk=q.pk).answer_count == 0
    assert list(ModerationAction.objects.order_by("id").values_list("action", "actor_member")) == [
        ("lock", mod.pk), ("edit", mod.pk), ("remove", mod.pk)]
    own = signed_in(thread["bert"]).get(f"/community/members/{thread['bert'].pk}/").content.decode()
    assert "Falsch" in own and "Formatierung" in own
    idea = actions.submit_idea(thread["anna"], title="Dunkelmodus für die App", description="Abends ist die App viel zu hell.")
    assert f'id="mod-idea-{idea.pk}-action"' in client.get(f"/community/ideas/{idea.pk}/").content.decode()
    r = client.post("/community/moderate/", {"kind": "idea", "id": idea.pk, "action": "remove", "reason": "Doppelt"})
    assert r["Location"] == f"/community/ideas/{idea.pk}/" and Idea.objects.get(pk=idea.pk).visibility == "removed"


def test_mentors_review_held_posts_and_nothing_else(thread):
    newbie = member_via_link("neu@example.com", "Neu")
    held = actions.answer_question(newbie, thread["question"], body="Kauft hier http://spam.example www.spam.example")
    assert held.visibility == "held"
    mentor = thread["bert"]
    mentor.reputation = 500
    mentor.save()
    client = signed_in(mentor, "de")
    queue = client.get("/community/moderation/").content.decode()
    assert "Beiträge, die auf eine Moderation warten" in queue and "spam.example" in queue
    assert f'id="held-answer-{held.pk}"' in queue
    # a mentor sees no moderation form on a post page: their right is the queue of held posts
    assert 'id="mod-question-' not in client.get(f"/community/q/{thread['question'].pk}/").content.decode()
    r = client.post("/community/moderate/", {"kind": "answer", "id": thread["answer"].pk, "action": "remove",
                                             "reason": "Gefällt mir nicht"}, follow=True)
    assert "Sie dürfen das nicht moderieren." in r.content.decode()
    assert Answer.objects.get(pk=thread["answer"].pk).visibility == "visible"
    r = client.post("/community/moderate/", {"kind": "answer", "id": held.pk, "action": "approve",
                                             "reason": "Links sind in Ordnung", "from": "queue"})
    assert r.status_code == 302 and r["Location"] == "/community/moderation/"
    assert Answer.objects.get(pk=held.pk).visibility == "visible"
    mentor.privileges_revoked = True  # a moderator took the level's rights back
    mentor.save()
    assert client.get("/community/moderation/").status_code == 403


def test_members_without_the_right_get_403_and_no_link(thread):
    client = signed_in(thread["anna"])
    assert client.get("/community/moderation/").status_code == 403
    r = client.post("/community/moderate/", {"kind": "question", "id": thread["question"].pk, "action": "lock",
                                             "reason": "Meine Frage"})
    assert r.status_code == 403 and not Question.objects.get(pk=thread["question"].pk).locked
    assert 'href="/community/moderation/"' not in client.get("/community/").content.decode()
    assert Client().get("/community/moderation/").status_code == 302  # visitors log in first
    mod = member_via_link("mod@example.com", "Mona")
    mod.is_moderator = True
    mod.save()
    for body in ({"kind": "video", "id": "1"}, {"kind": "answer", "id": "²"}, {"kind": "answer"}):
        r = signed_in(mod).post("/community/moderate/", {**body, "action": "remove", "reason": "Test"})
        assert r.status_code == 302 and r["Location"] == "/community/moderation/"


def test_levels_unlock_rights_that_a_moderator_takes_back(thread, agent_user):
    """Regular (50): edit tags; superuser (200): close duplicates; a moderator can take either back."""
    from resonanz.community.models import Tag

    bert, q = thread["bert"], thread["question"]
    actions.ask_question(thread["anna"], title="Adresse ändern geht nicht", body="Wo ändere ich meine Adresse?",
                         tags="adresse")
    tag = Tag.objects.get(name="adresse")
    client = signed_in(bert)
    assert client.post(f"/community/tags/{tag.pk}/edit/", {"what": "describe", "description": "x"}).status_code == 403
    bert.reputation = 50
    bert.save()
    client.post(f"/community/tags/{tag.pk}/edit/", {"what": "describe", "description": "Lieferadressen"})
    assert Tag.objects.get(pk=tag.pk).description == "Lieferadressen"
    dup = Question.objects.get(title="Adresse ändern geht nicht")
    assert client.post(f"/community/q/{dup.pk}/merge/", {"into": q.pk, "reason": "Doppelt"}).status_code == 403
    bert.reputation = 200
    bert.save()
    actions.set_privileges(bert, revoked=True, reason="Schlagwörter verwüstet", actor=agent_user)
    assert client.post(f"/community/q/{dup.pk}/merge/", {"into": q.pk, "reason": "Doppelt"}).status_code == 403
    assert client.post(f"/community/tags/{tag.pk}/edit/", {"what": "describe", "description": "y"}).status_code == 403
    actions.set_privileges(bert, revoked=False, reason="Wieder gut", actor=agent_user)
    client.post(f"/community/q/{dup.pk}/merge/", {"into": q.pk, "reason": "Doppelt"})
    assert Question.objects.get(pk=dup.pk).merged_into_id == q.pk


def test_a_moderator_removes_a_comment_from_the_page(thread):
    mod = member_via_link("mod@example.com", "Mona")
    mod.is_moderator = True
    mod.save()
    q = thread["question"]
    comment = actions.add_comment(thread["bert"], text="Kauft lieber woanders!", answer=thread["answer"])
    client = signed_in(mod)
    assert f'id="mod-comment-{comment.pk}-action"' in client.get(f"/community/q/{q.pk}/").content.decode()
    r = client.post("/community/moderate/", {"kind": "comment", "id": comment.pk, "action": "remove",
                                             "reason": "Werbung"})
    assert r["Location"] == f"/community/q/{q.pk}/#c{comment.pk}"
    assert "Kauft lieber woanders!" not in Client().get(f"/community/q/{q.pk}/").content.decode()
    assert ModerationAction.objects.get(target_kind="comment").reason == "Werbung"
