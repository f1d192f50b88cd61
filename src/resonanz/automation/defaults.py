"""The rule set, guidelines and office hours a new install starts with (``resonanz setup``)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_noop

from resonanz.automation.actions import save_rule
from resonanz.automation.approval import DEFAULT_ADVERTISING
from resonanz.automation.models import AutomationState, BusinessCalendar, Guidelines, Rule, SLAPolicy
from resonanz.inbox.actions import ensure_default_teams
from resonanz.inbox.models import Team

REACH = 10_000  # followers that make a negative public post a matter for PR

# Every name and description written below, marked for translation: the stored text stays English (rules, the
# API and exports read it), and the desk shows a seeded text in the agent's language as long as nobody renamed it
# (desk/templatetags/labels.py ``seeded``).
SEEDED_TEXTS = [
    gettext_noop("Legal threats to Legal"),
    gettext_noop("Any message with a legal threat, also in an existing conversation. The bot stays out."),
    gettext_noop("Negative public posts with reach to PR"),
    gettext_noop("Negative posts by authors with at least 10000 followers, or on a rising topic."),
    gettext_noop("Negative public messages with reach to PR"),
    gettext_noop("Purchase interest to Sales"),
    gettext_noop("Suggestions and ideas to Marketing"),
    gettext_noop("Everything else to Support"),
    gettext_noop("New conversations no earlier rule and no channel default routed."),
    gettext_noop("Office hours"),
    gettext_noop("Default"),
]


def default_rules(teams: dict[str, Team]) -> list[dict]:
    negative_and_loud = {"all": [
        {"field": "analysis.sentiment", "op": "eq", "value": "negative"},
        {"any": [{"field": "contact.reach", "op": "gte", "value": REACH},
                 {"field": "topic.rising", "op": "is_true"}]},
    ]}
    return [
        {"name": "Legal threats to Legal", "trigger": "message_received", "stop_processing": True,
         "description": "Any message with a legal threat, also in an existing conversation. The bot stays out.",
         "conditions": {"all": [{"field": "analysis.intents", "op": "contains", "value": "legal_threat"}]},
         "actions": [{"type": "assign_team", "team": teams["Legal"].pk}, {"type": "set_priority", "priority": 3},
                     {"type": "add_tags", "tags": ["legal", "bot-handover"]}]},
        {"name": "Negative public posts with reach to PR", "trigger": "post_received", "stop_processing": True,
         "description": f"Negative posts by authors with at least {REACH} followers, or on a rising topic.",
         "conditions": negative_and_loud,
         "actions": [{"type": "create_conversation"}, {"type": "assign_team", "team": teams["PR"].pk},
                     {"type": "set_priority", "priority": 3}]},
        {"name": "Negative public messages with reach to PR", "trigger": "conversation_created",
         "stop_processing": True,
         "conditions": {"all": [{"field": "message.is_public", "op": "is_true"}, *negative_and_loud["all"]]},
         "actions": [{"type": "assign_team", "team": teams["PR"].pk}, {"type": "set_priority", "priority": 3}]},
        {"name": "Purchase interest to Sales", "trigger": "conversation_created", "stop_processing": True,
         "conditions": {"all": [{"field": "analysis.intents", "op": "contains", "value": "purchase_interest"}]},
         "actions": [{"type": "assign_team", "team": teams["Sales"].pk}]},
        {"name": "Suggestions and ideas to Marketing", "trigger": "conversation_created", "stop_processing": True,
         "conditions": {"all": [{"field": "analysis.intents", "op": "contains", "value": "suggestion"}]},
         "actions": [{"type": "assign_team", "team": teams["Marketing"].pk}]},
        {"name": "Everything else to Support", "trigger": "conversation_created",
         "description": "New conversations no earlier rule and no channel default routed.",
         "conditions": {"all": [{"field": "conversation.team", "op": "empty"}]},
         "actions": [{"type": "assign_team", "team": teams["Support"].pk}]},
    ]


@transaction.atomic
def ensure_defaults() -> int:
    """Create the default rules once per install (a supervisor who deletes them keeps them deleted)."""
    ensure_default_teams()
    state, fresh = AutomationState.objects.get_or_create(key="defaults_created")
    if not fresh and state.value:
        return 0
    teams = {t.name: t for t in Team.objects.all()}
    created = 0
    if not Rule.objects.exists():
        for position, spec in enumerate(default_rules(teams), start=1):
            rule = save_rule(None, None, position=position * 10, **spec)
            Rule.objects.filter(pk=rule.pk).update(is_default=True)
            created += 1
    if not Guidelines.objects.exists():
        Guidelines.objects.create(advertising_words="\n".join(DEFAULT_ADVERTISING))
    if not BusinessCalendar.objects.exists():
        calendar = BusinessCalendar.objects.create(name="Office hours")
        if not SLAPolicy.objects.exists():
            SLAPolicy.objects.create(name="Default", calendar=calendar, first_response_minutes=4 * 60,
                                     resolution_minutes=5 * 8 * 60, warn_before_minutes=60)
    state.value = "1"
    state.save()
    return created
