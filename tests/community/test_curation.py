"""Avatars, moving and merging questions, tag editing and idea clusters (actions and pages)."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from django.utils import translation
from PIL import Image

from resonanz.community import actions, clusters
from resonanz.community.models import (
    Answer,
    Follow,
    Idea,
    IdeaLink,
    Member,
    ModerationAction,
    Question,
    Tag,
    Vote,
)
from resonanz.core.errors import ActionError
from resonanz.portal.community.common import SESSION_KEY

pytestmark = pytest.mark.django_db


def picture(fmt: str = "PNG", size=(640, 400), colour=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format=fmt)
    return out.getvalue()


def signed_in(member: Member) -> Client:
    client = Client()
    session = client.session
    session[SESSION_KEY] = member.pk
    session.save()
    return client


# --- avatars --------------------------------------------------------------------------------------------


def test_avatar_is_reencoded_square_webp_and_served_with_its_version(anna):
    payload = picture() + b"<script>alert(1)</script>"  # a polyglot tail must not survive
    actions.set_avatar(anna, payload)
    anna.refresh_from_db()
    assert anna.avatar_version == 1
    response = Client().get(f"/community/members/{anna.pk}/avatar/1.webp")
    assert response.status_code == 200 and response["Content-Type"] == "image/webp"
    assert response["X-Content-Type-Options"] == "nosniff" and "immutable" in response["Cache-Control"]
    assert b"<script>" not in response.content and response.content != payload
    with Image.open(io.BytesIO(response.content)) as img:
        assert img.format == "WEBP" and img.size == (256, 256)
    # an old version's address is gone after a new upload; the profile shows the new one
    actions.set_avatar(anna, picture("JPEG", (100, 300)))
    assert Client().get(f"/community/members/{anna.pk}/avatar/1.webp").status_code == 404
    assert f"/community/members/{anna.pk}/avatar/2.webp" in Client().get(f"/community/members/{anna.pk}/").content.decode()


@pytest.mark.parametrize("data, message", [
    (b"", "Choose a picture"),
    (b"GIF89a not really a picture", "not a picture we can read"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "not a picture we can read"),
    (b"\xff" * (2 * 1024 * 1024 + 1), "larger than 2 MB"),
])
def test_bad_uploads_are_refused_with_what_to_do(anna, data, message):
    with pytest.raises(ActionError, match=message):
        actions.set_avatar(anna, data)
    assert Member.objects.get(pk=anna.pk).avatar_version == 0


def test_bmp_is_not_accepted(anna):
    with pytest.raises(ActionError, match="not a picture we can read"):
        actions.set_avatar(anna, picture("BMP"))


def test_initials_avatar_without_a_picture_and_upload_through_the_page(anna):
    anna.display_name = "Anna Berger"
    anna.save()
    assert anna.initials == "AB"
    client = signed_in(anna)
    page = client.get(f"/community/members/{anna.pk}/").content.decode()
    assert ">AB</span>" in page and "cm-av-c" in page
    r = client.post("/community/me/avatar/", {"avatar": io.BytesIO(b"plain text")}, follow=True)
    assert "not a picture we can read" in r.content.decode()
    upload = io.BytesIO(picture())
    upload.name = "me.png"
    r = client.post("/community/me/avatar/", {"avatar": upload}, follow=True)
    assert "Your picture was saved." in r.content.decode()
    assert Member.objects.get(pk=anna.pk).avatar_version == 1
    client.post("/community/me/avatar/", {"remove": "1"})
    assert Member.objects.get(pk=anna.pk).avatar_version == 0
    assert Client().get(f"/community/members/{anna.pk}/avatar/1.webp").status_code == 404


# --- moving and merging questions -----------------------------------------------------------------------


@pytest.fixture
def moderator(carla):
    carla.is_moderator = True
    carla.save()
    return carla


def test_move_question_changes_tags_and_product_and_tells_the_author(question, moderator, anna):
    actions.move_question(question, tags="versand", product="App", reason="Gehört zum Versand",
                          actor_member=moderator)
    question.refresh_from_db()
    assert sorted(question.tags.values_list("name", flat=True)) == ["versand"] and question.product == "App"
    counts = dict(Tag.objects.values_list("name", "question_count"))
    assert counts == {"konto": 0, "lieferung": 0, "versand": 1}
    entry = ModerationAction.objects.get(action="move")
    assert entry.author == anna and entry.reason == "Gehört zum Versand"
    profile = signed_in(anna).get(f"/community/members/{anna.pk}/").content.decode()
    assert "Gehört zum Versand" in profile
    assert "Gehört zum Versand" not in Client().get(f"/community/members/{anna.pk}/").content.decode()


def test_only_moderators_move_and_members_need_the_level_to_merge(question, bert):
    with pytest.raises(ActionError, match="not allowed"):
        actions.move_question(question, tags="x", reason="weil", actor_member=bert)
    other = actions.ask_question(bert, title="Adresse ändern, wie geht das?", body="Ich finde die Adresse nicht.")
    with pytest.raises(ActionError, match="not allowed"):
        actions.merge_questions(question, other, reason="Duplikat", actor_member=bert)
    assert signed_in(bert).post(f"/community/q/{other.pk}/merge/", {"into": question.pk, "reason": "x"}) \
        .status_code == 403
    bert.reputation = 250  # superuser level: may close duplicates
    bert.save()
    actions.merge_questions(question, other, reason="Duplikat", actor_member=bert)


def test_merge_carries_answers_votes_followers_and_redirects(question, anna, bert, carla, moderator):
    dup = actions.ask_question(bert, title="Lieferadresse ändern geht nicht", body="Wo ändere ich die Adresse?",
                               tags="adresse")
    ans = actions.answer_question(carla, dup, body="Unter Konto → Adressen.")
    actions.accept_answer(bert, ans)
    actions.vote(carla, question=dup)            # carla voted for both: counted once
    actions.vote(carla, question=question)
    actions.vote(anna, question=dup)
    actions.vote(anna, answer=ans)
    actions.follow(carla, dup)
    actions.merge_questions(question, dup, reason="Gleiche Frage", actor_member=moderator)
    question.refresh_from_db()
    dup.refresh_from_db()
    assert dup.merged_into_id == question.pk and dup.visibility == "removed"
    assert list(Answer.objects.filter(question=question)) == [ans]
    assert question.answer_count == 1 and question.accepted_answer_id == ans.pk
    assert question.score == 2 == Vote.objects.filter(question=question, answer__isnull=True).count()
    assert Vote.objects.filter(answer__question=question).count() == 1  # answer votes travel with the answer
    assert set(Follow.objects.filter(question=question).values_list("member__display_name", flat=True)) == \
        {"Anna", "Bert", "Carla"}
    assert set(question.tags.values_list("name", flat=True)) == {"konto", "lieferung", "adresse"}
    assert Tag.objects.get(name="adresse").question_count == 1
    r = Client().get(f"/community/q/{dup.pk}/")
    assert r.status_code == 301 and r["Location"] == f"/community/q/{question.pk}/"
    assert ModerationAction.objects.get(action="merge", target_id=dup.pk).author == bert
    with pytest.raises(ActionError, match="already merged"):
        actions.merge_questions(question, dup, reason="nochmal", actor_member=moderator)


def test_merge_through_the_page_takes_an_address(question, bert, moderator):
    dup = actions.ask_question(bert, title="Lieferadresse ändern geht nicht", body="Wo ändere ich die Adresse?")
    client = signed_in(moderator)
    page = client.get(f"/community/q/{dup.pk}/").content.decode()
    assert 'id="merge-into"' in page and 'id="move-tags"' in page
    r = client.post(f"/community/q/{dup.pk}/merge/", {"into": "/community/q/999999/", "reason": "Duplikat"},
                    follow=True)
    assert "There is no such question" in r.content.decode()
    r = client.post(f"/community/q/{dup.pk}/merge/", {"into": f"http://x/community/q/{question.pk}/",
                                                     "reason": "Duplikat"})
    assert r.status_code == 302 and r["Location"] == f"/community/q/{question.pk}/"
    assert Question.objects.get(pk=dup.pk).merged_into_id == question.pk


# --- tags -----------------------------------------------------------------------------------------------


def test_tags_rename_merge_describe(question, bert, moderator):
    actions.ask_question(bert, title="Konto gesperrt, was tun?", body="Mein Konto ist gesperrt worden.",
                         tags="account konto")
    konto, account = Tag.objects.get(name="konto"), Tag.objects.get(name="account")
    actions.describe_tag(konto, "Alles rund um das <b>Kundenkonto</b>", actor_member=moderator)
    assert "Alles rund um das &lt;b&gt;Kundenkonto&lt;/b&gt;" in Client().get("/community/tags/konto/").content.decode()
    actions.rename_tag(account, "Kundenkonto", actor_member=moderator)
    assert Tag.objects.filter(name="kundenkonto").exists()
    kept = actions.rename_tag(Tag.objects.get(name="kundenkonto"), "konto", actor_member=moderator)  # taken: merged
    assert kept.pk == konto.pk and kept.question_count == 2 and not Tag.objects.filter(name="kundenkonto").exists()
    assert set(ModerationAction.objects.values_list("action", flat=True)) == {"describe", "rename", "merge"}
    with pytest.raises(ActionError, match="not allowed"):
        actions.describe_tag(konto, "x", actor_member=bert)


def test_tags_page_shows_descriptions_and_edit_forms_by_level(question, bert, moderator):
    konto = Tag.objects.get(name="konto")
    client = signed_in(moderator)
    r = client.post(f"/community/tags/{konto.pk}/edit/", {"what": "describe", "description": "Kundenkonto"},
                    follow=True)
    assert "The tag was saved." in r.content.decode()
    assert "Kundenkonto" in Client().get("/community/tags/konto/").content.decode()
    assert "Edit tag" not in signed_in(bert).get("/community/tags/").content.decode()
    assert signed_in(bert).post(f"/community/tags/{konto.pk}/edit/", {"what": "rename", "name": "x"}) \
        .status_code == 403
    r = client.post(f"/community/tags/{konto.pk}/edit/", {"what": "merge", "into": "nirgends"}, follow=True)
    assert "There is no tag with that name." in r.content.decode()
    client.post(f"/community/tags/{konto.pk}/edit/", {"what": "merge", "into": "lieferung"})
    assert list(Tag.objects.values_list("name", "question_count")) == [("lieferung", 1)]


# --- idea clusters --------------------------------------------------------------------------------------


@pytest.fixture
def manager(supervisor_user):
    return supervisor_user


def _posts(texts):
    from django.utils import timezone

    from resonanz.connectors.models import Channel
    from resonanz.listening.models import Post

    feed = Channel.objects.create(kind="feed", name="Blogs", slug="blogs", settings={})
    return [Post.objects.create(channel=feed, external_id=f"p{i}", text=t, fetched_at=timezone.now())
            for i, t in enumerate(texts)]


def test_clusters_group_ideas_and_posts_and_become_ideas(anna, bert, manager):
    one = actions.submit_idea(anna, title="Dunkelmodus für die App bitte",
                              description="Dunkelmodus für die App, abends ist sie zu hell.")
    two = actions.submit_idea(bert, title="Dark mode Dunkelmodus App",
                              description="Bitte einen Dunkelmodus in der App, nachts blendet sie.")
    posts = _posts(["Export als CSV Datei fehlt, bitte CSV Export einbauen",
                    "CSV Export fehlt mir sehr, Export als CSV Datei wäre toll",
                    "Ich brauche einen CSV Export der Rechnungen als Datei"])
    groups = clusters.compute()
    by_kind = {(len(g.ideas), len(g.posts)) for g in groups}
    assert (2, 0) in by_kind and (0, 3) in by_kind, [(g.label, g.ideas, g.posts) for g in groups]
    client = Client()
    client.force_login(manager)
    page = client.get("/moderation/ideas/clusters/?fresh=1").content.decode()
    assert "Create idea from cluster" in page and "Merge ideas" in page
    r = client.post("/moderation/ideas/clusters/new/", {
        "title": "CSV-Export der Rechnungen", "description": "Viele wünschen sich einen CSV-Export.",
        "post": [str(p.pk) for p in posts]})
    made = Idea.objects.get(title="CSV-Export der Rechnungen")
    assert r.status_code == 302 and r["Location"] == f"/moderation/ideas/{made.pk}/"
    assert IdeaLink.objects.filter(idea=made, kind="post").count() == 3
    assert made.author.user == manager
    client.post("/moderation/ideas/clusters/merge/", {"idea": [one.pk, two.pk], "reason": "Gleicher Wunsch"})
    one.refresh_from_db()
    two.refresh_from_db()
    assert (one.merged_into_id, two.merged_into_id) in ((None, one.pk), (two.pk, None))


def test_clusters_page_is_for_product_managers(agent_user):
    client = Client()
    client.force_login(agent_user)
    with translation.override("en"):  # the agent's language (de) would otherwise stay active for later tests
        assert client.get("/moderation/ideas/clusters/").status_code == 403


# --- the start page pages through questions without counting them ------------------------------------


def test_start_page_pages_without_a_count(anna):
    for i in range(23):  # rows as test data: the actions would (rightly) rate-limit one member asking 23 times
        Question.objects.create(author=anna, title=f"Frage Nummer {i:02d} zum Konto", body="Ein Text.")
    first = Client().get("/community/?sort=newest").content.decode()
    assert "Frage Nummer 22" in first and "Frage Nummer 02" not in first and "page=2" in first
    second = Client().get("/community/?sort=newest&page=2").content.decode()
    assert "Frage Nummer 02" in second and "Frage Nummer 00" in second and "page=1" in second
    assert "page=3" not in second
    assert "Frage Nummer" not in Client().get("/community/?page=9").content.decode()
    assert Client().get("/community/?page=x").status_code == 200


def test_erasure_removes_the_picture_even_when_posts_are_kept(anna):
    from resonanz.community.models import Avatar

    actions.set_avatar(anna, picture())
    actions.set_keep_posts(anna, True)
    actions.erase_contact(anna.contact)
    anna.refresh_from_db()
    assert anna.is_deleted and anna.avatar_version == 0 and not Avatar.objects.filter(member=anna).exists()
