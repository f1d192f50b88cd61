"""What every public community page shares: who is visiting, in which language, and the page frame.

A customer is signed in by the session key ``community_member`` (set by a one-time login link); an agent
logged in to the desk takes part as themselves, with the staff badge. The language is the one the visitor
chose (session), else the member's setting, else the browser's.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation

from resonanz.community import actions
from resonanz.community.models import Member
from resonanz.core import backpressure
from resonanz.core.errors import ActionError
from resonanz.core.permissions import role_of
from resonanz.core.ratelimit import rate_limited as core_rate_limited

SESSION_KEY = "community_member"
LANG_KEY = "community_lang"
LANGS = ("de", "en")


def current_member(request) -> Member | None:
    if not hasattr(request, "_community_member"):
        member = None
        pk = request.session.get(SESSION_KEY)
        if pk:
            member = Member.objects.filter(pk=pk, is_deleted=False).first()
        if member is None and role_of(getattr(request, "user", None)):
            member = actions.staff_member(request.user)
        request._community_member = member
    return request._community_member


def language_of(request) -> str:
    chosen = request.session.get(LANG_KEY)
    if chosen in LANGS:
        return chosen
    member = current_member(request)
    if member and member.language in LANGS:
        return member.language
    lang = (translation.get_language_from_request(request) or "").split("-")[0]
    return lang if lang in LANGS else "en"


def page(request, template: str, context: dict, status: int = 200):
    lang = language_of(request)
    member = current_member(request)
    context = {"member": member, "lang": lang, "other_lang": "en" if lang == "de" else "de",
               "can_moderate": actions.can_moderate(member),
               "may_review": actions.can_moderate(member, "moderate_new_posts"), **context}
    with translation.override(lang):
        return render(request, template, context, status=status)


def member_required(view):
    """A page for members: visitors go to the login page and come back afterwards."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if current_member(request) is None:
            return redirect(reverse("community:login") + "?next=" + request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapper


def act(request, fn, *args, back: str, **kwargs):
    """Run an action for a form post: its error becomes a message on the page, never a 500."""
    with translation.override(language_of(request)):
        try:
            return fn(*args, **kwargs)
        except ActionError as exc:
            messages.error(request, translation.gettext(exc.message))
            return None


def int_or_400(value) -> int | HttpResponseBadRequest:
    try:
        return int(value)
    except (TypeError, ValueError):
        return HttpResponseBadRequest("bad id")


def safe_next(value: str | None, default: str) -> str:
    value = value or ""
    return value if value.startswith("/") and not value.startswith("//") else default


def rate_limited(view):
    """Posts and votes from one address: ``community_writes`` in RESONANZ_RATE_LIMITS, counted in the database
    so every web process and host shares the count (core/ratelimit.py); reading is never limited. While the
    pipeline is far behind, writes wait (503, core/backpressure.py): new posts are screened by the same worker.
    Agents signed in to the desk are never held back."""
    shed = backpressure.shed("public")(view)

    @wraps(view)
    def gate(request, *args, **kwargs):
        return (view if request.user.is_authenticated else shed)(request, *args, **kwargs)

    return core_rate_limited("community_writes")(gate)
