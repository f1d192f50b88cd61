"""Where early warnings go: in-app notifications (the bell), email to a team's supervisors, and a signed
outgoing webhook received by a real HTTP server on 127.0.0.1; a failing channel is noted and never stops
the others."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from resonanz.core.errors import ActionError
from resonanz.inbox.actions import invite_agent
from resonanz.insights import actions, delivery
from resonanz.insights.facts import hour_of
from resonanz.insights.models import Alert, AlertChannel, ListeningQuery, Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver(settings):
    """A webhook receiver that checks nothing itself: it records (headers, body) and answers 204, or 500
    while ``fail`` is set."""
    settings.RESONANZ_OUTBOUND_ALLOW = ["127.0.0.1"]
    state = {"received": [], "fail": False}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state["received"].append((dict(self.headers), body))
            self.send_response(500 if state["fail"] else 204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/resonanz-alerts", state
    server.shutdown()


@pytest.fixture
def people(teams):
    return {
        "lead": invite_agent("lead@example.com", display_name="Lena Lead", role="supervisor",
                             teams=[teams["Marketing"]], password="pw-lead-1234", language="de"),
        "member": invite_agent("mia@example.com", display_name="Mia Marketing", role="agent",
                               teams=[teams["Marketing"]], password="pw-mia-12345", language="de"),
        "support_lead": invite_agent("sam@example.com", display_name="Sam Support", role="supervisor",
                                     teams=[teams["Support"]], password="pw-sam-12345"),
    }


def make_alert(query=None) -> Alert:
    return Alert.objects.create(key=f"volume:q{query.pk}" if query else "volume:all", kind="volume", query=query,
                                label="Volume of all items", hour=hour_of(timezone.now()) - timedelta(hours=1),
                                observed=42, expected=3.2, score=9.1,
                                terms=[{"term": "lieferung", "z": 4.1}, {"term": "paket", "z": 3.0}], fact_ids=[1])


def test_without_a_choice_supervisors_get_it_in_the_desk_and_by_email(people):
    alert = make_alert()
    sent = delivery.deliver(alert, "Volume of all items: 42 where 3.2 were expected.")
    assert sent == {"in_app": 2, "email": 2, "webhook": 0}
    assert set(Notification.objects.values_list("user__email", flat=True)) == {"lead@example.com", "sam@example.com"}
    assert len(mail.outbox) == 1 and set(mail.outbox[0].to) == {"lead@example.com", "sam@example.com"}


def test_each_team_chooses_its_channels_and_the_webhook_is_signed(people, teams, receiver):
    url, state = receiver
    marketing = teams["Marketing"]
    brand = ListeningQuery.objects.create(name="Acme", expression="Acme")
    hook = actions.save_alert_channel(team=marketing, kind="webhook", url=url)
    actions.save_alert_channel(team=marketing, kind="in_app")
    actions.save_alert_channel(team=teams["Support"], kind="email", only_query=brand)
    assert len(hook.secret) >= 32
    alert = make_alert()
    sent = delivery.deliver(alert, "Volume of all items: 42 where 3.2 were expected.")
    # the marketing team's people in the desk, the webhook once, no email (Support wants only the brand query)
    assert sent == {"in_app": 2, "email": 0, "webhook": 1}
    assert set(Notification.objects.values_list("user__email", flat=True)) == {"lead@example.com", "mia@example.com"}
    assert mail.outbox == []
    headers, body = state["received"][0]
    expected = "sha256=" + hmac.new(hook.secret.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Resonanz-Signature"] == expected
    wrong = "sha256=" + hmac.new(b"another secret", body, hashlib.sha256).hexdigest()
    assert headers["X-Resonanz-Signature"] != wrong
    assert headers["X-Resonanz-Delivery"] == f"alert-{alert.pk}"
    data = json.loads(body)
    assert data["event"] == "insights.alert" and data["alert"]["observed"] == 42
    assert data["alert"]["driving_terms"] == ["lieferung", "paket"]
    assert data["alert"]["url"].endswith(f"/insights/alerts/{alert.pk}/")
    # delivering again does not notify the same person twice
    delivery.deliver(alert, "again")
    assert Notification.objects.count() == 2
    # the brand query's alert reaches the Support lead by email too
    delivery.deliver(make_alert(brand), "Volume of “Acme”")
    assert mail.outbox[-1].to == ["sam@example.com"]


def test_a_failing_webhook_is_noted_and_the_other_channels_still_deliver(people, teams, receiver):
    url, state = receiver
    state["fail"] = True
    hook = actions.save_alert_channel(team=None, kind="webhook", url=url)
    actions.save_alert_channel(team=None, kind="in_app")
    sent = delivery.deliver(make_alert(), "text")
    assert sent["webhook"] == 0 and sent["in_app"] == 2
    hook.refresh_from_db()
    assert "HTTP 500" in hook.last_error
    state["fail"] = False
    delivery.deliver(make_alert(ListeningQuery.objects.create(name="Q", expression="q")), "text")
    hook.refresh_from_db()
    assert hook.last_error == ""


def test_bad_channels_are_refused_with_a_reason(people, settings):
    settings.RESONANZ_OUTBOUND_ALLOW = []
    with pytest.raises(ActionError, match="RESONANZ_OUTBOUND_ALLOW"):
        actions.save_alert_channel(kind="webhook", url="http://127.0.0.1:9/x")
    with pytest.raises(ActionError, match="address"):
        actions.save_alert_channel(kind="webhook", url="")
    with pytest.raises(ActionError):
        actions.save_alert_channel(kind="pager")
    client = Client()
    client.force_login(people["lead"])
    page = client.post("/insights/alert-channels/", {"kind": "webhook", "url": "ftp://example.com/x"},
                       HTTP_ACCEPT_LANGUAGE="de")
    assert page.status_code == 400 and AlertChannel.objects.count() == 0
    member = Client()
    member.force_login(people["member"])
    assert member.get("/insights/alert-channels/").status_code == 403


def test_the_bell_counts_unread_and_the_page_marks_them_read(people):
    delivery.deliver(make_alert(), "text")
    client = Client()
    client.force_login(people["lead"])
    inbox = client.get("/inbox/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "1 ungelesene Benachrichtigung" in inbox
    page = client.get("/insights/notifications/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Frühwarnung" in page and "Volumenspitze" in page and "lieferung" in page
    assert Notification.objects.get(user=people["lead"]).read_at is not None
    assert "ungelesene" not in client.get("/inbox/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    # someone else's notifications stay unread
    assert Notification.objects.get(user=people["support_lead"]).read_at is None


def test_a_supervisor_adds_a_webhook_in_the_desk_and_sees_its_secret_once(people, receiver):
    url, _state = receiver
    client = Client()
    client.force_login(people["lead"])
    saved = client.post("/insights/alert-channels/", {"kind": "webhook", "url": url}, follow=True,
                        HTTP_ACCEPT_LANGUAGE="de")
    channel = AlertChannel.objects.get()
    assert channel.secret in saved.content.decode() and "Signatur-Geheimnis" in saved.content.decode()
    assert channel.secret not in client.get("/insights/alert-channels/").content.decode()
    client.post(f"/insights/alert-channels/{channel.pk}/delete/")
    assert not AlertChannel.objects.exists()


def test_an_alert_from_the_detector_lands_in_the_bell(people, feed):
    """The whole path: posts → rollups → detector → alert → in-app notification (no channel chosen)."""
    import random

    from resonanz.core.pipeline import run_until_empty
    from resonanz.insights import alerts
    from resonanz.listening.actions import InboundPost, ingest_post

    rng = random.Random(3)
    now = timezone.now()
    spike = hour_of(now) - timedelta(hours=1)
    n, hour = 0, spike - timedelta(days=3)
    while hour < spike:
        for _ in range(rng.choice((0, 1, 1, 2))):
            n += 1
            ingest_post(feed, InboundPost(external_id=f"c{n}", text="Acme Kaffee gekauft.",
                                          published_at=hour + timedelta(minutes=rng.randint(0, 59))))
        hour += timedelta(hours=1)
    for k in range(40):
        ingest_post(feed, InboundPost(external_id=f"s{k}", text="Acme Lieferung kaputt, Paket beschädigt!",
                                      published_at=spike + timedelta(minutes=k)))
    run_until_empty()
    made = alerts.check(now)
    assert any(a.key == "volume:all" for a in made)
    assert Notification.objects.filter(user=people["lead"], alert__key="volume:all").exists()


def test_api_alert_channels_notifications_and_launch(people, teams, receiver):
    from rest_framework.test import APIClient

    url, state = receiver
    lead, member = APIClient(), APIClient()
    lead.force_authenticate(people["lead"])
    member.force_authenticate(people["member"])
    made = lead.post("/api/alert-channels/", {"kind": "webhook", "url": url, "team": teams["Marketing"].pk},
                     format="json")
    assert made.status_code == 201 and len(made.json()["secret"]) >= 32
    listed = lead.get("/api/alert-channels/").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert rows[0]["secret"] == "••••"
    assert lead.post("/api/alert-channels/", {"kind": "webhook", "url": ""}, format="json").status_code == 400
    assert member.get("/api/alert-channels/").status_code == 403
    delivery.deliver(make_alert(), "text")
    assert len(state["received"]) == 1
    actions.save_alert_channel(team=teams["Marketing"], kind="in_app")
    delivery.deliver(make_alert(ListeningQuery.objects.create(name="Acme", expression="Acme")), "text")
    mine = member.get("/api/notifications/?unread=1").json()
    mine = mine["results"] if isinstance(mine, dict) else mine
    assert len(mine) == 1 and mine[0]["alert"]
    assert member.post("/api/notifications/read/").json() == {"marked_read": 1}
    assert Notification.objects.filter(user=people["member"], read_at__isnull=True).count() == 0
    assert lead.get("/api/insights/launch/?query=abc").status_code == 400
    assert lead.get("/api/insights/launch/?query=999999").status_code == 404
    q = ListeningQuery.objects.get(name="Acme")
    assert lead.get(f"/api/insights/launch/?query={q.pk}").status_code == 400  # no launch date, no start
    report = lead.get(f"/api/insights/launch/?query={q.pk}&start=2026-01-05&days=7").json()
    assert report["query"]["name"] == "Acme" and report["after"]["total"] == 0
    dash = lead.get(f"/api/insights/dashboard/?team={teams['Marketing'].pk}").json()
    assert "reopen_rate" in dash["kpis"] and "nps" in dash["kpis"] and dash["per_agent"] == []
    assert lead.get("/api/insights/dashboard/?team=x").status_code == 400
    assert lead.get("/api/insights/dashboard/?agent=99999").status_code == 404
