"""Moving and merging questions, editing tags, the moderation queue and members over the API (issue 14).

The same actions as the forms on the public pages and in /moderation/: same permissions, every change in the
moderation log, the reason shown to the author, and a clear 4xx for bad input.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client
from rest_framework.test import APIClient

from resonanz.community import actions
from resonanz.community.models import (
    Answer,
    Idea,
    IdeaLink,
    Member,
    ModerationAction,
    Question,
    ReputationEvent,
    Tag,
    Vote,
)
from resonanz.core.tokens import create_token
from resonanz.portal.community.common import SESSION_KEY
from tests.community.conftest import member_via_link

pytestmark = pytest.mark.django_db


@pytest.fixture
def forum(db):
    anna = member_via_link("anna@example.com", "Anna")
    bert = member_via_link("bert@example.com", "Bert")
    carla = member_via_link("carla@example.com", "Carla")
    q = actions.ask_question(anna, title="Wie ändere ich meine Lieferadresse?",
                             body="Ich bin umgezogen und finde die Adresse nicht.", tags="konto lieferung")
    dup = actions.ask_question(bert, title="Lieferadresse ändern geht nicht", body="Wo ändere ich die Adresse?",
                               tags="adresse")
    answer = actions.answer_question(carla, dup, body="Unter Konto → Adressen.")
    actions.vote(anna, answer=answer)
    actions.vote(carla, question=dup)
    actions.vote(carla, question=q)  # carla voted for both: counted once after the merge
    return {"anna": anna, "bert": bert, "carla": carla, "question": q, "dup": dup, "answer": answer}


def _errors(response) -> str:
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    return str(response.json())


# --- moving ---------------------------------------------------------------------------------------------


def test_an_agent_moves_a_question_to_other_tags_and_a_product(api, agent_user, forum):
    q = forum["question"]
    r = api.post(f"/api/community/questions/{q.pk}/move/",
                 {"tags": ["Versand", "app"], "product": "Shop-App", "reason": "Gehört zum Versand"}, format="json")
    assert r.status_code == 200, r.content
    assert sorted(r.json()["tags"]) == ["app", "versand"] and r.json()["product"] == "Shop-App"
    counts = dict(Tag.objects.values_list("name", "question_count"))
    assert counts["konto"] == 0 and counts["lieferung"] == 0 and counts["versand"] == 1
    entry = ModerationAction.objects.get(action="move")
    assert (entry.actor, entry.author, entry.reason) == (agent_user, forum["anna"], "Gehört zum Versand")
    assert api.get("/api/community/moderation/").json()["results"][0]["action"] == "move"
    # only the product: the tags stay
    r = api.post(f"/api/community/questions/{q.pk}/move/", {"product": "", "reason": "Kein Produkt"}, format="json")
    assert r.status_code == 200 and r.json()["product"] == "" and sorted(r.json()["tags"]) == ["app", "versand"]
    # the author reads the reason on her own profile
    client = Client()
    session = client.session
    session[SESSION_KEY] = forum["anna"].pk
    session.save()
    assert "Gehört zum Versand" in client.get(f"/community/members/{forum['anna'].pk}/").content.decode()


@pytest.mark.parametrize("body, field", [
    ({"reason": "ohne Ziel"}, "tags"),
    ({"tags": "konto", "reason": "ein String"}, "tags"),
    ({"tags": [{"x": 1}], "reason": "kein Name"}, "tags"),
    ({"tags": ["!!!"], "reason": "nur Zeichen"}, "tags"),
    ({"tags": ["a", "b", "c", "d", "e", "f"], "reason": "zu viele"}, "tags"),
    ({"tags": ["konto"], "reason": "ab"}, "reason"),
    ({"tags": ["konto"]}, "reason"),
    ({"product": "x" * 101, "reason": "zu lang"}, "product"),
    ({"product": None, "reason": "null"}, "product"),
])
def test_bad_moves_are_400_and_change_nothing(api, forum, body, field):
    q = forum["question"]
    r = api.post(f"/api/community/questions/{q.pk}/move/", body, format="json")
    assert r.status_code == 400 and field in r.json(), r.content
    assert sorted(Question.objects.get(pk=q.pk).tags.values_list("name", flat=True)) == ["konto", "lieferung"]
    assert not ModerationAction.objects.exists()


def test_moving_needs_a_token_that_may_write_and_an_existing_question(agent_user, forum):
    q = forum["question"]
    body = {"tags": ["versand"], "reason": "Gehört zum Versand"}
    assert APIClient().post(f"/api/community/questions/{q.pk}/move/", body, format="json").status_code == 401
    _, key = create_token(agent_user, name="nur lesen", scope="read")
    reader = APIClient()
    reader.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert reader.post(f"/api/community/questions/{q.pk}/move/", body, format="json").status_code == 403
    assert reader.get(f"/api/community/questions/{q.pk}/").status_code == 200
    _, key = create_token(agent_user, name="alles", scope="full")
    writer = APIClient()
    writer.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert writer.post("/api/community/questions/999999/move/", body, format="json").status_code == 404
    assert writer.post(f"/api/community/questions/{q.pk}/move/", body, format="json").status_code == 200


# --- merging --------------------------------------------------------------------------------------------


def test_merge_moves_answers_and_votes_and_the_old_address_redirects(api, agent_user, forum):
    q, dup, answer = forum["question"], forum["dup"], forum["answer"]
    r = api.post(f"/api/community/questions/{dup.pk}/merge/", {"into": q.pk, "reason": "Gleiche Frage"},
                 format="json")
    assert r.status_code == 200, r.content
    kept = r.json()
    assert kept["id"] == q.pk and [a["id"] for a in kept["answers"]] == [answer.pk]
    assert kept["answer_count"] == 1 and kept["score"] == 1 == Vote.objects.filter(
        question=q, answer__isnull=True).count()
    assert sorted(kept["tags"]) == ["adresse", "konto", "lieferung"]
    old = api.get(f"/api/community/questions/{dup.pk}/").json()
    assert old["merged_into"] == q.pk and old["visibility"] == "removed"
    page = Client().get(f"/community/q/{dup.pk}/")
    assert page.status_code == 301 and page["Location"] == f"/community/q/{q.pk}/"
    entry = ModerationAction.objects.get(action="merge", target_kind="question")
    assert (entry.target_id, entry.actor, entry.author, entry.reason) == (dup.pk, agent_user, forum["bert"],
                                                                          "Gleiche Frage")
    # twice, into a merged one, or showing the duplicate again: the state forbids it
    again = api.post(f"/api/community/questions/{dup.pk}/merge/", {"into": q.pk, "reason": "nochmal"}, format="json")
    assert again.status_code == 409 and "already merged" in _errors(again)
    third = actions.ask_question(forum["carla"], title="Adresse im Konto ändern?", body="Wie ändere ich sie im Konto?")
    r = api.post(f"/api/community/questions/{third.pk}/merge/", {"into": dup.pk, "reason": "Duplikat"},
                 format="json")
    assert r.status_code == 409
    r = api.post("/api/community/moderation/", {"kind": "question", "id": dup.pk, "action": "restore",
                                                "reason": "zurück"}, format="json")
    assert r.status_code == 409 and Question.objects.get(pk=dup.pk).visibility == "removed"
    r = api.post(f"/api/community/questions/{dup.pk}/move/", {"tags": ["x"], "reason": "verschieben"},
                 format="json")
    assert r.status_code == 409


@pytest.mark.parametrize("body, field", [
    ({"reason": "ohne Ziel"}, "into"),
    ({"into": "abc", "reason": "keine Zahl"}, "into"),
    ({"into": 0, "reason": "null"}, "into"),
    ({"into": 99999999999999999999, "reason": "zu groß"}, "into"),
    ({"into": 999999, "reason": "gibt es nicht"}, "into"),
    ({"into": "self", "reason": "sich selbst"}, "detail"),
    ({"into": "other", "reason": "x"}, "reason"),
])
def test_bad_merges_are_400(api, forum, body, field):
    dup = forum["dup"]
    body = dict(body)
    if body.get("into") in ("self", "other"):
        body["into"] = dup.pk if body["into"] == "self" else forum["question"].pk
    r = api.post(f"/api/community/questions/{dup.pk}/merge/", body, format="json")
    assert r.status_code == 400 and field in r.json(), r.content
    assert Question.objects.get(pk=dup.pk).merged_into_id is None
    assert Answer.objects.get(pk=forum["answer"].pk).question_id == dup.pk


# --- tags -----------------------------------------------------------------------------------------------


def test_tags_are_listed_renamed_described_and_merged(api, agent_user, forum):
    names = [t["name"] for t in api.get("/api/community/tags/").json()["results"]]
    assert set(names) == {"adresse", "konto", "lieferung"}
    assert [t["name"] for t in api.get("/api/community/tags/?q=Ko").json()["results"]] == ["konto"]
    konto = Tag.objects.get(name="konto")
    r = api.patch(f"/api/community/tags/{konto.pk}/", {"name": "Kundenkonto", "description": "Alles zum <b>Konto</b>"},
                  format="json")
    assert r.status_code == 200 and r.json()["name"] == "kundenkonto"
    assert r.json()["description"] == "Alles zum <b>Konto</b>"  # stored as text; the tag page escapes it
    assert "Alles zum &lt;b&gt;Konto&lt;/b&gt;" in Client().get("/community/tags/kundenkonto/").content.decode()
    taken = api.patch(f"/api/community/tags/{konto.pk}/", {"name": "lieferung"}, format="json")
    assert taken.status_code == 409 and "name" in taken.json() and Tag.objects.filter(name="kundenkonto").exists()
    r = api.post(f"/api/community/tags/{konto.pk}/merge/", {"into": "Lieferung"}, format="json")
    assert r.status_code == 200 and r.json()["name"] == "lieferung" and r.json()["question_count"] == 1
    assert not Tag.objects.filter(pk=konto.pk).exists()
    assert list(forum["question"].tags.values_list("name", flat=True)) == ["lieferung"]
    logged = list(ModerationAction.objects.filter(target_kind="tag").values_list("action", "actor"))
    assert sorted(logged) == [("describe", agent_user.pk), ("merge", agent_user.pk), ("rename", agent_user.pk)]


@pytest.mark.parametrize("method, suffix, body, status", [
    ("patch", "", {}, 400),
    ("patch", "", {"name": "!!!"}, 400),
    ("patch", "", {"name": "x" * 41}, 400),
    ("patch", "", {"description": "x" * 1001}, 400),
    ("patch", "", {"description": None}, 400),
    ("post", "merge/", {}, 400),
    ("post", "merge/", {"into": "nirgends"}, 400),
    ("post", "merge/", {"into": "konto"}, 400),
    ("post", "merge/", {"into": "\ud800"}, 400),
])
def test_bad_tag_edits_are_4xx(api, forum, method, suffix, body, status):
    konto = Tag.objects.get(name="konto")
    # sent as JSON text, so the lone surrogate goes over the wire as the escape a client would send
    r = api.generic(method.upper(), f"/api/community/tags/{konto.pk}/{suffix}", json.dumps(body),
                    content_type="application/json")
    assert r.status_code == status, r.content
    _errors(r)
    assert Tag.objects.get(pk=konto.pk).name == "konto" and not ModerationAction.objects.exists()


def test_tags_cannot_be_created_replaced_or_deleted(api, forum):
    konto = Tag.objects.get(name="konto")
    assert api.post("/api/community/tags/", {"name": "neu"}, format="json").status_code == 405
    assert api.put(f"/api/community/tags/{konto.pk}/", {"name": "neu"}, format="json").status_code == 405
    assert api.delete(f"/api/community/tags/{konto.pk}/").status_code == 405


@pytest.mark.parametrize("body", [[None, None], "text", 7, ["tags"]])
def test_curation_bodies_that_are_not_objects_are_400(api, supervisor_api, forum, body):
    q, konto = forum["question"], Tag.objects.get(name="konto")
    idea = actions.submit_idea(forum["anna"], title="Dunkelmodus für die App", description="Abends ist die App viel zu hell.")
    event = ReputationEvent.objects.filter(member=forum["carla"]).first()
    urls = [("post", f"/api/community/questions/{q.pk}/move/"), ("post", f"/api/community/questions/{q.pk}/merge/"),
            ("patch", f"/api/community/tags/{konto.pk}/"), ("post", f"/api/community/tags/{konto.pk}/merge/"),
            ("post", f"/api/community/ideas/{idea.pk}/merge/"),
            ("post", f"/api/community/members/{forum['bert'].pk}/moderator/"),
            ("post", f"/api/community/members/{forum['bert'].pk}/rights/"),
            ("post", f"/api/community/members/{forum['carla'].pk}/reputation/{event.pk}/revoke/")]
    for method, url in urls:
        response = getattr(supervisor_api, method)(url, body, format="json")
        assert response.status_code == 400, (url, response.status_code, response.content[:300])
        assert "JSON object" in response.json()["detail"]


# --- the queue, ideas and members -----------------------------------------------------------------------


def test_held_posts_reports_and_their_handling(api, forum):
    newbie = member_via_link("neu@example.com", "Neu")
    held = actions.answer_question(newbie, forum["question"], body="Kauft hier http://spam.example www.spam.example")
    assert held.visibility == "held"
    queue = api.get("/api/community/moderation/held/").json()
    assert [(h["kind"], h["id"], h["author"]) for h in queue] == [("answer", held.pk, newbie.pk)]
    assert api.get("/api/community/questions/?visibility=held").json()["count"] == 0
    assert api.get("/api/community/questions/?visibility=hidden").status_code == 400
    report = actions.report(forum["bert"], "question", forum["question"].pk, reason="Werbung?")
    listed = api.get("/api/community/reports/").json()["results"]
    assert [(r["id"], r["target_kind"], r["reason"]) for r in listed] == [(report.pk, "question", "Werbung?")]
    assert "@example.com" not in str(listed)
    r = api.post(f"/api/community/reports/{report.pk}/dismiss/")
    assert r.status_code == 200 and r.json()["resolved_at"]
    assert api.get("/api/community/reports/").json()["count"] == 0
    assert api.get("/api/community/reports/?state=resolved").json()["count"] == 1
    assert api.get("/api/community/reports/?state=x").status_code == 400
    r = api.post("/api/community/moderation/", {"kind": "answer", "id": held.pk, "action": "remove",
                                                "reason": "Werbung"}, format="json")
    assert r.status_code == 201 and api.get("/api/community/moderation/held/").json() == []


def test_idea_merge_and_unlink_need_the_right_roles(api, supervisor_api, forum):
    keep = actions.submit_idea(forum["anna"], title="Dunkelmodus für die App", description="Abends zu hell, bitte.")
    drop = actions.submit_idea(forum["bert"], title="Dark mode für die App", description="Nachts blendet die App.")
    actions.vote_idea(forum["carla"], keep)
    actions.vote_idea(forum["carla"], drop)
    body = {"into": keep.pk, "reason": "Doppelt"}
    r = api.post(f"/api/community/ideas/{drop.pk}/merge/", body, format="json")
    assert r.status_code == 403 and Idea.objects.get(pk=drop.pk).merged_into_id is None
    r = supervisor_api.post(f"/api/community/ideas/{drop.pk}/merge/", body, format="json")
    assert r.status_code == 200 and r.json()["id"] == keep.pk and r.json()["votes"] == 3
    assert supervisor_api.post(f"/api/community/ideas/{drop.pk}/merge/", body, format="json").status_code == 409
    assert supervisor_api.post(f"/api/community/ideas/{keep.pk}/merge/", {"into": 999999, "reason": "x y z"},
                               format="json").status_code == 400
    other = actions.submit_idea(forum["carla"], title="Export als CSV-Datei", description="Alle Rechnungen als CSV.")
    r = supervisor_api.post(f"/api/community/ideas/{other.pk}/merge/", {"into": drop.pk, "reason": "Doppelt"},
                            format="json")
    assert r.status_code == 409 and Idea.objects.get(pk=other.pk).merged_into_id is None
    link = actions.link_idea(keep, kind="conversation", object_id=5)
    assert api.delete(f"/api/community/ideas/{keep.pk}/links/999/").status_code == 404
    r = api.delete(f"/api/community/ideas/{keep.pk}/links/{link.pk}/")
    assert r.status_code == 200 and r.json()["evidence"] == {"conversation": 0, "post": 0}
    assert not IdeaLink.objects.exists()


def test_members_rights_moderators_and_points(api, supervisor_api, forum):
    carla, bert = forum["carla"], forum["bert"]
    assert api.post(f"/api/community/members/{bert.pk}/moderator/", {"on": True}, format="json").status_code == 403
    r = supervisor_api.post(f"/api/community/members/{bert.pk}/moderator/", {"on": True}, format="json")
    assert r.status_code == 200 and r.json()["is_moderator"] is True
    assert supervisor_api.post(f"/api/community/members/{bert.pk}/moderator/", {"on": "vielleicht"},
                               format="json").status_code == 400
    r = api.post(f"/api/community/members/{bert.pk}/rights/", {"revoked": True, "reason": "Missbrauch"},
                 format="json")  # any moderator (agent) takes back the rights of a member's level
    assert r.status_code == 200 and Member.objects.get(pk=bert.pk).privileges_revoked
    events = api.get(f"/api/community/members/{carla.pk}/reputation/").json()
    assert [e["reason"] for e in events] == ["answer_upvoted"]
    carla.refresh_from_db()
    assert carla.reputation == 10
    url = f"/api/community/members/{carla.pk}/reputation/{events[0]['id']}/revoke/"
    assert api.post(url, {"reason": "ab"}, format="json").status_code == 400
    r = api.post(url, {"reason": "Gekaufte Stimme"}, format="json")
    assert r.status_code == 200 and r.json()["revoked_reason"] == "Gekaufte Stimme"
    carla.refresh_from_db()
    assert carla.reputation == 0
    assert api.post(url, {"reason": "Gekaufte Stimme"}, format="json").status_code == 409
    assert api.post(f"/api/community/members/{bert.pk}/reputation/{events[0]['id']}/revoke/",
                    {"reason": "falsch"}, format="json").status_code == 404
    assert set(ModerationAction.objects.values_list("action", flat=True)) == {"promote", "revoke_rights",
                                                                              "revoke_points"}


def test_the_schema_documents_the_curation_endpoints(api):
    schema = api.get("/api/schema/?format=json").json()
    paths = schema["paths"]
    move = paths["/api/community/questions/{id}/move/"]["post"]
    assert set(move["responses"]) >= {"200", "400", "403", "404", "409"}
    body = schema["components"]["schemas"][move["requestBody"]["content"]["application/json"]["schema"]["$ref"]
                                          .rsplit("/", 1)[1]]
    assert body["required"] == ["reason"] and body["properties"]["tags"]["type"] == "array"
    assert body["properties"]["tags"]["maxItems"] == 5
    for path, method in [("/api/community/questions/{id}/merge/", "post"), ("/api/community/tags/{id}/", "patch"),
                         ("/api/community/tags/{id}/merge/", "post"), ("/api/community/reports/{id}/dismiss/", "post"),
                         ("/api/community/ideas/{id}/merge/", "post"),
                         ("/api/community/ideas/{id}/links/{link_id}/", "delete"),
                         ("/api/community/members/{id}/reputation/{event_id}/revoke/", "post"),
                         ("/api/community/moderation/held/", "get")]:
        assert method in paths[path], path
    assert "put" not in paths["/api/community/tags/{id}/"] and "delete" not in paths["/api/community/tags/{id}/"]


def test_experts_of_the_week_per_product(api, forum):
    q = forum["question"]
    actions.accept_answer(forum["anna"], actions.answer_question(forum["bert"], q, body="Unter Konto → Adressen."))
    actions.move_question(q, product="Shop-App", reason="Produkt", actor=None, actor_member=_moderator(forum["carla"]))
    r = api.get("/api/community/experts/?product=Shop-App")
    assert r.status_code == 200 and [(e["member"]["display_name"], e["points"]) for e in r.json()] == [("Bert", 15)]
    assert api.get("/api/community/experts/?product=Kasse").json() == []
    everyone = api.get("/api/community/experts/?n=5").json()
    assert [e["member"]["display_name"] for e in everyone] == ["Bert", "Carla"]  # carla: anna's upvote, 10
    assert "@example.com" not in str(everyone)
    for bad in ("0", "21", "x", "²"):
        assert api.get(f"/api/community/experts/?n={bad}").status_code == 400


def _moderator(member: Member) -> Member:
    member.is_moderator = True
    member.save(update_fields=["is_moderator"])
    return member


def test_an_agent_answers_as_staff_and_accepts_over_the_api(api, agent_user, forum, django_capture_on_commit_callbacks):
    from django.core import mail

    q = forum["question"]
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        r = api.post(f"/api/community/questions/{q.pk}/answers/", {"body": "Unter **Konto → Adressen**."},
                     format="json")
    assert r.status_code == 201, r.content
    answer = r.json()
    assert answer["by_staff"] and answer["author"]["is_staff"] and "<strong>" in answer["body_html"]
    assert [m.to for m in mail.outbox] == [["anna@example.com"]]  # the asker follows her question
    assert api.post(f"/api/community/questions/{q.pk}/answers/", {"body": "ok"}, format="json").status_code == 400
    other = forum["answer"].pk  # an answer of another question
    r = api.post(f"/api/community/questions/{q.pk}/accept/", {"answer": other}, format="json")
    assert r.status_code == 400 and "answer" in r.json()
    r = api.post(f"/api/community/questions/{q.pk}/accept/", {"answer": answer["id"]}, format="json")
    assert r.status_code == 200 and r.json()["accepted_answer"] == answer["id"]
    actions.moderate("question", q.pk, "lock", reason="Erledigt", actor=agent_user)
    r = api.post(f"/api/community/questions/{q.pk}/answers/", {"body": "Noch eine Antwort."}, format="json")
    assert r.status_code == 400 and "locked" in r.json()["detail"]


@pytest.mark.parametrize("big", ["9999999999999999999", "0"])
def test_ids_beyond_a_key_in_sub_paths_are_404(api, forum, big):
    idea = actions.submit_idea(forum["anna"], title="Dunkelmodus für die App", description="Abends ist es zu hell.")
    assert api.delete(f"/api/community/ideas/{idea.pk}/links/{big}/").status_code == 404
    url = f"/api/community/members/{forum['carla'].pk}/reputation/{big}/revoke/"
    assert api.post(url, {"reason": "zu groß"}, format="json").status_code == 404
    r = api.post(f"/api/community/ideas/{idea.pk}/links/", {"kind": "post", "object_id": 2**63}, format="json")
    assert r.status_code == 400 and "object_id" in r.json()
