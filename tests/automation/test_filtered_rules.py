"""A rule routes machine-generated mail that is real work (a monitoring system's incident) out of the
filtered view to a team, and leaves the rest filtered and unanswered."""

from __future__ import annotations

import pytest

from resonanz.automation.actions import save_rule
from resonanz.inbox.models import Conversation, Message

pytestmark = pytest.mark.django_db


def test_a_rule_routes_monitoring_notices_out_of_the_filtered_view(model_dir, defaults, api_channel, run_pipeline):
    save_rule(None, None, name="Incidents to Marketing's on-call", trigger="message_received",
              conditions={"all": [{"field": "message.filtered", "op": "eq", "value": "auto_generated"},
                                  {"field": "message.subject", "op": "contains", "value": "Incident"}]},
              actions=[{"type": "assign_team", "team": defaults["Marketing"].pk}, {"type": "move_to_inbox"},
                       {"type": "stop"}])
    noise = {"noise": {"kind": "auto_generated", "reason": "Auto-Submitted: auto-generated"}}
    incident = run_pipeline(api_channel, "a1", "Disk almost full on db-2", "alerts@monitoring.example",
                            subject="Incident: disk full", meta=noise)
    digest = run_pipeline(api_channel, "a2", "Your weekly digest", "digest@news.example",
                          subject="Weekly digest", meta=noise)
    incident_conv = Conversation.objects.get(pk=incident.conversation.pk)
    assert incident_conv.team == defaults["Marketing"] and incident_conv.filtered == ""
    assert "Incidents to Marketing" in incident_conv.events.get(kind="unfiltered").reason
    assert Conversation.objects.get(pk=digest.conversation.pk).filtered == "auto_generated"
    assert not Message.objects.filter(direction="outbound").exists()  # the bot answered neither
