"""Satisfaction surveys: sent after resolution by email, answered once with one click, counted in the KPIs."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from resonanz.inbox.actions import ingest, update_conversation
from resonanz.insights import dashboard
from resonanz.insights.actions import save_goal
from resonanz.insights.models import Survey
from tests.conftest import inbound

pytestmark = pytest.mark.django_db


def test_resolving_sends_one_survey_answered_with_one_click(api_channel, agent_user,
                                                           django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        conv = ingest(api_channel, inbound("m1", "kundin@example.com", text="Wo bleibt meine Bestellung?")).conversation
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        update_conversation(conv, agent_user, status="resolved")
    survey = Survey.objects.get(conversation=conv)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["kundin@example.com"]
    links = re.findall(r"http\S+/survey/(\S+)/\?rating=(\d)", mail.outbox[0].body)
    assert [r for _, r in links] == ["5", "4", "3", "2", "1"] and links[0][0] == survey.token
    # reopening and resolving again does not send a second survey
    with django_capture_on_commit_callbacks(execute=True):
        update_conversation(conv, agent_user, status="open")
        update_conversation(conv, agent_user, status="resolved")
    assert len(mail.outbox) == 1 and Survey.objects.count() == 1

    client = Client()
    page = client.get(f"/survey/{survey.token}/?rating=4").content.decode()
    assert "Wie war unsere Hilfe?" in page and 'value="4" class="pre primary"' in page
    survey.refresh_from_db()
    assert survey.rating is None  # following the link alone records nothing
    assert client.post(f"/survey/{survey.token}/", {"rating": "9"}).status_code == 400
    done = client.post(f"/survey/{survey.token}/", {"rating": "4"}).content.decode()
    assert "Danke für Ihre Bewertung!" in done
    client.post(f"/survey/{survey.token}/", {"rating": "4", "comment": "Schnelle Hilfe <b>danke</b>"})
    survey.refresh_from_db()
    assert survey.rating == 4 and survey.comment.startswith("Schnelle Hilfe")
    again = client.post(f"/survey/{survey.token}/", {"rating": "1", "comment": "anders"})
    survey.refresh_from_db()
    assert again.status_code == 200 and survey.rating == 4 and "anders" not in survey.comment
    assert client.get("/survey/not-a-token/").status_code == 404
    k = dashboard.kpis(30)
    assert k["csat_average"] == 4 and k["csat_responses"] == 1 and k["conversations"] == 1
    assert k["first_response_median_minutes"] is None and k["resolution_median_hours"] is not None


    off = dashboard.goal_progress(save_goal(team=None, kpi="csat", target=4.5))
    assert off["state"] == "off_track" and off["value"] == 4 and abs(off["ratio"] - 4 / 4.5) < 1e-9
    met = dashboard.goal_progress(save_goal(team=None, kpi="csat", target=3.5))  # the same goal, a new target
    assert met["state"] == "met" and met["ratio"] == 1.0
    assert dashboard.goal_progress(save_goal(team=None, kpi="sla", target=90))["state"] == "no_data"
