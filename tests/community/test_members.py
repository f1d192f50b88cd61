"""Members are CRM contacts who log in with a one-time link sent by email."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from resonanz.community import actions
from resonanz.community.models import LoginToken, Member
from resonanz.core.errors import ActionError
from resonanz.crm.actions import merge_contacts
from resonanz.crm.models import Identity

pytestmark = pytest.mark.django_db


def _raw_link() -> str:
    return re.search(r"/community/login/([\w-]+)/", mail.outbox[-1].body).group(1)


def test_login_link_creates_contact_and_member_once():
    actions.request_login_link("Kim@Example.com", base_url="http://x", language="de")
    assert mail.outbox[-1].to == ["kim@example.com"]
    assert "Anmeldelink" in mail.outbox[-1].subject
    member = actions.redeem_login_link(_raw_link())
    assert member.contact is not None
    assert Identity.objects.get(kind="email", handle="kim@example.com").contact_id == member.contact_id
    assert member.display_name == "kim"
    actions.request_login_link("kim@example.com", base_url="http://x")
    assert actions.redeem_login_link(_raw_link()).pk == member.pk
    assert Member.objects.count() == 1


def test_link_works_once_and_expires():
    actions.request_login_link("kim@example.com", base_url="http://x")
    raw = _raw_link()
    actions.redeem_login_link(raw)
    with pytest.raises(ActionError):
        actions.redeem_login_link(raw)
    actions.request_login_link("kim@example.com", base_url="http://x")
    raw = _raw_link()
    LoginToken.objects.filter(used_at__isnull=True).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(ActionError):
        actions.redeem_login_link(raw)
    with pytest.raises(ActionError):
        actions.redeem_login_link("guessed")


def test_login_links_are_rate_limited_and_validated():
    with pytest.raises(ActionError):
        actions.request_login_link("not-an-address", base_url="http://x")
    for _ in range(actions.LOGIN_LINKS_PER_HOUR):
        actions.request_login_link("kim@example.com", base_url="http://x")
    with pytest.raises(ActionError, match="Too many"):
        actions.request_login_link("kim@example.com", base_url="http://x")


def test_profile_validation(anna):
    with pytest.raises(ActionError):
        actions.update_profile(anna, display_name="A")
    with pytest.raises(ActionError):
        actions.update_profile(anna, display_name="Anna", language="fr")
    actions.update_profile(anna, display_name="Anna K.", about="Radfahrerin", language="de")
    anna.refresh_from_db()
    assert (anna.display_name, anna.about, anna.language) == ("Anna K.", "Radfahrerin", "de")


def test_merging_contacts_merges_members(anna, bert, question):
    actions.answer_question(bert, question, body="Unter Konto → Adressen.")
    merge_contacts(anna.contact, bert.contact)
    assert Member.objects.count() == 1
    assert question.answers.get().author_id == anna.pk


def test_erasure_removes_posts_unless_the_member_agreed(anna, bert, question):
    answer = actions.answer_question(bert, question, body="Unter Konto → Adressen.")
    actions.set_keep_posts(bert, True)
    actions.erase_contact(bert.contact)
    answer.refresh_from_db()
    assert answer.author.is_deleted and answer.author.name == "Deleted member"
    assert answer.author.contact is None and answer.author.display_name == ""
    actions.erase_contact(anna.contact)
    assert not Member.objects.filter(pk=anna.pk).exists()
    assert not type(question).objects.filter(pk=question.pk).exists()


def test_erasure_without_consent_takes_back_counts_points_and_login_links(anna, bert, carla, question, admin_user):
    """The erased member's rows go by cascade; what they added to others' counters must go with them."""
    from resonanz.community.models import Idea, LoginToken, Question, Tag
    from tests.community.conftest import member_via_link

    dora = member_via_link("dora@example.com", "Dora")
    theirs = actions.answer_question(bert, question, body="Unter Konto → Adressen.")
    actions.answer_question(dora, question, body="Bei mir ging es unter Profil.")
    actions.vote(dora, answer=theirs)
    actions.ask_question(dora, title="Wo finde ich mein Kundenkonto?", body="Ich finde das Konto nicht.",
                         tags="konto")
    annas_idea = actions.submit_idea(anna, title="Dunkelmodus für die App", description="Abends blendet sie sehr stark.")
    actions.vote_idea(dora, annas_idea)
    doras_idea = actions.submit_idea(dora, title="Export als CSV-Datei", description="Alle Rechnungen als CSV.")
    berts_idea = actions.submit_idea(bert, title="CSV-Export der Rechnungen", description="Bitte als CSV laden.")
    actions.vote_idea(carla, berts_idea)
    actions.merge_ideas(doras_idea, berts_idea, reason="Doppelt", actor=admin_user)
    bert.refresh_from_db()
    assert bert.reputation == 10 and Question.objects.get(pk=question.pk).answer_count == 2
    assert Tag.objects.get(name="konto").question_count == 2 and LoginToken.objects.filter(
        email="dora@example.com").exists()

    actions.erase_contact(dora.contact)

    assert not Member.objects.filter(pk=dora.pk).exists()
    bert.refresh_from_db()
    theirs.refresh_from_db()
    assert bert.reputation == 0 and theirs.score == 0  # the erased member's vote and its points are gone
    assert Question.objects.get(pk=question.pk).answer_count == 1
    assert Tag.objects.get(name="konto").question_count == 1
    assert Idea.objects.get(pk=annas_idea.pk).votes == 1
    revived = Idea.objects.get(pk=berts_idea.pk)  # nobody's vote is lost with the erased member's idea
    assert revived.merged_into_id is None and revived.votes == 2
    assert not LoginToken.objects.filter(email="dora@example.com").exists()
