"""Every change supervisors make to automation goes through a function here: rules, SLA policies, business
calendars, guidelines and approval requirements. Each validates, writes in one transaction and returns
the object; the desk pages and the API only call these.

Running rules lives in ``runner.py``, what each action kind does in ``effects/``.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from resonanz.automation import sla
from resonanz.automation.models import (
    ApprovalRequirement,
    BusinessCalendar,
    Guidelines,
    Rule,
    SLAPolicy,
)
from resonanz.automation.rules import validate
from resonanz.core.errors import ActionError
from resonanz.inbox.models import Conversation

User = get_user_model()

# --- rules ----------------------------------------------------------------------------------------------------


def save_rule(rule: Rule | None, actor, *, name: str, trigger: str, conditions, actions, description: str = "",
              enabled: bool = True, stop_processing: bool = False, position: int | None = None) -> Rule:
    data = validate(name=name, trigger=trigger, conditions=conditions, actions=actions)
    is_new = rule is None
    rule = rule or Rule(created_by=actor)
    for key, value in data.items():
        setattr(rule, key, value)
    rule.description = description or ""
    rule.stop_processing = bool(stop_processing)
    if enabled and not rule.enabled:
        rule.disabled_at, rule.last_error = None, ""
    rule.enabled = bool(enabled)
    if position is not None:
        rule.position = int(position)
    elif is_new:
        rule.position = (Rule.objects.aggregate(m=Max("position"))["m"] or 0) + 10
    rule.save()
    return rule


def set_enabled(rule: Rule, enabled: bool) -> Rule:
    if enabled:  # a rule switched off by a failure is checked again before it runs
        validate(name=rule.name, trigger=rule.trigger, conditions=rule.conditions, actions=rule.actions)
        rule.disabled_at, rule.last_error = None, ""
    rule.enabled = enabled
    rule.save()
    return rule


def move(rule: Rule, direction: int) -> None:
    """Swap with the neighbour above (-1) or below (+1); positions are renumbered 10, 20, …"""
    rules = list(Rule.objects.order_by("position", "id"))
    i = next(i for i, r in enumerate(rules) if r.pk == rule.pk)
    j = i + direction
    if 0 <= j < len(rules):
        rules[i], rules[j] = rules[j], rules[i]
    with transaction.atomic():
        for n, r in enumerate(rules, start=1):
            if r.position != n * 10:
                Rule.objects.filter(pk=r.pk).update(position=n * 10, updated_at=timezone.now())


def delete_rule(rule: Rule) -> None:
    rule.delete()


# --- SLA policies and business calendars ---------------------------------------------------------------------


def save_sla_policy(policy: SLAPolicy | None, *, name: str, team=None, priority: int | None = None, channel=None,
                    calendar: BusinessCalendar | None = None, first_response_minutes: int | None = None,
                    resolution_minutes: int | None = None, warn_before_minutes: int = 30,
                    enabled: bool = True) -> SLAPolicy:
    """Targets in business minutes for conversations of a team, priority and channel (empty = any).

    Conversations already running keep their due times until their team or priority changes.
    """
    name = _name(name, SLAPolicy, "An SLA policy needs a name.")
    if priority is not None and priority not in Conversation.Priority.values:
        raise ActionError("Priority must be 1 (low) to 4 (urgent), or empty for any.", "priority")
    minutes = {"first_response_minutes": first_response_minutes, "resolution_minutes": resolution_minutes,
               "warn_before_minutes": warn_before_minutes}
    for field, value in minutes.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise ActionError("Give the minutes as a whole number, 0 or more.", field)
    if warn_before_minutes is None:
        raise ActionError("Give the minutes as a whole number, 0 or more.", "warn_before_minutes")
    policy = policy or SLAPolicy()
    policy.name, policy.team, policy.priority, policy.channel = name, team, priority, channel
    policy.calendar, policy.enabled = calendar, bool(enabled)
    for field, value in minutes.items():
        setattr(policy, field, value)
    with transaction.atomic():
        policy.save()
    return policy


def delete_sla_policy(policy: SLAPolicy) -> None:
    """Conversations it applied to keep their due times; new ones get the next most specific policy."""
    with transaction.atomic():
        policy.delete()


def save_calendar(calendar: BusinessCalendar | None, *, name: str, hours: str | dict,
                  holidays: str | list = "", tz: str = "", team=None) -> BusinessCalendar:
    """Opening hours as the form's text ("mon-fri 09:00-17:00") or as stored ({"0": [["09:00", "17:00"]]});
    holidays as text (one date a line) or a list of ISO dates. Both are stored in one canonical form."""
    name = _name(name, BusinessCalendar, "A calendar needs a name.")
    tz = (tz or "").strip()
    if tz:
        try:
            ZoneInfo(tz)
        except Exception:
            raise ActionError(f"Unknown time zone {tz!r}.", "timezone") from None
    if isinstance(hours, dict):
        try:
            hours = sla.format_hours(hours)
        except (AttributeError, IndexError, KeyError, TypeError, ValueError):
            raise ActionError("Opening hours are weekdays 0–6 with [start, end] times, e.g. "
                              "{\"0\": [[\"09:00\", \"17:00\"]]}.", "hours") from None
    parsed = sla.parse_hours(hours if isinstance(hours, str) else "")
    if not parsed:
        raise ActionError("Give opening hours, e.g. “mon-fri 09:00-17:00”.", "hours")
    if isinstance(holidays, list | tuple):
        holidays = "\n".join(str(d) for d in holidays)
    days_off = sla.parse_holidays(holidays if isinstance(holidays, str) else "")
    others = BusinessCalendar.objects.exclude(pk=calendar.pk if calendar else None)
    if others.filter(name=name).exists():
        raise ActionError(f"A calendar named “{name}” exists already.", "name", status=409)
    if team is not None and (taken := others.filter(team=team).first()):
        raise ActionError(f"The team {team} already has the calendar “{taken.name}”.", "team")
    calendar = calendar or BusinessCalendar()
    calendar.name, calendar.hours, calendar.timezone = name, parsed, tz
    calendar.holidays, calendar.team = days_off, team
    with transaction.atomic():
        calendar.save()
    return calendar


def delete_calendar(calendar: BusinessCalendar) -> None:
    """Policies on it count in the team's calendar, else around the clock, from their next refresh."""
    with transaction.atomic():
        calendar.delete()


def _name(value, model, missing: str) -> str:
    name = (value or "").strip()
    if not name:
        raise ActionError(missing, "name")
    limit = model._meta.get_field("name").max_length
    if len(name) > limit:
        raise ActionError(f"The name is longer than {limit} characters.", "name")
    return name


# --- guidelines and approval of replies ------------------------------------------------------------------------


def save_guidelines(team, *, advertising_words: str = "", forbidden_words: str = "", require_signature: bool = True,
                    check_language: bool = True) -> Guidelines:
    """The guidelines of one team, or without team those of all teams that have none of their own."""
    with transaction.atomic():
        guidelines = (Guidelines.objects.select_for_update().filter(team=team).first()
                      or Guidelines(team=team))
        guidelines.advertising_words, guidelines.forbidden_words = advertising_words or "", forbidden_words or ""
        guidelines.require_signature, guidelines.check_language = bool(require_signature), bool(check_language)
        guidelines.save()
    return guidelines


def set_approval_requirement(*, agent=None, channel=None, note: str = "") -> ApprovalRequirement:
    """Replies by this agent, or on this channel, wait for a supervisor; setting it again changes the note."""
    if (agent is None) == (channel is None):
        raise ActionError("Choose either an agent or a channel.")
    note = (note or "").strip()
    limit = ApprovalRequirement._meta.get_field("note").max_length
    if len(note) > limit:
        raise ActionError(f"The note is longer than {limit} characters.", "note")
    if agent is not None and getattr(agent, "agent", None) is None:
        raise ActionError(f"{agent} is not an agent.", "agent")
    with transaction.atomic():
        requirement, _created = ApprovalRequirement.objects.select_for_update().get_or_create(
            agent=agent, channel=channel, defaults={"note": note})
        if requirement.note != note:
            requirement.note = note
            requirement.save(update_fields=["note"])
    return requirement


def remove_approval_requirement(requirement: ApprovalRequirement) -> None:
    """Replies that wait already stay in the queue; new ones are sent directly."""
    with transaction.atomic():
        requirement.delete()
