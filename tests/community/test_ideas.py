"""The ideas portal: one vote per member, statuses with a note that reaches voters, evidence links, merges."""

from __future__ import annotations

import threading

import pytest
from django.core import mail
from django.db import connection

from resonanz.community import actions
from resonanz.community.models import Idea, IdeaVote
from resonanz.core.errors import ActionError
from tests.community.conftest import member_via_link

pytestmark = pytest.mark.django_db


@pytest.fixture
def idea(anna):
    return actions.submit_idea(anna, title="Dunkelmodus für die App", description="Abends blendet die App sehr stark.")


def test_vote_once_and_withdraw(idea, bert):
    assert idea.votes == 1  # the author's own vote
    assert actions.vote_idea(bert, idea) == 2
    assert actions.vote_idea(bert, idea) == 2
    assert actions.vote_idea(bert, idea, up=False) == 1


def test_status_change_needs_a_note_and_tells_voters(idea, bert, admin_user, django_capture_on_commit_callbacks):
    actions.vote_idea(bert, idea)
    with pytest.raises(ActionError):
        actions.set_idea_status(idea, status="shipped", note="x" * 5, actor=admin_user)
    with pytest.raises(ActionError):
        actions.set_idea_status(idea, status="planned", note="", actor=admin_user)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        actions.set_idea_status(idea, status="planned", note="Kommt im Frühjahr.", actor=admin_user)
    assert sorted(m.to[0] for m in mail.outbox) == ["anna@example.com", "bert@example.com"]
    assert "Kommt im Frühjahr." in mail.outbox[0].body
    idea.refresh_from_db()
    assert idea.status == "planned" and idea.status_changes.count() == 1
    assert idea.author.reputation_events.filter(reason="idea_planned").count() == 1


def test_links_are_counted_once(idea, admin_user):
    actions.link_idea(idea, kind="conversation", object_id=7, actor=admin_user)
    actions.link_idea(idea, kind="conversation", object_id=7, actor=admin_user)
    actions.link_idea(idea, kind="post", object_id=7, actor=admin_user)
    assert idea.links.count() == 2
    with pytest.raises(ActionError):
        actions.link_idea(idea, kind="tweet", object_id=1)


def test_merge_counts_each_voter_once(idea, anna, bert, carla, admin_user):
    other = actions.submit_idea(bert, title="Dark mode bitte einbauen", description="Ein dunkles Design wäre schön.")
    actions.vote_idea(carla, other)
    actions.vote_idea(bert, idea)  # bert voted for both
    kept = actions.merge_ideas(idea, other, reason="Doppelt", actor=admin_user)
    assert kept.votes == 3 == IdeaVote.objects.filter(idea=kept).count()
    assert Idea.objects.get(pk=other.pk).merged_into_id == kept.pk
    assert actions.vote_idea(carla, other) == 3  # a vote on the merged idea lands on the kept one


@pytest.mark.django_db(transaction=True)
def test_concurrent_voters_are_counted_exactly():
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; the concurrency check runs on PostgreSQL")
    author = member_via_link("autor@example.com")
    idea = actions.submit_idea(author, title="Exportieren als CSV", description="Alle Bestellungen als CSV laden.")
    voters = [member_via_link(f"v{i}@example.com") for i in range(20)]
    errors = []

    def go(member):
        try:
            for _ in range(2):
                actions.vote_idea(member, idea)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=go, args=(m,)) for m in voters]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert Idea.objects.get(pk=idea.pk).votes == 21 == IdeaVote.objects.filter(idea=idea).count()


def test_a_voter_who_asked_in_support_hears_of_the_status_once(idea, bert, admin_user, api_channel,
                                                                django_capture_on_commit_callbacks):
    """Bert voted and also wrote to support about it: the update reaches him in his conversation, not twice."""
    from resonanz.inbox.actions import ingest
    from tests.conftest import inbound

    actions.vote_idea(bert, idea)
    asked = ingest(api_channel, inbound("dm-1", "bert@example.com", text="Kommt ein Dunkelmodus?",
                                       identity_kind="email")).conversation
    assert asked.contact_id == bert.contact_id
    actions.link_idea(idea, kind="conversation", object_id=asked.pk, actor=admin_user)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        actions.set_idea_status(idea, status="planned", note="Kommt im Frühjahr.", actor=admin_user)
    assert [m.to for m in mail.outbox] == [["anna@example.com"]]
    assert asked.messages.filter(direction="outbound", text__contains="Kommt im Frühjahr.").count() == 1
