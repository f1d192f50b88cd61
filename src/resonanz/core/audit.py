"""The audit log: one call per destructive or security-relevant action, inside the action's transaction.

Actions call ``record(...)``; the request's address and id come from the request being served
(set by ``AuditContextMiddleware``), so actions need no request argument. Entries are never
edited or deleted by the application.
"""

from __future__ import annotations

from contextvars import ContextVar

from django.conf import settings

from resonanz.core import requestid
from resonanz.core.models import AuditEntry

_address: ContextVar[str] = ContextVar("resonanz_audit_address", default="")


def client_address(request) -> str:
    """The client's address: the connecting address, or behind ``RESONANZ_PROXY_COUNT`` proxies of our own
    (``RESONANZ_BEHIND_PROXY``) the address the outermost one saw, which it appended to X-Forwarded-For.
    Entries further left are whatever the client claimed and are never trusted. The audit log, the sign-in
    lockout (``AXES_CLIENT_IP_CALLABLE``) and the rate limits all count this address."""
    remote = request.META.get("REMOTE_ADDR") or ""
    if getattr(settings, "RESONANZ_BEHIND_PROXY", False):
        count = max(1, int(getattr(settings, "RESONANZ_PROXY_COUNT", 1)))
        chain = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(chain) >= count:
            remote = chain[-count]
    return remote[:45]


class AuditContextMiddleware:
    """Remembers the client address of the request being served, for entries written while serving it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _address.set(client_address(request))
        try:
            return self.get_response(request)
        finally:
            _address.reset(token)


def _label(user) -> str:
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    return (getattr(user, "email", "") or getattr(user, "username", "") or str(user.pk))[:254]


def record(action: str, *, actor=None, target=None, target_type: str = "", target_id="", target_label: str = "",
           actor_label: str = "", ip_address: str = "", **detail):
    """Write one entry. ``target`` (a model instance) fills type, id and label unless they are given."""
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target_id or str(target.pk)
        target_label = target_label or str(target)
    user = actor if getattr(actor, "is_authenticated", False) else None
    rid = requestid.current()
    return AuditEntry.objects.create(
        actor=user, actor_label=actor_label or _label(actor), action=action, target_type=target_type,
        target_id=str(target_id or ""), target_label=str(target_label or "")[:300], detail=detail,
        ip_address=ip_address or _address.get(), request_id="" if rid == "-" else rid,
    )
