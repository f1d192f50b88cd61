"""Hardened sign-in: what a lockout answers and who hears about it.

django-axes counts failed sign-ins per account and per address (settings: ``AXES_*``) on every
path that calls ``authenticate`` — the login page, the API's token endpoint, the Django admin. Once
locked, those paths answer 429 with the time to wait: JSON for API clients, a page for people. Every
lockout is a warning in the log and an entry in the audit log, which administrators read under
Settings → Security, where they can also lift it.
"""

from __future__ import annotations

import logging

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from resonanz.core import audit
from resonanz.core.errors import ActionError

log = logging.getLogger("resonanz.security")


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' check, for sign-ins that come with a request.

    Sign-ins without one (``manage.py`` commands, the test client's ``login``) cannot be repeated from the
    network, so they are not counted; axes would refuse them outright.
    """

    def authenticate(self, request=None, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def _minutes(request) -> int:
    cool_off = get_cool_off(request)
    return max(1, round(cool_off.total_seconds() / 60)) if cool_off else 0


def lockout_response(request, original_response=None, credentials=None):
    """429 for a locked account or address: JSON under /api/, a page elsewhere."""
    minutes = _minutes(request)
    detail = (_("Too many failed sign-ins. Try again in %(minutes)s minutes or ask an administrator.")
              % {"minutes": minutes} if minutes else
              _("Too many failed sign-ins. Ask an administrator to unlock the account."))
    wants_json = request.path.startswith("/api/") or "json" in request.META.get("HTTP_ACCEPT", "")
    if wants_json:
        response = JsonResponse({"detail": detail, "retry_after_minutes": minutes}, status=429)
    else:
        response = render(request, "registration/locked_out.html", {"detail": detail}, status=429)
    if minutes:
        response["Retry-After"] = str(minutes * 60)
    return response


def _record_lockout(sender, request=None, username=None, ip_address=None, **kwargs):
    username = username or (get_client_username(request) if request is not None else "") or ""
    log.warning("sign-in locked out after repeated failures: user=%r address=%s", username, ip_address)
    audit.record("signin.lockout", actor_label=username, target_type="auth.user", target_label=username,
                 ip_address=ip_address or "", path=getattr(request, "path", ""))


def connect() -> None:
    user_locked_out.connect(_record_lockout, dispatch_uid="resonanz-lockout-audit")


def lockouts():
    """Accounts and addresses locked right now (failures at the limit within the cool-off), newest first."""
    limit = settings.AXES_FAILURE_LIMIT
    qs = AccessAttempt.objects.filter(failures_since_start__gte=limit).order_by("-attempt_time")
    hours = settings.AXES_COOLOFF_TIME
    if hours:
        qs = qs.filter(attempt_time__gte=timezone.now() - timezone.timedelta(hours=float(hours)))
    return qs


@transaction.atomic
def unlock(attempt_id: int, *, actor) -> AccessAttempt:
    """Lift one lockout (an administrator vouches for the account or address); audit-logged."""
    attempt = AccessAttempt.objects.filter(pk=attempt_id).first()
    if attempt is None:
        raise ActionError("This lockout has ended already.", status=404)
    attempt.delete()
    audit.record("signin.unlock", actor=actor, target_type="auth.user", target_label=attempt.username or "",
                 unlocked_address=attempt.ip_address or "")
    log.info("sign-in lockout lifted by %s: user=%r address=%s", actor, attempt.username, attempt.ip_address)
    return attempt
