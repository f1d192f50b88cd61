"""Group commit: concurrent single-message ingestions share one transaction and are each answered after it commits.

Each test starts one caller that leads a first group and holds it (outside any transaction) until the other
callers are queued, so the rest reliably form a second group; the assertions then count groups and check that
every message is stored exactly once, threaded as one at a time would be, and refused or failed per message.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
from django.db import IntegrityError, OperationalError, connection, transaction
from rest_framework.test import APIClient

from resonanz.connectors.actions import create_channel
from resonanz.core.errors import ActionError
from resonanz.core.tokens import create_token
from resonanz.inbox import actions, ingestion
from resonanz.inbox.actions import ingest, invite_agent
from resonanz.inbox.models import Conversation, Message
from tests.conftest import inbound

GROUP = actions._group


@pytest.fixture
def gated(monkeypatch):
    """``run(calls)``: calls[0] leads a first group alone; the others are all queued before it commits, so they
    are committed together in a second group. Returns each call's result or exception, in order."""

    def run(calls):
        others = len(calls) - 1
        real_commit = GROUP._commit
        first = threading.Event()

        def commit(group):
            if not first.is_set():
                first.set()
                deadline = time.monotonic() + 30
                while GROUP.waiting() < others and time.monotonic() < deadline:
                    time.sleep(0.005)
            real_commit(group)

        monkeypatch.setattr(GROUP, "_commit", commit)
        outcomes: list = [None] * len(calls)

        def go(index):
            try:
                outcomes[index] = calls[index]()
            except Exception as exc:  # noqa: BLE001  (the test looks at it)
                outcomes[index] = exc
            finally:
                connection.close()

        threads = [threading.Thread(target=go, args=(i,)) for i in range(len(calls))]
        threads[0].start()
        assert first.wait(30)
        for t in threads[1:]:
            t.start()
        for t in threads:
            t.join(60)
        monkeypatch.setattr(GROUP, "_commit", real_commit)
        return outcomes

    return run


def _groups_since(before) -> tuple[int, int]:
    return GROUP.stats.groups - before.groups, GROUP.stats.messages - before.messages


def _snapshot():
    return type(GROUP.stats)(**vars(GROUP.stats))


@pytest.mark.django_db(transaction=True)
def test_concurrent_messages_share_one_commit_and_thread_as_one_at_a_time(gated):
    channel = create_channel(kind="api", name="Gruppe")
    before = _snapshot()

    def send(n):
        def call():
            result = ingest(channel, inbound(f"g-{n}", f"kunde{n % 3}@example.com", f"Frage {n}"))
            # answered only after the commit: this thread's own connection (no transaction) already sees it
            assert Message.objects.filter(pk=result.message.pk).exists()
            return result
        return call

    results = gated([send(n) for n in range(8)])
    assert all(not isinstance(r, Exception) for r in results), results
    assert _groups_since(before) == (2, 8)  # the first alone, the seven queued meanwhile together
    assert all(r.created for r in results)
    assert len({r.message.pk for r in results}) == 8
    # one conversation per customer, as if the eight had come one after the other
    assert Conversation.objects.count() == 3
    for n, r in enumerate(results):
        assert r.conversation.pk == results[n % 3].conversation.pk
    assert Counter(n % 3 for n, r in enumerate(results) if r.new_conversation) == {0: 1, 1: 1, 2: 1}
    assert sorted(Conversation.objects.values_list("message_count", flat=True)) == [2, 3, 3]
    assert Counter(Message.objects.values_list("external_id", flat=True)) == {f"g-{n}": 1 for n in range(8)}


@pytest.mark.django_db(transaction=True)
def test_a_refused_message_in_a_group_does_not_cost_the_others(gated):
    channel = create_channel(kind="api", name="Gruppe")

    def send(external_id, text):
        return lambda: ingest(channel, inbound(external_id, "kunde@example.com", text))

    results = gated([send("r-0", "Erste"), send("r-1", "Zweite"), send("r-2", "   "), send("r-3", "Vierte")])
    assert isinstance(results[2], ActionError) and results[2].field == "text"
    assert [r.created for i, r in enumerate(results) if i != 2] == [True, True, True]
    assert sorted(Message.objects.values_list("external_id", flat=True)) == ["r-0", "r-1", "r-3"]


@pytest.mark.django_db(transaction=True)
def test_a_row_that_fails_the_shared_transaction_fails_only_its_own_request(gated, monkeypatch):
    channel = create_channel(kind="api", name="Gruppe")
    real = ingestion._store_attachments

    def refuse_one(message, attachments):
        if message.external_id == "f-2":
            raise RuntimeError("the storage refused this file")
        return real(message, attachments)

    monkeypatch.setattr(ingestion, "_store_attachments", refuse_one)
    before = _snapshot()
    files = [{"filename": "a.txt", "content_type": "text/plain", "content": b"x"}]
    results = gated([(lambda n=n: ingest(channel, inbound(f"f-{n}", f"k{n}@example.com", f"Datei {n}",
                                                          attachments=files)))
                     for n in range(5)])
    assert isinstance(results[2], RuntimeError)
    assert all(r.created for i, r in enumerate(results) if i != 2)
    assert GROUP.stats.fallbacks - before.fallbacks == 1  # the second group rolled back, then one by one
    assert sorted(Message.objects.values_list("external_id", flat=True)) == ["f-0", "f-1", "f-3", "f-4"]


@pytest.mark.django_db(transaction=True)
def test_a_race_with_another_writer_on_the_same_id_rolls_back_and_stores_once(gated, monkeypatch):
    """Another process stores 'x-1' between the group's look-up and its insert (the look-up misses it): the
    unique key refuses the group, which is stored again one by one; 'x-1' is answered as a redelivery."""
    channel = create_channel(kind="api", name="Gruppe")
    earlier = ingest(channel, inbound("x-1", "kunde@example.com", "Schon da"))
    real = ingestion.stored_messages
    missed = []

    def miss_once(channel, ids):
        if len(ids) > 1 and not missed:
            missed.append(ids)
            return {}
        return real(channel, ids)

    monkeypatch.setattr(ingestion, "stored_messages", miss_once)
    results = gated([lambda n=n: ingest(channel, inbound(f"x-{n}", f"k{n}@example.com", f"Frage {n}"))
                     for n in range(2, 6)] + [lambda: ingest(channel, inbound("x-1", "kunde@example.com", "Nochmal"))])
    assert all(not isinstance(r, Exception) for r in results), results
    assert [r.created for r in results] == [True, True, True, True, False]
    assert results[-1].message.pk == earlier.message.pk
    assert missed and "x-1" in missed[0]  # the second group did miss it
    assert Counter(Message.objects.values_list("external_id", flat=True)) == {f"x-{n}": 1 for n in range(1, 6)}


@pytest.mark.django_db(transaction=True)
def test_concurrent_redelivery_stores_each_message_once(gated):
    channel = create_channel(kind="api", name="Gruppe")
    # 'd-0' leads the first group; its redeliveries and two ids sent twice each wait for the second group
    ids = ["d-0", "d-0", "d-0", "d-1", "d-1", "d-2", "d-2", "d-3"]
    results = gated([lambda e=e: ingest(channel, inbound(e, "kunde@example.com", f"Text {e}")) for e in ids])
    assert all(not isinstance(r, Exception) for r in results), results
    created = Counter(e for e, r in zip(ids, results, strict=True) if r.created)
    assert created == {"d-0": 1, "d-1": 1, "d-2": 1, "d-3": 1}
    assert results[0].created  # the first delivery of 'd-0' is the one stored
    for external_id in set(ids):
        pks = {r.message.pk for e, r in zip(ids, results, strict=True) if e == external_id}
        assert len(pks) == 1
    assert Counter(Message.objects.values_list("external_id", flat=True)) == {e: 1 for e in set(ids)}
    assert Conversation.objects.get().message_count == 4


@pytest.mark.django_db(transaction=True)
def test_database_unavailable_fails_every_request_of_the_group(gated, monkeypatch):
    """Nothing was stored: each request gets the database's error (the API answers 503 and the client retries)."""
    channel = create_channel(kind="api", name="Gruppe")
    real = ingestion.store
    calls = []

    def unavailable(*args, **kwargs):
        calls.append(1)
        if len(calls) > 1:
            raise OperationalError("database is locked")
        return real(*args, **kwargs)

    monkeypatch.setattr(ingestion, "store", unavailable)
    results = gated([lambda n=n: ingest(channel, inbound(f"u-{n}", f"k{n}@example.com", "Hallo")) for n in range(4)])
    assert results[0].created
    assert all(isinstance(r, OperationalError) for r in results[1:])
    assert len({id(r) for r in results[1:]}) == 3  # each thread raises its own exception object
    assert list(Message.objects.values_list("external_id", flat=True)) == ["u-0"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_api_requests_are_answered_after_their_group_commits(gated):
    user = invite_agent("gruppe@example.com", display_name="Gruppe", role="admin", password="pw-gruppe-123")
    _row, token = create_token(user, name="Gruppe")
    channel = create_channel(kind="api", name="Gruppe API")
    before = _snapshot()

    def post(n, external_id):
        def call():
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
            response = client.post(f"/api/channels/{channel.pk}/inbound/",
                                   {"external_id": external_id, "sender": {"handle": f"k{n % 4}@example.com"},
                                    "text": f"Frage {n}"}, format="json")
            assert Message.objects.filter(external_id=external_id).exists()
            return response.status_code, response.json()
        return call

    ids = [f"a-{n}" for n in range(7)] + ["a-3"]  # the last one redelivers a-3 at the same moment
    results = gated([post(n, e) for n, e in enumerate(ids)])
    assert all(not isinstance(r, Exception) for r in results), results
    assert sorted(code for code, _ in results) == [200] + [201] * 7
    assert results[3][1]["message_id"] == results[7][1]["message_id"]
    assert _groups_since(before) == (2, 8)
    assert Counter(Message.objects.values_list("external_id", flat=True)) == {f"a-{n}": 1 for n in range(7)}


@pytest.mark.django_db
def test_inside_an_open_transaction_the_message_commits_with_it(api_channel):
    before = _snapshot()
    with pytest.raises(IntegrityError), transaction.atomic():
        ingest(api_channel, inbound("t-1"))
        assert Message.objects.filter(external_id="t-1").exists()
        raise IntegrityError("the caller's transaction fails")
    assert not Message.objects.filter(external_id="t-1").exists()  # rolled back with the caller's transaction
    assert GROUP.stats.groups == before.groups
