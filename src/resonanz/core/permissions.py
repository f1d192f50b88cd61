"""Roles and what each may do: the one table the agent UI, the API and the domain checks share.

A user's role comes from their agent profile (``user.agent.role``); a Django superuser counts as an
administrator. Roles are ordered: an administrator may do everything a supervisor may, a supervisor
everything an agent may. ``PERMISSIONS`` names every guarded capability with the lowest role that has it,
so the matrix in docs/operations.md ("Who may do what") and the checks cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission

AGENT, SUPERVISOR, ADMIN = "agent", "supervisor", "admin"
ROLES = (AGENT, SUPERVISOR, ADMIN)
_RANK = {role: n for n, role in enumerate(ROLES)}

#: capability -> the lowest role that has it
PERMISSIONS: dict[str, str] = {
    "conversations.work": AGENT,        # read, reply, note, assign, set status of conversations
    "conversations.all_teams": SUPERVISOR,  # see every team's conversations when agents are team-restricted
    "conversations.bulk": SUPERVISOR,   # one change on many selected conversations at once (audit-logged)
    "contacts.edit": AGENT,             # create and edit contacts, identities and organizations
    "contacts.delete": SUPERVISOR,      # delete or merge contacts, delete organizations (audit-logged)
    "data.export": SUPERVISOR,          # exports of knowledge and contact data (audit-logged)
    "knowledge.read": AGENT,
    "knowledge.edit": SUPERVISOR,       # write, publish and import articles and categories
    "rules.edit": SUPERVISOR,           # routing rules, SLA policies, calendars, guidelines
    "replies.approve": SUPERVISOR,      # approve or return held replies
    "insights.manage": SUPERVISOR,      # listening queries, goals, acknowledging alerts
    "community.moderate": AGENT,        # approve, remove, lock, move, merge posts; tags; reports; link ideas;
                                        # members' points and the rights of their level
    "ideas.manage": SUPERVISOR,         # idea statuses with a public note, merging ideas, making moderators
    "settings.manage": ADMIN,           # agents, teams, channels, the product catalog
    "audit.read": ADMIN,                # the audit log and sign-in lockouts
}

_DENIED = {
    SUPERVISOR: _("Only supervisors and administrators can do this."),
    ADMIN: _("Only administrators can do this."),
}


def role_of(user) -> str | None:
    """The user's role, or None for anonymous users and accounts without an agent profile."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    if getattr(user, "is_superuser", False):
        return ADMIN
    agent = getattr(user, "agent", None)
    return getattr(agent, "role", None) if agent is not None else None


def has_role(user, role: str) -> bool:
    """At least ``role``."""
    mine = role_of(user)
    return mine is not None and _RANK.get(mine, -1) >= _RANK[role]


def can(user, permission: str) -> bool:
    return has_role(user, PERMISSIONS[permission])


def is_admin(user) -> bool:
    return has_role(user, ADMIN)


def is_supervisor(user) -> bool:
    return has_role(user, SUPERVISOR)


def denied_message(permission: str) -> str:
    return str(_DENIED.get(PERMISSIONS[permission], _("You are not allowed to do this.")))


def permission_required(permission: str) -> Callable:
    """View decorator: log in first, then 403 with a sentence saying who may do it."""

    def decorate(view):
        @wraps(view)
        @login_required
        def wrapper(request, *args, **kwargs):
            if not can(request.user, permission):
                raise PermissionDenied(denied_message(permission))
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def team_restricted(user) -> bool:
    """Whether ``user`` sees only their own teams' conversations.

    Only when the company switches it on (``RESONANZ_AGENTS_SEE_OWN_TEAMS_ONLY``); supervisors and
    administrators always see every team.
    """
    return bool(getattr(settings, "RESONANZ_AGENTS_SEE_OWN_TEAMS_ONLY", False)) and not can(
        user, "conversations.all_teams")


class Needs(BasePermission):
    """DRF: any request needs ``permission`` (reading included). Use ``Needs.of("audit.read")``."""

    permission = "settings.manage"

    @classmethod
    def of(cls, permission: str) -> type[Needs]:
        if permission not in PERMISSIONS:
            raise KeyError(permission)
        return type(f"Needs_{permission.replace('.', '_')}", (cls,), {"permission": permission})

    def has_permission(self, request, view) -> bool:
        if role_of(request.user) is None:
            return False
        self.message = denied_message(self.permission)
        return can(request.user, self.permission)


class WritesNeed(BasePermission):
    """DRF: every agent may read; writing needs ``permission``. Use ``WritesNeed.of("rules.edit")``."""

    permission = "settings.manage"

    @classmethod
    def of(cls, permission: str) -> type[WritesNeed]:
        if permission not in PERMISSIONS:
            raise KeyError(permission)
        return type(f"WritesNeed_{permission.replace('.', '_')}", (cls,), {"permission": permission})

    def has_permission(self, request, view) -> bool:
        if role_of(request.user) is None:
            return False
        if request.method in SAFE_METHODS:
            return True
        self.message = denied_message(self.permission)
        return can(request.user, self.permission)
