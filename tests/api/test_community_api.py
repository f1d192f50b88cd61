"""The community over the API: lists without personal data, idea status and links, moderation with a reason."""

from __future__ import annotations

import pytest

from resonanz.community import actions
from resonanz.community.models import Idea, Question
from tests.community.conftest import member_via_link

pytestmark = pytest.mark.django_db


@pytest.fixture
def content(db):
    anna = member_via_link("anna@example.com", "Anna")
    bert = member_via_link("bert@example.com", "Bert")
    q = actions.ask_question(anna, title="Wie ändere ich meine Adresse?", body="Ich bin umgezogen, was nun?",
                             tags="konto")
    actions.answer_question(bert, q, body="Unter Konto → Adressen.")
    idea = actions.submit_idea(anna, title="Dunkelmodus für die App", description="Abends ist die App zu hell.")
    return {"anna": anna, "bert": bert, "question": q, "idea": idea}


def test_lists_and_details_never_show_emails(api, content):
    r = api.get("/api/community/questions/?sort=unanswered")
    assert r.status_code == 200 and r.json()["count"] == 0
    r = api.get("/api/community/questions/?tag=konto")
    assert [q["title"] for q in r.json()["results"]] == ["Wie ändere ich meine Adresse?"]
    detail = api.get(f"/api/community/questions/{content['question'].pk}/")
    assert detail.json()["answers"][0]["author"]["display_name"] == "Bert"
    members = api.get("/api/community/members/")
    for response in (r, detail, members):
        assert "@example.com" not in response.content.decode()


def test_idea_status_needs_a_supervisor(api, admin_api, content):
    idea = content["idea"]
    assert api.post(f"/api/community/ideas/{idea.pk}/status/", {"status": "planned", "note": "Bald"},
                    format="json").status_code == 403
    r = admin_api.post(f"/api/community/ideas/{idea.pk}/status/", {"status": "planned", "note": "Bald"},
                       format="json")
    assert r.status_code == 200 and r.json()["status"] == "planned"
    bad = admin_api.post(f"/api/community/ideas/{idea.pk}/status/", {"status": "shipped", "note": "x"}, format="json")
    assert bad.status_code == 400 and "status" in bad.json()
    assert Idea.objects.get(pk=idea.pk).status == "planned"


def test_idea_links_and_moderation(api, content):
    idea = content["idea"]
    r = api.post(f"/api/community/ideas/{idea.pk}/links/", {"kind": "conversation", "object_id": 3}, format="json")
    assert r.status_code == 200 and r.json()["evidence"] == {"conversation": 1, "post": 0}
    assert api.post(f"/api/community/ideas/{idea.pk}/links/", {"kind": "x", "object_id": "a"},
                    format="json").status_code == 400
    q = content["question"]
    r = api.post("/api/community/moderation/", {"kind": "question", "id": q.pk, "action": "lock", "reason": "erledigt"},
                 format="json")
    assert r.status_code == 201 and Question.objects.get(pk=q.pk).locked
    assert api.post("/api/community/moderation/", {"kind": "question", "id": q.pk, "action": "lock"},
                    format="json").status_code == 400
    assert api.get("/api/community/moderation/").json()["results"][0]["reason"] == "erledigt"


def test_members_carry_their_picture_address_and_questions_their_merge(api, content):
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (50, 50), (0, 128, 0)).save(out, format="PNG")
    actions.set_avatar(content["anna"], out.getvalue())
    members = {m["display_name"]: m for m in api.get("/api/community/members/").json()["results"]}
    assert members["Anna"]["avatar_url"] == f"/community/members/{content['anna'].pk}/avatar/1.webp"
    assert members["Bert"]["avatar_url"] is None
    detail = api.get(f"/api/community/questions/{content['question'].pk}/").json()
    assert detail["merged_into"] is None
