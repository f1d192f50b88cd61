"""Personal API tokens: made by their owner, shown once, stored as a hash, named, scoped, revocable, expiring.

A request with ``Authorization: Token <key>`` (or ``Bearer <key>``) acts as the token's owner, so the
owner's role and team restrictions apply unchanged; a read-only token is refused for every method that
writes. Keys of the old mechanism (``rest_framework.authtoken``, stored in plain text) were hashed into
personal tokens by migration core 0002; one still found in that table (made by ``drf_create_token``, say)
is hashed the first time it is used, so old clients keep working and no plain key stays behind.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import SAFE_METHODS

from resonanz.core import audit, fastsql
from resonanz.core.errors import ActionError
from resonanz.core.models import ApiToken

KEY_PREFIX = "rz_"
#: how often last-used is written at most (a busy integration must not write on every request)
LAST_USED_EVERY = timedelta(minutes=1)


def hash_key(key: str) -> str:
    """Keys are 256 random bits, so a plain SHA-256 is enough: there is nothing to guess."""
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def create_token(user, *, name: str, scope: str = ApiToken.Scope.FULL, expires_at: datetime | None = None,
                 actor=None) -> tuple[ApiToken, str]:
    """Make a token for ``user``; returns the row and the key, which is never shown again."""
    name = (name or "").strip()
    if not name:
        raise ActionError(str(_("Give the token a name, so you know later what uses it.")), field="name")
    if scope not in ApiToken.Scope.values:
        raise ActionError(str(_("The scope must be “read” or “full”.")), field="scope")
    if expires_at is not None and expires_at <= timezone.now():
        raise ActionError(str(_("The expiry date must be in the future.")), field="expires_at")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name[:100], prefix=key[:9], key_hash=hash_key(key),
                                    scope=scope, expires_at=expires_at)
    audit.record("api_token.create", actor=actor or user, target=token, target_label=str(token),
                 owner=user.get_username(), scope=scope)
    return token, key


@transaction.atomic
def revoke_token(token: ApiToken, *, actor) -> ApiToken:
    """A revoked token is refused from the next request on; the row stays so the audit log can name it."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record("api_token.revoke", actor=actor, target=token, target_label=str(token),
                     owner=token.user.get_username())
    return token


def active_tokens(user):
    now = timezone.now()
    return (ApiToken.objects.filter(user=user, revoked_at__isnull=True)
            .exclude(expires_at__lte=now))


def state(token: ApiToken) -> str:
    if token.revoked_at:
        return "revoked"
    if token.expires_at and token.expires_at <= timezone.now():
        return "expired"
    return "active"


def _legacy(key: str) -> ApiToken | None:
    """A key still in the old plain-text table: hash it into a personal token now and delete the plain row."""
    from rest_framework.authtoken.models import Token

    with transaction.atomic():
        old = Token.objects.select_for_update().filter(key=key).first()
        if old is None:  # a concurrent request with the same key may have just hashed it: look once more
            return ApiToken.objects.select_related("user").filter(key_hash=hash_key(key)).first()
        token, _created = ApiToken.objects.get_or_create(
            key_hash=hash_key(key), defaults={"user_id": old.user_id, "name": "API token (before personal tokens)",
                                              "prefix": key[:6], "scope": ApiToken.Scope.FULL})
        old.delete()
    return token


def find(key: str) -> ApiToken | None:
    """The usable token for ``key``, or None (unknown, revoked, expired, or its owner deactivated)."""
    if not key or len(key) > 200:
        return None
    # two precompiled look-ups, not an ORM query: every API request asks, and compiling that query cost more
    # than running it (bench/ingest_api.py)
    token = fastsql.get(ApiToken, "key_hash", hash_key(key))
    if token is not None:
        user = fastsql.get(get_user_model(), "id", token.user_id)
        if user is None:
            return None
        token.user = user
    if token is None and not key.startswith(KEY_PREFIX):
        token = _legacy(key)
    if token is None or state(token) != "active" or not token.user.is_active:
        return None
    return token


def touch(token: ApiToken) -> None:
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


class ApiTokenAuthentication(BaseAuthentication):
    """DRF authentication for personal tokens (``Token <key>`` as before, or ``Bearer <key>``)."""

    keywords = (b"token", b"bearer")

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in self.keywords:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("Send the token as “Authorization: Token <key>”."))
        try:
            key = parts[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed(_("The token contains characters a token never has.")) from None
        token = find(key)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid, expired or revoked token."))
        if token.scope == ApiToken.Scope.READ and request.method not in SAFE_METHODS:
            raise exceptions.PermissionDenied(_("This token is read-only; make a token with full access to change data."))
        touch(token)
        return token.user, token

    def authenticate_header(self, request):
        return "Token"
