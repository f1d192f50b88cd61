"""The inbox search: one document per conversation kept by triggers, and the walk that answers common words
(it must return exactly what the plain filter returns, in the inbox's order, on SQLite and PostgreSQL)."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from resonanz.crm.actions import add_identity, merge_contacts, update_contact
from resonanz.inbox import search as search_module
from resonanz.inbox.actions import ingest, merge_conversations
from resonanz.inbox.models import Conversation, Message
from resonanz.inbox.queries import filter_conversations, search_conversation_ids
from resonanz.inbox.search import Search, id_ranges
from tests.conftest import inbound

pytestmark = pytest.mark.django_db

WORDS = "paket rechnung kündigung vertrag lieferung hilfe bitte danke order refund".split()


def found(query: str) -> set[int]:
    return set(search_conversation_ids(query))


def test_finds_subject_name_email_ticket_and_words_spread_over_the_conversation(api_channel):
    a = ingest(api_channel, inbound("1", "anna.mueller@example.com", text="Ich möchte meinen Vertrag beenden.",
                                    sender_name="Anna Müller", subject="Kündigung zum Monatsende")).conversation
    b = ingest(api_channel, inbound("2", "bert@example.org", text="Wo bleibt mein Paket?",
                                    sender_name="Bert Berg", subject="Lieferung")).conversation
    ingest(api_channel, inbound("3", "bert@example.org", text="Die Rechnung stimmt auch nicht."))
    assert found("kündigung") == {a.pk}  # subject
    assert found("müller kündigung") == {a.pk}  # name and subject together
    assert found("anna.mueller@example.com") == {a.pk}  # email address
    assert found("bert@example") == {b.pk}  # the last word is a prefix
    assert found(f"RZ-{b.pk}") == {b.pk} and found(f"#{a.pk}") == {a.pk}  # ticket numbers
    assert found("paket rechnung") == {b.pk}  # words from two messages of one conversation
    assert found("vertr") == {a.pk} and found("rechnungen") == set()
    assert found("paket vertrag") == set()


def test_index_follows_renames_new_identities_merges_and_deleted_messages(api_channel, agent_user):
    a = ingest(api_channel, inbound("1", "carla@example.com", text="Zahnbürste kaputt", sender_name="Carla",
                                    subject="Bürste")).conversation
    b = ingest(api_channel, inbound("2", "dora@example.com", text="Quarzblau bitte", sender_name="Dora",
                                    subject="Farbe")).conversation
    update_contact(a.contact, name="Carla Zimmermann")
    assert found("zimmermann") == {a.pk}
    add_identity(a.contact, "phone", "+4930123456", display_name="Festnetz")
    assert found("festnetz") == {a.pk}
    merge_contacts(a.contact, b.contact)  # b's conversation now belongs to Carla
    assert found("zimmermann") == {a.pk, b.pk}
    merge_conversations(b, a, agent_user)  # b's messages move to a
    assert found("quarzblau") == {a.pk}
    Message.objects.filter(conversation=a, text__contains="Quarzblau").delete()
    assert found("quarzblau") == set() and found("zahnbürste") == {a.pk}
    Conversation.objects.filter(pk=a.pk).update(subject="Neuer Betreff")
    assert found("betreff") == {a.pk}


@pytest.fixture
def inbox(api_channel):
    """60 conversations with random words, activity times, statuses and priorities; some revived later."""
    rng = random.Random(7)
    now = timezone.now()
    ids = []
    for i in range(60):
        text = " ".join(rng.choices(WORDS, k=rng.randint(2, 6)))
        ids.append(ingest(api_channel, inbound(f"m{i}", f"kunde{i}@example.com", text=text,
                                               sender_name=f"Kunde {i}", subject=f"Anfrage {i}")).conversation.pk)
    for pk in ids:
        Conversation.objects.filter(pk=pk).update(
            last_activity_at=now - timedelta(minutes=rng.randrange(10_000)), status=rng.choice(Conversation.Status.values),
            priority=rng.choice([1, 2, 3, 4]))
    return ids


QUERIES = ["bitte", "paket", "kündigung vertrag", "re", "order refund hilfe", "kunde1", "kunde 12", "nichts"]
PARAMS = [{"status": "all"}, {"status": "active"}, {"status": "all", "sort": "priority"},
          {"status": "all", "sort": "oldest"}, {"status": "closed", "priority": "3"}]


@pytest.mark.parametrize("params", PARAMS)
def test_walk_returns_what_the_plain_filter_returns(inbox, params, monkeypatch):
    monkeypatch.setattr(search_module, "WALK_BATCH", 4)  # many small steps
    monkeypatch.setattr(search_module, "RANGES", 2)
    monkeypatch.setattr(search_module, "RANGE_GAP", 3)
    for query in QUERIES:
        ordered = filter_conversations(Conversation.objects.all(), params, None)
        expected = list(filter_conversations(Conversation.objects.all(), {**params, "q": query}, None)
                        .values_list("pk", flat=True))
        monkeypatch.setattr(search_module, "EXACT_LIMIT", 0)  # the filter with the full-text subquery
        assert list(filter_conversations(Conversation.objects.all(), {**params, "q": query}, None)
                    .values_list("pk", flat=True)) == expected
        search = Search(query)
        for start, stop in ((0, 5), (0, 61), (3, 9), (10, 40)):
            assert search.walk(ordered, start, stop) == expected[start:stop], (query, start, stop)
        monkeypatch.setattr(search_module, "EXACT_LIMIT", 2000)


def test_common_words_walk_and_rare_words_use_the_index(inbox, monkeypatch):
    monkeypatch.setattr(search_module, "EXACT_LIMIT", 5)
    assert not Search("bitte").few and Search("kunde17").few


def test_id_ranges_cover_every_id_with_few_ranges():
    assert id_ranges([5, 1, 2, 3, 100, 101, 50], 3, min_gap=10) == [(1, 5), (50, 50), (100, 101)]
    assert id_ranges([5, 1, 2, 3, 100, 101, 50], 3) == [(1, 101)]  # not worth a query each
    assert id_ranges([7], 4) == [(7, 7)] and id_ranges([], 4) == []
    ids = random.Random(1).sample(range(10_000), 300)
    ranges = id_ranges(ids, 4, min_gap=0)
    assert len(ranges) <= 4 and all(any(lo <= i <= hi for lo, hi in ranges) for i in ids)


def test_inbox_page_for_a_common_word_shows_the_newest_matches_without_counting(inbox, agent_user, monkeypatch):
    monkeypatch.setattr(search_module, "EXACT_LIMIT", 5)
    monkeypatch.setattr("resonanz.desk.views.paging.PAGE_SIZE", 4)
    client = Client()
    assert client.login(username="berta@example.com", password="pw-agent-123")
    expected = list(filter_conversations(Conversation.objects.all(), {"status": "all", "q": "bitte"}, None)
                    .values_list("pk", flat=True))
    assert len(expected) > 8
    first = client.get("/inbox/?status=all&q=bitte", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    second = client.get("/inbox/?status=all&q=bitte&page=2", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    shown = [int(part.split('"')[0]) for part in first.split('data-id="')[1:]]
    assert shown == expected[:4]
    assert [int(part.split('"')[0]) for part in second.split('data-id="')[1:]] == expected[4:8]
    assert 'data-count="active"></span>' in first  # not counted
    assert "Seite 1<" in first and "Seite 2<" in second and "von" not in first.split('class="pager"')[1]
    rare = client.get("/inbox/?status=all&q=kunde17", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert 'data-count="active">' in rare and 'data-count="active"></span>' not in rare  # few: counted
