"""Agent-side community work: the moderation queue and audit log, ideas with evidence and statuses, members."""

from __future__ import annotations

import pytest
from django.core import mail

from resonanz.community import actions
from resonanz.community.models import Idea, Member, ModerationAction, Question, Visibility
from resonanz.inbox.actions import ingest, invite_agent
from tests.community.conftest import member_via_link
from tests.conftest import inbound

pytestmark = pytest.mark.django_db


@pytest.fixture
def supervisor(db):
    return invite_agent("sup@example.com", display_name="Sina Super", role="supervisor", password="pw-sup-123")


def test_held_post_is_approved_with_a_reason_the_author_sees(client, agent_user):
    newbie = member_via_link("neu@example.com", "Neuling")
    q = actions.ask_question(newbie, title="Günstige Angebote hier ansehen", body="Siehe http://a.example www.b.example")
    assert q.visibility == Visibility.HELD
    client.force_login(agent_user)
    page = client.get("/moderation/").content.decode()
    assert f"held-question-{q.pk}" in page
    client.post("/moderation/act/", {"kind": "question", "id": q.pk, "action": "remove", "reason": "Werbung"})
    assert Question.objects.get(pk=q.pk).visibility == Visibility.REMOVED
    entry = ModerationAction.objects.get()
    assert (entry.action, entry.reason, entry.actor_id) == ("remove", "Werbung", agent_user.pk)
    assert "Werbung" in client.get("/moderation/").content.decode()
    # the author sees the reason on their own profile, others do not
    own = member_client(newbie)
    assert "Werbung" in own.get(f"/community/members/{newbie.pk}/").content.decode()


def member_client(member):
    from django.test import Client

    c = Client()
    session = c.session
    session["community_member"] = member.pk
    session.save()
    return c


def test_moderation_needs_a_reason_and_a_valid_action(client, agent_user):
    anna = member_via_link("anna@example.com", "Anna")
    q = actions.ask_question(anna, title="Wie ändere ich meine Adresse?", body="Ich bin umgezogen, was nun?")
    client.force_login(agent_user)
    client.post("/moderation/act/", {"kind": "question", "id": q.pk, "action": "remove", "reason": ""})
    client.post("/moderation/act/", {"kind": "question", "id": q.pk, "action": "explode", "reason": "weil"})
    client.post("/moderation/act/", {"kind": "nothing", "id": "x", "action": "remove", "reason": "weil"})
    assert Question.objects.get(pk=q.pk).visibility == Visibility.VISIBLE
    assert not ModerationAction.objects.exists()


def test_product_manager_links_conversations_and_plans_the_idea(client, supervisor, api_channel,
                                                                 django_capture_on_commit_callbacks):
    anna = member_via_link("anna@example.com", "Anna")
    bert = member_via_link("bert@example.com", "Bert")
    idea = actions.submit_idea(anna, title="Dunkelmodus für die App", description="Abends ist die App zu hell.")
    actions.vote_idea(bert, idea)
    first = ingest(api_channel, inbound("d1", "c1@example.com", text="Gibt es bald einen Dunkelmodus?"))
    second = ingest(api_channel, inbound("d2", "c2@example.com", text="Bitte einen Dunkelmodus einbauen!"))
    client.force_login(supervisor)
    page = client.get(f"/moderation/ideas/{idea.pk}/").content.decode()
    assert f"/inbox/conversations/{first.conversation.pk}/" in page  # suggested by the shared words
    for conversation in (first.conversation, second.conversation):
        client.post(f"/moderation/ideas/{idea.pk}/link/", {"kind": "conversation", "object_id": conversation.pk})
    client.post(f"/moderation/ideas/{idea.pk}/link/", {"kind": "conversation", "object_id": 999999})
    assert idea.links.count() == 2
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/moderation/ideas/{idea.pk}/status/", {"status": "planned", "note": "Kommt im Frühjahr."})
    assert Idea.objects.get(pk=idea.pk).status == "planned"
    assert sorted(m.to[0] for m in mail.outbox) == ["anna@example.com", "bert@example.com"]
    # the customers of the linked conversations get a reply in their conversation
    for conversation in (first.conversation, second.conversation):
        assert conversation.messages.filter(direction="outbound", text__contains="Kommt im Frühjahr.").exists()
    public = client.get(f"/community/ideas/{idea.pk}/").content.decode()
    assert "2 customers asked for it in support" in public


def test_agents_cannot_set_idea_status(client, agent_user):
    anna = member_via_link("anna@example.com", "Anna")
    idea = actions.submit_idea(anna, title="Dunkelmodus für die App", description="Abends ist die App zu hell.")
    client.force_login(agent_user)
    assert client.post(f"/moderation/ideas/{idea.pk}/status/", {"status": "done", "note": "ok"}).status_code == 403


def test_member_rights_and_points(client, supervisor):
    anna = member_via_link("anna@example.com", "Anna")
    bert = member_via_link("bert@example.com", "Bert")
    q = actions.ask_question(anna, title="Wie ändere ich meine Adresse?", body="Ich bin umgezogen, was nun?")
    a = actions.answer_question(bert, q, body="Unter Konto → Adressen.")
    actions.accept_answer(anna, a)
    event = bert.reputation_events.get(reason="answer_accepted")
    client.force_login(supervisor)
    client.post(f"/moderation/members/{bert.pk}/act/", {"what": "revoke_points", "event": event.pk,
                                                        "reason": "Antwort kopiert"})
    assert Member.objects.get(pk=bert.pk).reputation == 0
    client.post(f"/moderation/members/{bert.pk}/act/", {"what": "promote"})
    assert Member.objects.get(pk=bert.pk).is_moderator
    assert "Antwort kopiert" in client.get(f"/moderation/members/{bert.pk}/").content.decode()


def test_contact_page_shows_community_activity(client, agent_user):
    anna = member_via_link("anna@example.com", "Anna")
    actions.ask_question(anna, title="Wie ändere ich meine Adresse?", body="Ich bin umgezogen, was nun?")
    client.force_login(agent_user)
    page = client.get(f"/contacts/{anna.contact_id}/").content.decode()
    assert "Wie ändere ich meine Adresse?" in page and "Community" in page


def test_solved_conversation_becomes_an_answered_question_without_personal_data(client, agent_user, api_channel):
    from resonanz.community.scrub import scrub
    from resonanz.inbox.actions import send_reply, update_conversation

    result = ingest(api_channel, inbound("p1", "maria.muster@example.com", sender_name="Maria Muster",
                                         subject="Rechnung doppelt abgebucht",
                                         text="Hallo,\nmeine Rechnung 12345678 wurde doppelt abgebucht. "
                                              "Rufen Sie mich an: +49 170 1234567, Maria Muster\nViele Grüße\nMaria"))
    conversation = result.conversation
    send_reply(conversation, agent_user, "Die doppelte Abbuchung erstatten wir automatisch binnen 5 Tagen.")
    client.force_login(agent_user)
    page = client.get(f"/inbox/conversations/{conversation.pk}/").content.decode()
    assert f"/moderation/from-conversation/{conversation.pk}/" not in page  # only for solved cases
    update_conversation(conversation, agent_user, status="resolved")
    assert f"/moderation/from-conversation/{conversation.pk}/" in client.get(
        f"/inbox/conversations/{conversation.pk}/").content.decode()
    preview = client.get(f"/moderation/from-conversation/{conversation.pk}/").content.decode()
    for private in ("maria.muster@example.com", "12345678", "1234567", "Muster", "Maria", "Viele Grüße"):
        assert private not in preview, private
    assert "doppelt abgebucht" in preview
    form = {"title": "Rechnung doppelt abgebucht – was tun?",
            "question": scrub("Meine Rechnung wurde doppelt abgebucht. Was nun, Maria?", ["Maria"]),
            "answer": "Die doppelte Abbuchung erstatten wir automatisch binnen 5 Tagen.", "tags": "rechnung",
            "language": "de"}
    response = client.post(f"/moderation/from-conversation/{conversation.pk}/", form)
    question = Question.objects.get()
    assert response["Location"] == f"/community/q/{question.pk}/"
    assert question.accepted_answer.by_staff and "Maria" not in question.body


def test_an_agent_takes_back_a_members_level_rights_but_makes_no_moderators(client, agent_user):
    """Issue 14: rights unlocked by reputation "a moderator can take back"; agents are the moderators."""
    bert = member_via_link("bert@example.com", "Bert")
    client.force_login(agent_user)
    page = client.get(f"/moderation/members/{bert.pk}/").content.decode()
    assert 'value="revoke_rights"' in page and 'value="promote"' not in page
    client.post(f"/moderation/members/{bert.pk}/act/", {"what": "revoke_rights", "reason": "Schlagwörter verwüstet"})
    assert Member.objects.get(pk=bert.pk).privileges_revoked
    assert client.post(f"/moderation/members/{bert.pk}/act/", {"what": "promote"}).status_code == 403
    assert not Member.objects.get(pk=bert.pk).is_moderator
