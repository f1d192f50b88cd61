"""Reopen rate and automation rate from the event log, NPS next to CSAT, per team and per agent, and the
team lead's dashboard filters."""

from __future__ import annotations

import pytest
from django.test import Client

from resonanz.core.errors import ActionError
from resonanz.inbox.actions import assign, ingest, invite_agent, send_reply, update_conversation
from resonanz.insights import dashboard
from resonanz.insights.actions import answer_recommend, answer_survey, open_survey, save_goal
from resonanz.knowledge import bot
from resonanz.knowledge.actions import create_article
from tests.conftest import inbound

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(api_channel, teams, agent_user, admin_user):
    """Four conversations of the Support team: one reopened by the customer's reply, one resolved for good,
    one answered by the virtual agent alone, one the bot handed over to a person."""
    support = teams["Support"]
    other = invite_agent("otto@example.com", display_name="Otto Anders", role="agent", teams=[support],
                         password="pw-otto-12345")
    convs = []
    for n, text in enumerate(["Paket fehlt", "Rechnung falsch", "Passwort vergessen", "Passwort geht nicht"]):
        conv = ingest(api_channel, inbound(f"m{n}", f"k{n}@example.com", text=text)).conversation
        update_conversation(conv, agent_user, team=support)
        convs.append(conv)
    for conv, who in ((convs[0], agent_user), (convs[1], other)):
        assign(conv, who, actor=agent_user)
        send_reply(conv, who, "Wir kümmern uns.")
        update_conversation(conv, who, status="resolved")
    # the customer answers the resolved conversation: it is open again
    ingest(api_channel, inbound("m0b", "k0@example.com", text=f"Immer noch nicht da! [RZ-{convs[0].pk}]",
                                subject=f"Re: [RZ-{convs[0].pk}]"))
    article = create_article(admin_user, title="Passwort", body="Über *Passwort zurücksetzen*.", language="de",
                             status="published")
    for conv in convs[2:]:
        bot.answer(conv.messages.first(), article, 0.9)
    bot.hand_over(convs[3].messages.first(), "the customer asked for a person")
    return {"convs": convs, "support": support, "agent": agent_user, "other": other}


def test_reopen_and_automation_rates_come_from_the_event_log(desk):
    k = dashboard.kpis(30)
    assert k["conversations"] == 4
    assert (k["reopened"], k["resolved_ever"]) == (1, 2) and k["reopen_rate"] == 0.5
    assert k["automated"] == 1 and k["automation_rate"] == 0.25  # the handed-over one does not count
    team = dashboard.kpis(30, desk["support"])
    assert team["reopen_rate"] == 0.5
    mine = dashboard.kpis(30, agent=desk["agent"])
    assert mine["conversations"] == 1 and mine["reopen_rate"] == 1.0
    rows = {r["agent"].display_name: r for r in dashboard.per_agent(30, desk["support"])}
    assert rows["Otto Anders"]["reopen_rate"] == 0.0 and rows["Berta Beispiel"]["reopen_rate"] == 1.0
    goal = dashboard.goal_progress(save_goal(team=desk["support"], kpi="reopen", target=10))
    assert goal["state"] == "off_track" and goal["value"] == 50
    assert dashboard.goal_progress(save_goal(team=None, kpi="automation", target=20))["state"] == "met"


def test_nps_is_asked_next_to_csat_once_and_counted(desk):
    a, b, c = (open_survey(conv) for conv in desk["convs"][:3])
    answer_survey(a, rating=5)
    answer_recommend(a, 10)
    answer_recommend(b, 9)
    answer_recommend(c, 3)
    with pytest.raises(ActionError):
        answer_recommend(a, 2)  # once per conversation
    for bad in (11, -1, "x"):
        with pytest.raises(ActionError):
            answer_recommend(c, bad)
    answer_survey(b, rating=4)  # the rating may follow the NPS answer
    k = dashboard.kpis(30)
    assert k["nps_responses"] == 3 and round(k["nps"], 1) == round(100 * (2 - 1) / 3, 1)
    assert k["csat_responses"] == 2
    goal = dashboard.goal_progress(save_goal(team=None, kpi="nps", target=-20))
    assert goal["state"] == "met"
    with pytest.raises(ActionError):
        save_goal(team=None, kpi="nps", target=150)


def test_survey_page_asks_how_likely_a_recommendation_is(desk):
    survey = open_survey(desk["convs"][1])
    client = Client()
    client.post(f"/survey/{survey.token}/", {"rating": "5"})
    page = client.get(f"/survey/{survey.token}/").content.decode()
    assert "Wie wahrscheinlich ist es" in page and 'name="recommend" value="10"' in page
    assert client.post(f"/survey/{survey.token}/", {"recommend": "12"}).status_code == 200
    client.post(f"/survey/{survey.token}/", {"recommend": "8"})
    survey.refresh_from_db()
    assert survey.recommend == 8 and survey.rating == 5
    assert 'name="recommend"' not in client.get(f"/survey/{survey.token}/").content.decode()


def test_team_lead_filters_the_dashboard_by_team_and_agent(desk):
    lead = invite_agent("lead@example.com", display_name="Lena Lead", role="supervisor", password="pw-lead-1234",
                        language="de")
    client = Client()
    client.force_login(lead)
    page = client.get("/insights/", {"team": desk["support"].pk}, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Wiedereröffnungsquote" in page and "Automatisierungsquote" in page and "Pro Agent" in page
    assert "Otto Anders" in page and "Berta Beispiel" in page
    agent_pk = desk["agent"].agent.pk
    one = client.get("/insights/", {"team": desk["support"].pk, "agent": agent_pk}).content.decode()
    assert "Pro Agent" not in one and "100 % (1 / 1)" in one
    assert client.get("/insights/", {"team": "x", "agent": "-1"}).status_code == 200


def test_response_times_count_business_hours_where_an_sla_applies(api_channel, teams, agent_user):
    """Friday 16:00 to Monday 10:00 is two business hours under a Monday-to-Friday 9-17 SLA, not 66 hours;
    a conversation no policy covers counts on the clock."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from resonanz.automation import sla
    from resonanz.automation.actions import save_calendar, save_sla_policy
    from resonanz.automation.models import ConversationSLA
    from resonanz.inbox.models import Conversation

    berlin = ZoneInfo("Europe/Berlin")
    office = save_calendar(None, name="Büro", hours="mon-fri 09:00-17:00", tz="Europe/Berlin")
    save_sla_policy(None, name="Support", team=teams["Support"], calendar=office, first_response_minutes=240)
    covered = ingest(api_channel, inbound("s1", "s1@example.com", text="Paket fehlt")).conversation
    update_conversation(covered, agent_user, team=teams["Support"])
    covered.refresh_from_db()
    sla.refresh(covered)  # what automation does after the change commits
    assert ConversationSLA.objects.get(conversation=covered).policy is not None
    plain = ingest(api_channel, inbound("s2", "s2@example.com", text="Rechnung falsch")).conversation
    friday = datetime(2026, 11, 20, 16, 0, tzinfo=berlin)
    Conversation.objects.filter(pk=covered.pk).update(created_at=friday,
                                                      first_response_at=friday + timedelta(days=2, hours=18))
    Conversation.objects.filter(pk=plain.pk).update(created_at=friday, first_response_at=friday + timedelta(minutes=30))
    k = dashboard.kpis(30, end=datetime(2026, 11, 24, tzinfo=berlin))
    assert k["first_response_median_minutes"] == (120 + 30) / 2 and k["first_response_p90_minutes"] == 120
