"""Signing in with a one-time link, profiles, and the visitor's language."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from resonanz.community import actions, avatars, rules
from resonanz.community.models import (
    Answer,
    Avatar,
    BadgeAward,
    Idea,
    Member,
    ModerationAction,
    Question,
    Visibility,
)
from resonanz.core.ratelimit import rate_limited as limited
from resonanz.portal.community.common import (
    LANG_KEY,
    LANGS,
    SESSION_KEY,
    act,
    current_member,
    language_of,
    member_required,
    page,
    rate_limited,
    safe_next,
)


class LoginForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("Your email address"), max_length=320)


@limited("community_login")
def login(request):
    next_url = safe_next(request.GET.get("next") or request.POST.get("next"), reverse("community:home"))
    sent = False
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        ok = act(request, actions.request_login_link, form.cleaned_data["email"], back="",
                 base_url=settings.RESONANZ_BASE_URL, language=language_of(request), next_url=next_url,
                 remote_addr=request.META.get("REMOTE_ADDR", ""))
        sent = ok is not None
    return page(request, "community/login.html", {"form": form, "sent": sent, "next": next_url})


@limited("community_login")
def redeem(request, token: str):
    """GET shows a button (mail scanners that open links must not spend them); POST logs in."""
    next_url = safe_next(request.GET.get("next") or request.POST.get("next"), reverse("community:home"))
    if request.method == "POST":
        member = act(request, actions.redeem_login_link, token, back="", language=language_of(request))
        if member is not None:
            request.session.cycle_key()
            request.session[SESSION_KEY] = member.pk
            return redirect(next_url)
        return redirect("community:login")
    return page(request, "community/redeem.html", {"token": token, "next": next_url})


@require_POST
def logout(request):
    request.session.pop(SESSION_KEY, None)
    return redirect("community:home")


def set_language(request, lang: str):
    if lang in LANGS:
        request.session[LANG_KEY] = lang
    return redirect(safe_next(request.GET.get("next"), reverse("community:home")))


def profile(request, pk: int):
    shown = get_object_or_404(Member, pk=pk, is_deleted=False)
    viewer = current_member(request)
    visible = Visibility.VISIBLE
    badges = [(rules.BADGES[b.badge], b.scope) for b in BadgeAward.objects.filter(member=shown)
              if b.badge in rules.BADGES]
    own = viewer is not None and viewer.pk == shown.pk
    return page(request, "community/profile.html", {
        "shown": shown, "own": own, "badges": badges, "level": rules.level_for(shown.reputation),
        "questions": Question.objects.filter(author=shown, visibility=visible).order_by("-created_at")[:20],
        "answers": Answer.objects.filter(author=shown, visibility=visible).select_related("question")
        .order_by("-created_at")[:20],
        "ideas": Idea.objects.filter(author=shown, visibility=visible).order_by("-created_at")[:20],
        # the author sees why a moderator acted on their posts; nobody else does
        "moderation": ModerationAction.objects.filter(author=shown)[:20] if own else [],
        "revoked": shown.reputation_events.filter(revoked_at__isnull=False)[:20] if own else [],
    })


class ProfileForm(forms.Form):
    display_name = forms.CharField(label=gettext_lazy("Display name"), max_length=80)
    about = forms.CharField(label=gettext_lazy("About you"), required=False, max_length=2000,
                            widget=forms.Textarea(attrs={"rows": 4}))
    language = forms.ChoiceField(label=gettext_lazy("Language"), required=False,
                                 choices=[("", gettext_lazy("Browser language")), ("de", "Deutsch"),
                                          ("en", "English")])
    keep_posts = forms.BooleanField(label=gettext_lazy(
        "If I delete my account, keep my posts as “deleted member”"), required=False)


@member_required
def edit_profile(request):
    member = current_member(request)
    form = ProfileForm(request.POST or None, initial={
        "display_name": member.display_name, "about": member.about, "language": member.language,
        "keep_posts": member.keep_posts_on_erasure})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        if act(request, actions.update_profile, member, back="", display_name=d["display_name"],
               about=d["about"], language=d["language"]) is not None:
            actions.set_keep_posts(member, d["keep_posts"])
            if d["language"]:
                request.session[LANG_KEY] = d["language"]
            messages.success(request, _("Your profile was saved."))
            return redirect("community:profile", pk=member.pk)
    return page(request, "community/profile_edit.html", {"form": form, "shown": member})


def avatar(request, pk: int, version: int):
    """A member's picture: bytes we encoded ourselves, cached for good (the version is in the address)."""
    row = Avatar.objects.filter(member_id=pk, member__is_deleted=False, member__avatar_version=version).first()
    if row is None:
        raise Http404
    response = HttpResponse(bytes(row.image), content_type="image/webp")
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    response["Content-Security-Policy"] = "default-src 'none'"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_POST
@rate_limited
@member_required
def upload_avatar(request):
    """Upload (checked, resized and re-encoded by ``avatars.normalise``) or remove the member's picture."""
    member = current_member(request)
    with translation.override(language_of(request)):
        if request.POST.get("remove"):
            actions.remove_avatar(member)
            messages.success(request, _("Your picture was removed."))
            return redirect("community:edit_profile")
        upload = request.FILES.get("avatar")
        if upload is None:
            messages.error(request, _("Choose a picture to upload."))
            return redirect("community:edit_profile")
        data = upload.read(avatars.MAX_BYTES + 1)
        if act(request, actions.set_avatar, member, data, back="") is not None:
            messages.success(request, _("Your picture was saved."))
    return redirect("community:edit_profile")
