"""Administration in the product UI: agents, teams and channels."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib import messages as flash
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from resonanz.connectors import actions as channel_actions
from resonanz.connectors.models import Channel
from resonanz.core import signin, tokens, twofactor
from resonanz.core.accounts import set_password_link
from resonanz.core.crypto import mask
from resonanz.core.errors import ActionError
from resonanz.core.models import ApiToken, AuditEntry
from resonanz.core.params import as_int
from resonanz.core.permissions import can, denied_message, permission_required
from resonanz.desk.forms.catalog import CatalogEntryForm
from resonanz.desk.forms.channels import ChannelForm
from resonanz.desk.forms.chat import ChatWidgetForm
from resonanz.desk.forms.inbox import AgentForm, InviteForm, TeamForm
from resonanz.inbox import actions
from resonanz.inbox.models import AgentProfile, Team
from resonanz.understanding import actions as understanding
from resonanz.understanding.models import CatalogEntry

admin_required = permission_required("settings.manage")


@admin_required
def agents(request):
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            user = actions.invite_agent(d["email"], display_name=d["display_name"], role=d["role"],
                                        teams=list(d["teams"]), language=d["language"])
        except ActionError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            link = request.build_absolute_uri(set_password_link(user))
            flash.success(request, _("%(email)s is invited. Send them this one-time link to set a password: %(link)s")
                          % {"email": user.email, "link": link})
            return redirect("inbox:admin_agents")
    profiles = AgentProfile.objects.select_related("user").prefetch_related("teams").filter(is_bot=False)
    return render(request, "admin/agents.html", {"form": form, "profiles": profiles})


@admin_required
def agent_edit(request, pk: int):
    profile = get_object_or_404(AgentProfile, pk=pk)
    if request.method == "POST" and request.POST.get("form") == "two_factor_reset":
        # An agent who lost their phone and their recovery codes: they set it up again at the next sign-in.
        twofactor.disable(profile.user, actor=request.user)
        flash.success(request, _("Two-factor sign-in was reset for this agent."))
        return redirect("inbox:admin_agent", pk=profile.pk)
    if request.method == "POST" and request.POST.get("form") == "revoke_token":
        # an agent who left a key in a script that leaked, or is away: administrators revoke their tokens
        token = get_object_or_404(ApiToken, pk=as_int(request.POST.get("token"), minimum=1) or 0, user=profile.user)
        tokens.revoke_token(token, actor=request.user)
        flash.success(request, _("The token “%(name)s” was revoked.") % {"name": token.name})
        return redirect("inbox:admin_agent", pk=profile.pk)
    form = AgentForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        data = {k: form.cleaned_data[k] for k in form.fields if k != "teams"}
        actions.update_agent(profile, teams=list(form.cleaned_data["teams"]), **data)
        flash.success(request, _("Agent saved."))
        return redirect("inbox:admin_agents")
    return render(request, "admin/agent_edit.html", {
        "form": form, "profile": profile, "two_factor_on": twofactor.enabled(profile.user),
        "active_tokens": list(tokens.active_tokens(profile.user).order_by("-id")[:100])})


@admin_required
@require_POST
def agent_active(request, pk: int):
    profile = get_object_or_404(AgentProfile, pk=pk)
    if profile.user == request.user:
        flash.error(request, _("You cannot deactivate yourself."))
    else:
        active = request.POST.get("active") == "1"
        actions.set_agent_active(profile, active, request.user)
        flash.success(request, _("Agent activated.") if active else _("Agent deactivated."))
    return redirect("inbox:admin_agents")


@admin_required
def teams(request):
    form = TeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.create_team(form.cleaned_data["name"], description=form.cleaned_data["description"],
                                email=form.cleaned_data["email"])
            flash.success(request, _("Team created."))
            return redirect("inbox:admin_teams")
        except ActionError as exc:
            form.add_error("name", exc.message)
    return render(request, "admin/teams.html", {"form": form, "teams": Team.objects.all()})


@admin_required
def team_edit(request, pk: int):
    team = get_object_or_404(Team, pk=pk)
    form = TeamForm(request.POST or None, instance=Team.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_team(team, **form.cleaned_data)
            flash.success(request, _("Team saved."))
            return redirect("inbox:admin_teams")
        except ActionError as exc:
            form.add_error("name", exc.message)
    return render(request, "admin/team_edit.html", {"form": form, "team": team})


@admin_required
def channels(request):
    form = ChannelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            channel = channel_actions.create_channel(**form.channel_fields())
            flash.success(request, _("Channel created."))
            return redirect("inbox:admin_channel", pk=channel.pk)
        except ActionError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    return render(request, "admin/channels.html", {"form": form, "channels": Channel.objects.all()})


@admin_required
def channel_detail(request, pk: int):
    channel = get_object_or_404(Channel, pk=pk)
    form = ChannelForm(request.POST or None, instance_channel=channel)
    if request.method == "POST" and form.is_valid():
        fields = form.channel_fields()
        fields.pop("kind", None)
        try:
            channel_actions.update_channel(channel, **fields)
            flash.success(request, _("Channel saved."))
            return redirect("inbox:admin_channel", pk=pk)
        except ActionError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    last_day = channel.messages.filter(created_at__gte=timezone.now() - timedelta(hours=24)).count()
    try:
        secrets = {k: mask(str(v)) for k, v in channel.credentials.items()}
    except Exception as exc:
        secrets = {"error": str(exc)}
    sources = [s for s in channel.sources.all() if s.key not in ("account", channel_actions.CHECK_KEY)]
    account_state = channel.sources.filter(key="account").first()
    status = (account_state.cursor or {}) if account_state else {}
    return render(request, "admin/channel.html", {
        "channel": channel, "form": form, "last_day": last_day, "secrets": secrets,
        "addresses": channel.driver.addresses(), "account": channel.driver.connected_account(), "sources": sources,
        "rate": status.get("rate") or {}, "backoff_until": _moment(status.get("backoff_until")),
        "rejected": channel_actions.rejected_requests(channel), "check": _check_view(channel),
        "chat_form": ChatWidgetForm(channel=channel) if channel.kind == "chat" else None})


def _check_view(channel) -> dict:
    check = channel_actions.last_check(channel)
    if check.get("ok") is not None:
        check["text"] = (_("Connection works: %s") if check["ok"] else _("Connection failed: %s")) % check["detail"]
        check["at"] = _moment(check.get("at"))
    return check


@admin_required
def channel_chat(request, pk: int):
    """The chat widget's settings of a chat channel, as a form instead of JSON."""
    channel = get_object_or_404(Channel, pk=pk, kind="chat")
    form = ChatWidgetForm(request.POST or None, channel=channel)
    if request.method == "POST" and form.is_valid():
        try:
            channel_actions.update_channel(channel, settings=form.settings())
            flash.success(request, _("Chat settings saved."))
            return redirect("inbox:admin_channel", pk=pk)
        except ActionError as exc:
            form.add_error(None, exc.message)
    return render(request, "admin/channel_chat.html", {"channel": channel, "chat_form": form})


def _moment(value):
    """An ISO time kept in a source's cursor, as a datetime for the template (None if there is none)."""
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


@admin_required
@require_POST
def channel_secret(request, pk: int):
    channel = get_object_or_404(Channel, pk=pk)
    try:
        secret = channel_actions.new_webhook_secret(channel)
    except ActionError as exc:
        flash.error(request, exc.message)
    else:
        flash.warning(request, _("New signing secret (shown only now; the old one stops working): %(secret)s")
                      % {"secret": secret})
    return redirect("inbox:admin_channel", pk=pk)


@admin_required
@require_POST
def channel_check(request, pk: int):
    channel = get_object_or_404(Channel, pk=pk)
    channel_actions.request_check(channel)  # the worker connects, not this request
    return redirect(reverse("inbox:admin_channel", kwargs={"pk": pk}) + "#health")


@admin_required
def catalog(request):
    """Products, brands, competitors and our company: what the text understanding looks for."""
    form = CatalogEntryForm(request.POST or None)
    if request.method == "POST" and request.POST.get("delete"):
        entry = get_object_or_404(CatalogEntry, pk=request.POST["delete"])
        understanding.delete_catalog_entry(entry)
        flash.success(request, _("Removed from the catalog."))
        return redirect("inbox:admin_catalog")
    if request.method == "POST" and form.is_valid():
        try:
            understanding.save_catalog_entry(**form.cleaned_data)
            flash.success(request, _("Added to the catalog."))
            return redirect("inbox:admin_catalog")
        except ActionError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    return render(request, "admin/catalog.html", {"form": form, "entries": CatalogEntry.objects.all()})


@permission_required("audit.read")
def security(request):
    """The audit log (who deleted, merged, exported, was locked out), the current sign-in lockouts, and which
    roles must use two-factor sign-in."""
    if request.method == "POST" and request.POST.get("form") == "two_factor":
        if not can(request.user, "settings.manage"):
            raise PermissionDenied(denied_message("settings.manage"))
        try:
            twofactor.set_required_roles(request.POST.getlist("roles"), actor=request.user)
            flash.success(request, _("The two-factor rule was saved."))
        except ActionError as exc:
            flash.error(request, exc.message)
        return redirect("inbox:admin_security")
    if request.method == "POST":
        try:
            signin.unlock(as_int(request.POST.get("attempt"), minimum=1) or 0, actor=request.user)
            flash.success(request, _("The lockout was lifted."))
        except ActionError as exc:
            flash.error(request, exc.message)
        return redirect("inbox:admin_security")
    entries = AuditEntry.objects.select_related("actor")
    action = request.GET.get("action") or ""
    if action:
        entries = entries.filter(action=action)
    page = Paginator(entries, 100).get_page(request.GET.get("page"))
    actions_seen = AuditEntry.objects.order_by("action").values_list("action", flat=True).distinct()
    return render(request, "admin/security.html", {
        "page": page, "action": action, "actions_seen": list(actions_seen), "lockouts": signin.lockouts()[:200],
        "two_factor_roles": twofactor.policy().two_factor_roles,
        "role_choices": [(r, label) for r, label in AgentProfile.Role.choices],
    })
