"""Two-factor sign-in with TOTP (RFC 6238): authenticator apps, recovery codes, and who must use it.

An agent enrols on their profile: Resonanz makes a secret, shows it as a QR code rendered here (segno,
no remote service) and as text, and switches two-factor sign-in on once the agent typed one code from
the app; ten one-time recovery codes are shown then, once. Signing in then asks for a code after the
password (the login page, the API's token endpoint). Wrong codes count as failed sign-ins for
django-axes, so the same per-account and per-address lockout applies. Administrators can require
two-factor sign-in for chosen roles (``SecurityPolicy``); an agent of such a role who has not enrolled
is sent to enrol before anything else. Every change is in the audit log.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import pyotp
import segno
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from resonanz.core import audit
from resonanz.core.crypto import decrypt_json, encrypt_json
from resonanz.core.errors import ActionError
from resonanz.core.models import RecoveryCode, SecurityPolicy, TwoFactorDevice
from resonanz.core.permissions import ROLES, role_of

ISSUER = "Resonanz"
RECOVERY_CODES = 10
STEP = 30


# ---- policy ----------------------------------------------------------------------------------------------

def policy() -> SecurityPolicy:
    return SecurityPolicy.objects.order_by("pk").first() or SecurityPolicy.objects.create()


@transaction.atomic
def set_required_roles(roles, *, actor) -> SecurityPolicy:
    """Require two-factor sign-in for these roles (a subset of agent, supervisor, admin)."""
    chosen = [r for r in ROLES if r in set(roles or ())]
    unknown = set(roles or ()) - set(ROLES)
    if unknown:
        raise ActionError(_("Unknown role: %(roles)s.") % {"roles": ", ".join(sorted(unknown))}, field="roles")
    current = policy()
    if current.two_factor_roles != chosen:
        before = current.two_factor_roles
        current.two_factor_roles = chosen
        current.save()
        audit.record("two_factor.policy", actor=actor, target_type="core.securitypolicy", target_label="two-factor",
                     before=before, after=chosen)
    return current


def required_for(user) -> bool:
    role = role_of(user)
    return role is not None and role in policy().two_factor_roles


# ---- devices ---------------------------------------------------------------------------------------------

def device(user) -> TwoFactorDevice | None:
    """The confirmed authenticator of ``user``, if two-factor sign-in is on for them."""
    if not getattr(user, "pk", None):
        return None
    return TwoFactorDevice.objects.filter(user=user, confirmed_at__isnull=False).first()


def enabled(user) -> bool:
    return device(user) is not None


def _secret(dev: TwoFactorDevice) -> str:
    return decrypt_json(dev.secret)["s"]


def pending_enrolment(user) -> TwoFactorDevice:
    """The unconfirmed device being set up (made on first call; kept so a reload shows the same QR code)."""
    dev = TwoFactorDevice.objects.filter(user=user).first()
    if dev is not None and dev.confirmed_at is not None:
        raise ActionError(_("Two-factor sign-in is already on. Switch it off first to use another app."))
    if dev is None:
        dev = TwoFactorDevice.objects.create(user=user, secret=encrypt_json({"s": pyotp.random_base32()}))
    return dev


def provisioning_uri(user, dev: TwoFactorDevice) -> str:
    return pyotp.TOTP(_secret(dev)).provisioning_uri(name=user.get_username(), issuer_name=ISSUER)


def secret_text(dev: TwoFactorDevice) -> str:
    """The secret in groups of four, for typing it into an app that cannot scan."""
    raw = _secret(dev)
    return " ".join(raw[i:i + 4] for i in range(0, len(raw), 4))


def qr_svg_data_uri(uri: str) -> str:
    """The QR code as an SVG data URI (the page's CSP allows data: images; no script, no remote service)."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2, dark="#111", light="#fff")


def _matching_step(secret: str, code: str, after_step: int, now: float | None = None) -> int | None:
    """The time step whose code is ``code`` (this one or one either side: clocks drift), later than
    ``after_step`` so a code is accepted once."""
    totp = pyotp.TOTP(secret)
    now = time.time() if now is None else now
    current = int(now // STEP)
    for step in (current, current - 1, current + 1):
        if step > after_step and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _clean(code: str) -> str:
    return "".join(ch for ch in str(code or "") if ch.isascii() and ch.isalnum()).lower()[:32]


def _hash(code: str) -> str:
    return hashlib.sha256(_clean(code).encode()).hexdigest()


def _new_recovery_codes(user) -> list[str]:
    RecoveryCode.objects.filter(user=user).delete()
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _n in range(RECOVERY_CODES)]
    RecoveryCode.objects.bulk_create([RecoveryCode(user=user, code_hash=_hash(c)) for c in codes])
    return codes


@transaction.atomic
def confirm_enrolment(user, code: str) -> list[str]:
    """Switch two-factor sign-in on with the first code from the app; returns the recovery codes (shown once)."""
    dev = TwoFactorDevice.objects.select_for_update().filter(user=user, confirmed_at__isnull=True).first()
    if dev is None:
        raise ActionError(_("Start the set-up again: no authenticator is waiting for confirmation."))
    step = _matching_step(_secret(dev), _clean(code), 0)
    if step is None:
        raise ActionError(_("That code is not right. Type the 6 digits your app shows now."), field="code")
    dev.confirmed_at, dev.last_step = timezone.now(), step
    dev.save(update_fields=["confirmed_at", "last_step"])
    audit.record("two_factor.enable", actor=user, target_type="auth.user", target_id=user.pk,
                 target_label=user.get_username())
    return _new_recovery_codes(user)


@transaction.atomic
def regenerate_recovery_codes(user) -> list[str]:
    if not enabled(user):
        raise ActionError(_("Switch two-factor sign-in on first."))
    audit.record("two_factor.recovery_codes", actor=user, target_type="auth.user", target_id=user.pk,
                 target_label=user.get_username())
    return _new_recovery_codes(user)


@transaction.atomic
def disable(user, *, actor) -> None:
    """Switch two-factor sign-in off (the agent themself, or an administrator for an agent who lost the phone)."""
    had = TwoFactorDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()
    TwoFactorDevice.objects.filter(user=user).delete()
    RecoveryCode.objects.filter(user=user).delete()
    if had:
        audit.record("two_factor.disable", actor=actor, target_type="auth.user", target_id=user.pk,
                     target_label=user.get_username())


def remaining_recovery_codes(user) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


@transaction.atomic
def verify(user, code: str) -> str | None:
    """Check a sign-in code: "totp" or "recovery" when it is right (a recovery code is used up), else None."""
    cleaned = _clean(code)
    if not cleaned:
        return None
    dev = TwoFactorDevice.objects.select_for_update().filter(user=user, confirmed_at__isnull=False).first()
    if dev is None:
        return None
    if cleaned.isdigit() and len(cleaned) == 6:
        step = _matching_step(_secret(dev), cleaned, dev.last_step)
        if step is not None:
            TwoFactorDevice.objects.filter(pk=dev.pk).update(last_step=step)
            return "totp"
        return None
    used = RecoveryCode.objects.filter(user=user, code_hash=_hash(cleaned), used_at__isnull=True).update(
        used_at=timezone.now())
    if used:
        audit.record("two_factor.recovery_used", actor=user, target_type="auth.user", target_id=user.pk,
                     target_label=user.get_username(), remaining=remaining_recovery_codes(user))
        return "recovery"
    return None


def code_failed(request, username: str) -> None:
    """A wrong code counts as a failed sign-in for the name the password was given for: django-axes locks the
    account and the address as for wrong passwords."""
    user_login_failed.send(sender=__name__, credentials={"username": username}, request=request)


def locked(request, username: str) -> bool:
    from axes.handlers.proxy import AxesProxyHandler

    return not AxesProxyHandler.is_allowed(request, {"username": username})
