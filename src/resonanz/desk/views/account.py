"""The agent's own account: signing in with a second factor, setting it up, personal API tokens."""

from __future__ import annotations

import time
from datetime import datetime
from datetime import time as dtime

from django.contrib import messages as flash
from django.contrib.auth import get_user_model, login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from resonanz.core import ratelimit, signin, tokens, twofactor
from resonanz.core.crypto import decrypt_json, encrypt_json
from resonanz.core.errors import ActionError
from resonanz.core.models import ApiToken

PENDING = "resonanz_2fa_pending"
NEW_KEY = "resonanz_new_api_key"
#: how long the code step waits after the password was right
PENDING_SECONDS = 300


class LoginView(auth_views.LoginView):
    """Password first; an agent with two-factor sign-in on is asked for a code before the session starts."""

    def form_valid(self, form):
        user = form.get_user()
        if not twofactor.enabled(user):
            return super().form_valid(form)
        self.request.session.cycle_key()
        self.request.session[PENDING] = {
            "uid": user.pk, "backend": user.backend, "username": form.cleaned_data.get("username", ""),
            "at": time.time(), "next": self.get_success_url(),
        }
        return redirect("login_code")


def login_code(request):
    """The second step: a code from the authenticator app or a recovery code. Wrong codes count as failed
    sign-ins (lockout per account and address), and the step is rate-limited per address."""
    pending = request.session.get(PENDING)
    if not pending or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        request.session.pop(PENDING, None)
        if request.method == "POST":
            flash.error(request, _("The sign-in took too long. Please enter your password again."))
        return redirect("login")
    user = get_user_model().objects.filter(pk=pending["uid"], is_active=True).first()
    if user is None:
        return redirect("login")
    error = ""
    if request.method == "POST":
        try:
            ratelimit.check(request, "login_code")
        except ratelimit.RateLimited as exc:
            return ratelimit.refusal(request, exc, as_json=False)
        if twofactor.locked(request, pending["username"]):
            return signin.lockout_response(request)
        used = twofactor.verify(user, request.POST.get("code", ""))
        if used:
            request.session.pop(PENDING, None)
            login(request, user, backend=pending["backend"])
            language = getattr(getattr(user, "agent", None), "language", "")
            if language:  # the notice below speaks the agent's language, as every page after sign-in does
                translation.activate(language)
            if used == "recovery":
                left = twofactor.remaining_recovery_codes(user)
                flash.warning(request, _("You signed in with a recovery code; %(n)s are left. Make new ones on "
                                         "your profile if you are running out.") % {"n": left})
            target = pending.get("next") or ""
            if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                   require_https=request.is_secure()):
                target = "/"
            return redirect(target)
        twofactor.code_failed(request, pending["username"])
        if twofactor.locked(request, pending["username"]):
            request.session.pop(PENDING, None)
            return signin.lockout_response(request)
        error = _("That code is not right. Type the 6 digits your app shows now, or a recovery code.")
    return render(request, "registration/login_code.html", {"error": error})


@login_required
def two_factor(request):
    """Set up, check and switch off two-factor sign-in for oneself."""
    user = request.user
    codes: list[str] = []
    if request.method == "POST":
        step = request.POST.get("step", "")
        try:
            if step == "confirm":
                codes = twofactor.confirm_enrolment(user, request.POST.get("code", ""))
                flash.success(request, _("Two-factor sign-in is on."))
            elif step == "codes":
                codes = twofactor.regenerate_recovery_codes(user)
                flash.success(request, _("New recovery codes made; the old ones no longer work."))
            elif step == "disable":
                if twofactor.required_for(user):
                    raise ActionError(_("Your administrator requires two-factor sign-in for your role."))
                twofactor.disable(user, actor=user)
                flash.success(request, _("Two-factor sign-in is off."))
                return redirect("inbox:two_factor")
        except ActionError as exc:
            flash.error(request, exc.message)
        if not codes:
            return redirect("inbox:two_factor")
    context = {"enabled": twofactor.enabled(user), "required": twofactor.required_for(user), "codes": codes,
               "remaining": twofactor.remaining_recovery_codes(user)}
    if not context["enabled"]:
        dev = twofactor.pending_enrolment(user)
        uri = twofactor.provisioning_uri(user, dev)
        context.update(qr=twofactor.qr_svg_data_uri(uri), secret=twofactor.secret_text(dev))
    return render(request, "inbox/two_factor.html", context)


def _expiry(value: str):
    """A date typed in the form: the token works until the end of that day (local time)."""
    if not value:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise ActionError(_("Enter the expiry date as YYYY-MM-DD."), field="expires") from None
    return timezone.make_aware(datetime.combine(day, dtime(23, 59, 59)))


@login_required
def api_tokens(request):
    """The agent's personal API tokens: make one (its key is shown once), see when each was last used, revoke."""
    if request.method == "POST":
        try:
            _token, key = tokens.create_token(
                request.user, name=request.POST.get("name", ""), scope=request.POST.get("scope", "read"),
                expires_at=_expiry(request.POST.get("expires", "").strip()))
            # shown by the next page once, then gone: reloading it cannot make a second token or show the key again
            # (encrypted with the instance key, so not even the session row holds it in plain text)
            request.session[NEW_KEY] = encrypt_json({"k": key})
        except ActionError as exc:
            flash.error(request, exc.message)
        return redirect("inbox:api_tokens")
    new_key = decrypt_json(request.session.pop(NEW_KEY, "")).get("k", "")
    rows = list(ApiToken.objects.filter(user=request.user).order_by("-id")[:200])
    for row in rows:
        row.state = tokens.state(row)
    return render(request, "inbox/api_tokens.html", {
        "tokens": rows, "new_key": new_key, "scopes": ApiToken.Scope.choices,
        "today": timezone.localdate().isoformat(),
    })


@login_required
@require_POST
def api_token_revoke(request, pk: int):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    tokens.revoke_token(token, actor=request.user)
    flash.success(request, _("The token “%(name)s” was revoked.") % {"name": token.name})
    return redirect("inbox:api_tokens")
