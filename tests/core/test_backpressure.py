"""Back-pressure: a burst on the public endpoints stops at the backlog limit, agents keep working, nothing
accepted is lost (issue 16, "back-pressure so a burst cannot starve the pipeline for real customers")."""

from __future__ import annotations

import json
import time

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from resonanz.connectors import intake
from resonanz.connectors.actions import create_channel
from resonanz.connectors.drivers.webhook import sign
from resonanz.core import backpressure, pipeline
from resonanz.inbox.models import Message
from tests.chat.conftest import SITE, Widget
from tests.conftest import inbound

pytestmark = pytest.mark.django_db

LIMIT = 5


@pytest.fixture(autouse=True)
def busy_worker(monkeypatch, settings):
    """The worker is busy elsewhere: stored messages stay pending (no kick runs the pipeline in the request),
    the count is read on every request, and the public limit is small."""
    monkeypatch.setattr(pipeline, "kick", lambda: None)
    monkeypatch.setattr(backpressure, "CHECK_SECONDS", 0)
    backpressure._checked.clear()
    settings.RESONANZ_BACKLOG_LIMIT = LIMIT
    settings.RESONANZ_BACKLOG_RETRY_SECONDS = 20
    yield
    backpressure._checked.clear()
    backpressure._over.clear()


def pending() -> int:
    return Message.objects.filter(pipeline_state="pending").count()


def fill_backlog(channel, n: int, prefix: str = "b") -> None:
    for i in range(n):
        intake.submit(channel, [inbound(f"{prefix}-{i}", handle=f"k{i}@example.com")])


def form_data(client, url: str) -> dict:
    page = client.get(url).content.decode()
    start = page.index('name="token" value="') + len('name="token" value="')
    return {"name": "Erika", "email": "erika@example.com", "subject": "", "website": "", "consent": "on",
            "token": page[start:page.index('"', start)]}


def test_the_backlog_is_read_through_the_index_only_as_far_as_the_limit(api_channel):
    fill_backlog(api_channel, 3)
    Message.objects.filter(external_id="b-0").update(pipeline_state="done")  # done work does not count
    assert not backpressure.backlog_reaches(3)
    assert backpressure.backlog_reaches(2) and backpressure.backlog_reaches(1)
    with CaptureQueriesContext(connection) as queries:
        backpressure.backlog_reaches(2000)
    assert len(queries) == 1 and "LIMIT 1 OFFSET 1999" in queries[0]["sql"].upper().replace('"', "")


def test_one_count_a_second_per_process_not_one_per_request(api_channel, monkeypatch):
    monkeypatch.setattr(backpressure, "CHECK_SECONDS", 60)
    with CaptureQueriesContext(connection) as queries:
        for _ in range(20):
            backpressure.admit("public")
    assert len(queries) == 1


def test_a_burst_on_the_contact_form_stops_at_the_limit_and_nothing_accepted_is_lost(
        form_channel, api_channel, api, agent_user):
    url = f"/contact/{form_channel.slug}/"
    answers = []
    for i in range(3 * LIMIT):  # from many addresses: the per-address limit does not stop it
        client = Client(REMOTE_ADDR=f"203.0.113.{i + 1}")
        data = {**form_data(client, url), "message": f"Nachricht Nummer {i}"}
        answers.append((data, client.post(url, data, HTTP_ACCEPT_LANGUAGE="de")))
    accepted = [d for d, r in answers if r.status_code == 200]
    refused = [(d, r) for d, r in answers if r.status_code == 503]
    assert len(accepted) == LIMIT and len(refused) == 2 * LIMIT
    for data, response in refused:
        page = response.content.decode()
        assert 20 <= int(response["Retry-After"]) <= 30
        assert "Gerade erreichen uns sehr viele Nachrichten" in page
        assert data["message"] in page  # the text stays in the form
    assert pending() == LIMIT  # the backlog is bounded

    # Agents are never refused: their pages, their API, their replies.
    desk = Client()
    desk.force_login(agent_user)
    assert desk.get("/inbox/").status_code == 200
    assert api.get("/api/conversations/").status_code == 200
    # An integration's message (the signed tier, a higher limit) still gets in.
    response = api.post(f"/api/channels/{api_channel.pk}/inbound/", {
        "external_id": "crm-1", "sender": {"handle": "real@example.com"}, "text": "Echte Kundin"}, format="json")
    assert response.status_code == 201

    # The worker catches up: everything accepted is processed, and the form accepts again.
    assert pipeline.run_until_empty() == LIMIT + 1
    assert Message.objects.filter(pipeline_state="done").count() == LIMIT + 1
    assert sorted(Message.objects.filter(channel=form_channel).values_list("text", flat=True)) == \
        sorted(d["message"] for d in accepted)
    data, _response = refused[0]
    again = Client(REMOTE_ADDR="198.51.100.7").post(url, data)  # the person sends the kept form again
    assert again.status_code == 200
    assert Message.objects.filter(text=data["message"]).count() == 1


def test_chat_sessions_and_lines_wait_while_reading_goes_on(api_channel, db):
    channel = create_channel(kind="chat", name="Chat", settings={"allowed_origins": [SITE]})
    widget = Widget(channel.slug)
    widget.start()
    assert widget.say("Hallo?", "c1").status_code == 201
    fill_backlog(api_channel, LIMIT)

    newcomer = Widget(channel.slug)
    refused = newcomer.post("session/", {})
    assert refused.status_code == 503 and refused["Access-Control-Allow-Origin"] == SITE
    assert refused.json()["code"] == "busy" and int(refused["Retry-After"]) >= 20
    assert "Retry-After" in refused["Access-Control-Expose-Headers"]  # the widget can read it
    line = widget.say("Noch jemand da?", "c2")
    assert line.status_code == 503 and line.json()["retry_after"] >= 20
    assert widget.post("leave-message/", {"client_id": "l1", "email": "a@example.com", "text": "x"}).status_code == 503
    polled = widget.get("messages/")
    assert polled.status_code == 200 and [m["text"] for m in polled.json()["messages"]] == ["Hallo?"]

    pipeline.run_until_empty()
    assert widget.say("Noch jemand da?", "c2").status_code == 201  # the widget's retry: stored once
    assert widget.say("Noch jemand da?", "c2").status_code == 201
    assert Message.objects.filter(channel=channel, direction="inbound").count() == 2


def test_signed_webhooks_and_the_api_are_refused_only_at_their_own_limit(api_channel, api, settings):
    hook = create_channel(kind="webhook", name="Hooks", credentials={"secret": "s3cr3t"}, settings={"mapping": {
        "external_id": "id", "sender": "from", "text": "text"}})
    fill_backlog(api_channel, LIMIT)

    def push(i: int):
        body = json.dumps({"id": i, "from": f"p{i}@example.com", "text": "Hallo"}).encode()
        ts = str(int(time.time()))
        return Client().post(f"/hooks/{hook.slug}/", body, content_type="application/json",
                             HTTP_X_RESONANZ_TIMESTAMP=ts, HTTP_X_RESONANZ_SIGNATURE=sign("s3cr3t", ts, body))

    assert push(1).status_code == 201  # over the public limit, under the signed one
    settings.RESONANZ_BACKLOG_LIMIT_SIGNED = LIMIT + 1
    refused = push(2)
    assert refused.status_code == 503 and refused.json()["error"] == "busy" and int(refused["Retry-After"]) >= 20
    inbound_url = f"/api/channels/{api_channel.pk}/inbound/"
    body = {"external_id": "crm-9", "sender": {"handle": "x@example.com"}, "text": "Hallo"}
    answer = api.post(inbound_url, body, format="json")
    assert answer.status_code == 503 and int(answer["Retry-After"]) >= 20 and "detail" in answer.json()
    assert not Message.objects.filter(external_id__in=["crm-9"]).exists()

    pipeline.run_until_empty()
    assert push(2).status_code == 201 and api.post(inbound_url, body, format="json").status_code == 201


def test_community_writes_wait_for_visitors_but_not_for_agents(api_channel, agent_user):
    fill_backlog(api_channel, LIMIT)
    visitor = Client(REMOTE_ADDR="203.0.113.50")
    refused = visitor.post("/community/ask/", {"title": "Frage", "body": "Text"}, HTTP_ACCEPT_LANGUAGE="de")
    assert refused.status_code == 503 and "Gerade erreichen uns sehr viele Nachrichten" in refused.content.decode()
    assert visitor.get("/community/").status_code == 200  # reading is never refused
    desk = Client()
    desk.force_login(agent_user)
    assert desk.post("/community/ask/", {"title": "Frage", "body": "Text"}).status_code != 503


def test_a_limit_of_zero_switches_back_pressure_off(api_channel, form_channel, settings):
    settings.RESONANZ_BACKLOG_LIMIT = 0
    fill_backlog(api_channel, LIMIT)
    client = Client()
    url = f"/contact/{form_channel.slug}/"
    assert client.post(url, {**form_data(client, url), "message": "Hallo"}).status_code == 200
