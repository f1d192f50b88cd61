"""The default rule set routes real messages through the real pipeline (seed model, inline)."""

from __future__ import annotations

import re

import pytest

from resonanz.automation.models import Rule, RuleRun
from resonanz.inbox.models import Conversation, Message

pytestmark = pytest.mark.django_db


def test_legal_threat_goes_to_legal_with_reason_and_no_bot_answer(model_dir, defaults, api_channel, run_pipeline):
    result = run_pipeline(api_channel, "m1", "This clearly violates consumer law, I will sue. My lawyer will be "
                                              "in touch.")
    conversation = Conversation.objects.get(pk=result.conversation.pk)
    assert conversation.team == defaults["Legal"]
    assert conversation.priority == 3
    assert {"legal", "bot-handover"} <= set(conversation.tags.values_list("name", flat=True))
    assert not Message.objects.filter(conversation=conversation, direction="outbound").exists()
    run = RuleRun.objects.get(conversation=conversation)
    assert run.rule.name == "Legal threats to Legal"
    assert run.reason.startswith("routed to Legal")
    assert re.search(r"intent legal threat, confidence [01]\.\d\d", run.reason), run.reason
    event = conversation.events.get(kind="rule_applied")
    assert "confidence" in event.reason and event.data["rule_name"] == "Legal threats to Legal"
    assert Rule.objects.get(name="Legal threats to Legal").fire_count == 1
    # the "team changed" event carries the same reason
    assert "intent legal threat" in conversation.events.get(kind="team_changed").reason


def test_purchase_interest_goes_to_sales_and_else_to_support(model_dir, defaults, api_channel, run_pipeline):
    sales = run_pipeline(api_channel, "m1", "We're a team of 20 looking for a solution, can you send a quote?",
                         "buyer@example.com")
    other = run_pipeline(api_channel, "m2", "Hello, my parcel has not arrived yet, where is it?", "x@example.com")
    assert Conversation.objects.get(pk=sales.conversation.pk).team == defaults["Sales"]
    assert Conversation.objects.get(pk=other.conversation.pk).team == defaults["Support"]
    assert RuleRun.objects.filter(rule__name="Everything else to Support").count() == 1


def test_rules_act_once_per_event_even_when_the_pipeline_runs_again(model_dir, defaults, api_channel,
                                                                     run_pipeline):
    from resonanz.automation.runner import run_for_message

    result = run_pipeline(api_channel, "m1", "See you in court.")
    message = Message.objects.select_related("conversation", "channel", "author_contact").get(pk=result.message.pk)
    assert run_for_message(message, is_new=True) == []  # a retried event never acts twice
    assert RuleRun.objects.filter(conversation=result.conversation).count() == 1
    assert Rule.objects.get(name="Legal threats to Legal").fire_count == 1


def test_follow_up_legal_threat_in_existing_conversation_is_rerouted(model_dir, defaults, api_channel,
                                                                      run_pipeline):
    first = run_pipeline(api_channel, "m1", "Hello, my parcel has not arrived yet, where is it?")
    assert Conversation.objects.get(pk=first.conversation.pk).team == defaults["Support"]
    run_pipeline(api_channel, "m2", "If I don't hear back by tomorrow, my lawyer will get involved.")
    assert Conversation.objects.get(pk=first.conversation.pk).team == defaults["Legal"]
