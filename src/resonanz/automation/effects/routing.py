"""Routing: to a team, to an agent, or to an available agent of the team (fewest open or round robin)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from resonanz.automation.effects import Act, Effect, Param, as_int, register
from resonanz.automation.models import AutomationState
from resonanz.core.errors import ActionError
from resonanz.inbox import actions as inbox
from resonanz.inbox.models import Conversation, Team

User = get_user_model()
STRATEGIES = ("round_robin", "least_open")


@register
class AssignTeam(Effect):
    kind, label, order = "assign_team", _("route to a team"), 10
    params = (Param("team", _("team")), Param("strategy", _("assignment"), optional=True))

    def clean(self, action: dict, trigger: str) -> dict:
        team = Team.objects.filter(pk=as_int(action.get("team"))).first()
        if team is None:
            raise ActionError(f"The team {action.get('team')!r} does not exist (any more).", "actions")
        if not team.is_active:
            raise ActionError(f"The team {team} is inactive.", "actions")
        out = {"team": team.pk}
        if action.get("strategy") in STRATEGIES:
            out["strategy"] = action["strategy"]
        return out

    def perform(self, action: dict, act: Act) -> list[str]:
        team = Team.objects.get(pk=action["team"])
        if not team.is_active:
            raise ActionError(f"The team {team} is inactive.")
        inbox.update_conversation(act.conversation, None, team=team, reason=act.reason)
        act.snapshot["conversation.team"] = team.pk
        done = [f"routed to {team.name}"]
        if action.get("strategy"):
            done.append(assign_within(act, team, action["strategy"]))
        return done


@register
class AssignAgent(Effect):
    kind, label, order = "assign_agent", _("assign to an agent"), 20
    params = (Param("agent", _("agent")),)

    def clean(self, action: dict, trigger: str) -> dict:
        user = User.objects.filter(pk=as_int(action.get("agent")), is_active=True, agent__isnull=False).first()
        if user is None:
            raise ActionError(f"The agent {action.get('agent')!r} does not exist or is deactivated.", "actions")
        return {"agent": user.pk}

    def perform(self, action: dict, act: Act) -> list[str]:
        user = User.objects.get(pk=action["agent"])
        inbox.assign(act.conversation, user, None, reason=act.reason)
        act.snapshot["conversation.assignee"] = user.pk
        return [f"assigned to {getattr(getattr(user, 'agent', None), 'display_name', user.username)}"]


@register
class AssignInTeam(Effect):
    kind, label, order = "assign_in_team", _("assign within the team"), 30
    params = (Param("strategy", _("assignment")),)

    def clean(self, action: dict, trigger: str) -> dict:
        strategy = action.get("strategy") or "least_open"
        if strategy not in STRATEGIES:
            raise ActionError("Assignment within a team is round_robin or least_open.", "actions")
        return {"strategy": strategy}

    def perform(self, action: dict, act: Act) -> list[str]:
        conversation = act.conversation
        conversation.refresh_from_db(fields=["team"])
        if conversation.team_id is None:
            return ["no team to assign within"]
        return [assign_within(act, conversation.team, action["strategy"])]


def assign_within(act: Act, team: Team, strategy: str) -> str:
    user = pick_agent(team, strategy)
    if user is None:
        return f"nobody in {team.name} available"
    inbox.assign(act.conversation, user, None, reason=act.reason)
    act.snapshot["conversation.assignee"] = user.pk
    return f"assigned to {user.agent.display_name} ({strategy.replace('_', ' ')})"


def pick_agent(team: Team, strategy: str = "least_open"):
    """An available agent of the team below their maximum load: fewest open conversations, or round robin."""
    candidates = list(User.objects.filter(is_active=True, agent__teams=team, agent__is_available=True,
                                          agent__is_bot=False).select_related("agent").order_by("id").distinct())
    if not candidates:
        return None
    load = dict(Conversation.objects.filter(assignee__in=candidates, status__in=Conversation.OPEN_STATUSES)
                .values_list("assignee").annotate(n=Count("id")).values_list("assignee", "n"))
    free = [u for u in candidates if load.get(u.pk, 0) < u.agent.max_load]
    if not free:
        return None
    if strategy == "round_robin":
        with transaction.atomic():
            state, _created = AutomationState.objects.select_for_update().get_or_create(
                key=f"round_robin:{team.pk}")
            last = int(state.value or 0)
            chosen = next((u for u in free if u.pk > last), free[0])
            state.value = str(chosen.pk)
            state.save(update_fields=["value"])
        return chosen
    return min(free, key=lambda u: (load.get(u.pk, 0), u.pk))
