"""Business hours: due times skip nights, weekends and holidays; warnings and breaches are raised once."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from resonanz.automation import runner, sla
from resonanz.automation.models import BusinessCalendar, ConversationSLA, Rule, SLAPolicy
from resonanz.core.errors import ActionError
from resonanz.inbox.actions import ingest
from tests.conftest import inbound

BERLIN = ZoneInfo("Europe/Berlin")


def test_business_minutes_skip_nights_weekends_and_holidays():
    hours = sla.Hours(sla.parse_hours("mon-fri 09:00-17:00"), ["2025-12-25", "2025-12-26"], "Europe/Berlin")
    friday_afternoon = datetime(2025, 12, 19, 16, 0, tzinfo=BERLIN)
    # 1 hour left on Friday, then Monday 09:00 + 3 hours
    assert hours.add(friday_afternoon, 4 * 60) == datetime(2025, 12, 22, 12, 0, tzinfo=BERLIN)
    # Wednesday 24th 16:00 + 2 h: 1 h on the 24th, 25th/26th are holidays, weekend, Monday 29th 10:00
    assert hours.add(datetime(2025, 12, 24, 16, 0, tzinfo=BERLIN), 120) == datetime(2025, 12, 29, 10, 0,
                                                                                   tzinfo=BERLIN)
    # Saturday night counts from Monday morning
    assert hours.add(datetime(2025, 3, 29, 23, 0, tzinfo=BERLIN), 30) == datetime(2025, 3, 31, 9, 30, tzinfo=BERLIN)
    assert hours.between(friday_afternoon, datetime(2025, 12, 22, 12, 0, tzinfo=BERLIN)) == 240


def test_hours_parsing_says_what_is_wrong():
    assert sla.parse_hours("mon-fri 09:00-12:00, 13:00-17:00\nsat 10:00-14:00")["5"] == [["10:00", "14:00"]]
    with pytest.raises(ActionError, match="unknown weekday"):
        sla.parse_hours("monday-fry 09:00-17:00")
    with pytest.raises(ActionError, match="ends before it starts"):
        sla.parse_hours("mon 17:00-09:00")
    with pytest.raises(ActionError, match="not a date"):
        sla.parse_holidays("25.12.2025")


@pytest.mark.django_db
def test_due_times_warning_and_breach_become_events_rules_act_on(teams, api_channel, supervisor):
    calendar = BusinessCalendar.objects.create(name="24/7 Mon-Sun", hours={str(d): [["00:00", "24:00"]]
                                                                            for d in range(7)})
    SLAPolicy.objects.create(name="Support fast", team=teams["Support"], calendar=calendar,
                             first_response_minutes=60, resolution_minutes=600, warn_before_minutes=15)
    from resonanz.automation.actions import save_rule

    save_rule(None, None, name="Escalate breaches", trigger="sla_breached",
              conditions={"all": [{"field": "sla.target", "op": "eq", "value": "first_response"}]},
              actions=[{"type": "set_priority", "priority": 4}, {"type": "assign_agent", "agent": supervisor.pk}])
    api_channel.default_team = teams["Support"]
    api_channel.save()
    conversation = ingest(api_channel, inbound("s1")).conversation
    record = sla.refresh(conversation)
    assert record.first_response_due == conversation.created_at + timedelta(minutes=60)
    state = sla.state(record, conversation)
    assert state["first_response"]["status"] == "ok"
    assert runner.check_due(now=conversation.created_at + timedelta(minutes=50)) == {"warnings": 1, "breaches": 0}
    assert runner.check_due(now=conversation.created_at + timedelta(minutes=61)) == {"warnings": 0, "breaches": 1}
    assert runner.check_due(now=conversation.created_at + timedelta(minutes=90)) == {"warnings": 0, "breaches": 0}
    conversation.refresh_from_db()
    assert conversation.priority == 4 and conversation.assignee == supervisor
    assert conversation.events.filter(kind="sla_breached").count() == 1
    assert conversation.events.filter(kind="sla_warning").count() == 1
    assert Rule.objects.get(name="Escalate breaches").fire_count == 1
    assert ConversationSLA.objects.get(conversation=conversation).first_response_breached


@pytest.mark.django_db
def test_most_specific_policy_wins(teams, api_channel):
    SLAPolicy.objects.create(name="Any", first_response_minutes=600)
    SLAPolicy.objects.create(name="Urgent Support", team=teams["Support"], priority=4, first_response_minutes=30)
    conversation = ingest(api_channel, inbound("s2")).conversation
    assert sla.policy_for(conversation).name == "Any"
    conversation.team, conversation.priority = teams["Support"], 4
    assert sla.policy_for(conversation).name == "Urgent Support"
    assert timezone.now()
