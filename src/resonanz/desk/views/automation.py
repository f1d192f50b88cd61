"""Supervisors' pages: rules (form editor), SLAs and calendars, the approval queue, guidelines."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from resonanz.automation import actions, approval, effects, sla
from resonanz.automation.fields import FIELDS, LIST_VALUE, NO_VALUE, OPERATORS
from resonanz.automation.models import (
    ApprovalRequirement,
    BusinessCalendar,
    Guidelines,
    PendingReply,
    Rule,
    SLAPolicy,
)
from resonanz.connectors.models import Channel
from resonanz.core.errors import ActionError
from resonanz.core.params import as_int
from resonanz.core.permissions import permission_required
from resonanz.desk.forms.automation import CalendarForm, GuidelinesForm, RuleForm, SLAPolicyForm
from resonanz.inbox.models import Conversation, Team
from resonanz.knowledge.models import Article
from resonanz.understanding.models import INTENTS, SENTIMENTS

User = get_user_model()


supervisor_required = permission_required("rules.edit")


# --- rules ----------------------------------------------------------------------------------------------------


@supervisor_required
def rules(request):
    return render(request, "automation/rules.html", {
        "rules": Rule.objects.order_by("position", "id"), "triggers": dict(Rule.Trigger.choices),
        "pending_count": PendingReply.objects.filter(state="pending").count(),
    })


def editor_options() -> dict:
    """What the form editor offers: fields with their operators and choices, the action kinds with their
    parameters (from the effects registry), teams, agents, channels."""
    fields = []
    for f in FIELDS.values():
        fields.append({"name": f.name, "label": str(f.label), "kind": f.kind, "choices": list(f.choices),
                       "ref": f.ref, "dynamic": f.dynamic,
                       "ops": [op for op, (_label, kinds) in OPERATORS.items() if f.kind in kinds]})
    return {
        "fields": fields,
        "ops": {op: {"label": str(label), "novalue": op in NO_VALUE, "list": op in LIST_VALUE}
                for op, (label, _kinds) in OPERATORS.items()},
        "actions": {e.kind: str(e.label) for e in effects.effects()},
        "params": {e.kind: [{"name": p.name, "label": str(p.label), "optional": p.optional} for p in e.params]
                   for e in effects.effects()},
        "teams": [[t.pk, t.name] for t in Team.objects.filter(is_active=True)],
        "channels": [[c.pk, c.name] for c in Channel.objects.all()],
        "users": [[u.pk, u.agent.display_name] for u in User.objects.filter(
            is_active=True, agent__isnull=False, agent__is_bot=False).select_related("agent")],
        "articles": [[a.pk, f"{a.title} ({a.language})"] for a in Article.objects.filter(
            status="published", visibility="public").order_by("title")[:500]],
        "statuses": list(Conversation.Status.values),
        # words for the codes in choices and action values (intents, sentiments, statuses), and priorities
        "labels": {code: str(label) for code, label in
                   [*INTENTS, *SENTIMENTS, *Conversation.Status.choices]},
        "priorities": [[value, str(label)] for value, label in Conversation.Priority.choices],
    }


@supervisor_required
def rule_edit(request, pk: int | None = None):
    rule = get_object_or_404(Rule, pk=pk) if pk else None
    initial = {"name": rule.name, "description": rule.description, "trigger": rule.trigger,
               "enabled": rule.enabled, "stop_processing": rule.stop_processing,
               "conditions": rule.conditions, "actions": rule.actions} if rule else {
        "enabled": True, "conditions": {"all": []}, "actions": []}
    form = RuleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            rule = actions.save_rule(rule, request.user, name=d["name"], description=d["description"],
                                     trigger=d["trigger"], conditions=d["conditions"], actions=d["actions"],
                                     enabled=d["enabled"], stop_processing=d["stop_processing"])
        except ActionError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            flash.success(request, _("Rule saved."))
            return redirect("automation:rules")
    runs = rule.runs.select_related("conversation").order_by("-id")[:20] if rule else []
    return render(request, "automation/rule_edit.html", {"form": form, "rule": rule, "runs": runs,
                                                         "options": editor_options()})


@supervisor_required
@require_POST
def rule_toggle(request, pk: int):
    rule = get_object_or_404(Rule, pk=pk)
    try:
        actions.set_enabled(rule, not rule.enabled)
    except ActionError as exc:
        flash.error(request, _("The rule cannot be switched on: %s") % exc.message)
    return redirect("automation:rules")


@supervisor_required
@require_POST
def rule_move(request, pk: int):
    actions.move(get_object_or_404(Rule, pk=pk), -1 if request.POST.get("direction") == "up" else 1)
    return redirect("automation:rules")


@supervisor_required
@require_POST
def rule_delete(request, pk: int):
    actions.delete_rule(get_object_or_404(Rule, pk=pk))
    flash.success(request, _("Rule deleted."))
    return redirect("automation:rules")


# --- SLAs -----------------------------------------------------------------------------------------------------


@supervisor_required
def slas(request):
    policy_form = SLAPolicyForm(request.POST if request.POST.get("form") == "policy" else None)
    calendar_form = CalendarForm(request.POST if request.POST.get("form") == "calendar" else None,
                                 initial={"hours": "mon-fri 09:00-17:00"})
    if request.method == "POST":
        if request.POST.get("form") == "policy" and policy_form.is_valid():
            if _save_policy(None, policy_form):
                flash.success(request, _("SLA policy saved."))
                return redirect("automation:slas")
        if request.POST.get("form") == "calendar" and calendar_form.is_valid():
            d = calendar_form.cleaned_data
            try:
                actions.save_calendar(None, name=d["name"], hours=d["hours"], holidays=d["holidays"],
                                      tz=d["timezone"], team=d["team"])
            except ActionError as exc:
                calendar_form.add_error(exc.field if exc.field in calendar_form.fields else None, exc.message)
            else:
                flash.success(request, _("Calendar saved."))
                return redirect("automation:slas")
    calendars = [{"calendar": c, "hours": sla.format_hours(c.hours)} for c in BusinessCalendar.objects.all()]
    return render(request, "automation/slas.html", {
        "policies": SLAPolicy.objects.select_related("team", "channel", "calendar"), "calendars": calendars,
        "policy_form": policy_form, "calendar_form": calendar_form, "time_zone": settings.TIME_ZONE})


@supervisor_required
def policy_edit(request, pk: int):
    policy = get_object_or_404(SLAPolicy, pk=pk)
    form = SLAPolicyForm(request.POST or None, instance=policy)
    if request.method == "POST":
        if request.POST.get("delete"):
            actions.delete_sla_policy(policy)
            flash.success(request, _("SLA policy deleted."))
            return redirect("automation:slas")
        if form.is_valid() and _save_policy(policy, form):
            flash.success(request, _("SLA policy saved."))
            return redirect("automation:slas")
    return render(request, "automation/edit.html", {"form": form, "title": policy.name})


def _save_policy(policy: SLAPolicy | None, form: SLAPolicyForm) -> SLAPolicy | None:
    """Save through the action; a refusal becomes an error on the form's field."""
    try:
        return actions.save_sla_policy(policy, **form.cleaned_data)
    except ActionError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return None


@supervisor_required
def calendar_edit(request, pk: int):
    calendar = get_object_or_404(BusinessCalendar, pk=pk)
    form = CalendarForm(request.POST or None, initial={
        "name": calendar.name, "team": calendar.team, "timezone": calendar.timezone,
        "hours": sla.format_hours(calendar.hours), "holidays": "\n".join(calendar.holidays)})
    if request.method == "POST":
        if request.POST.get("delete"):
            actions.delete_calendar(calendar)
            flash.success(request, _("Calendar deleted."))
            return redirect("automation:slas")
        if form.is_valid():
            d = form.cleaned_data
            try:
                actions.save_calendar(calendar, name=d["name"], hours=d["hours"], holidays=d["holidays"],
                                      tz=d["timezone"], team=d["team"])
            except ActionError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                flash.success(request, _("Calendar saved."))
                return redirect("automation:slas")
    return render(request, "automation/edit.html", {"form": form, "title": calendar.name})


# --- approvals and guidelines -----------------------------------------------------------------------------------


@supervisor_required
def approvals(request):
    pending = (PendingReply.objects.filter(state=PendingReply.State.PENDING)
               .select_related("conversation__channel", "conversation__contact", "author__agent"))
    recent = (PendingReply.objects.exclude(state=PendingReply.State.PENDING)
              .select_related("conversation", "author__agent", "reviewer__agent").order_by("-reviewed_at")[:20])
    return render(request, "automation/approvals.html", {"pending": pending, "recent": recent})


@supervisor_required
@require_POST
def approval_decide(request, pk: int):
    pending = get_object_or_404(PendingReply, pk=pk)
    try:
        if request.POST.get("decision") == "return":
            approval.return_reply(pending, request.user, request.POST.get("note", ""))
            flash.success(request, _("The reply went back to its author."))
        else:
            approval.approve(pending, request.user, text=request.POST.get("text"))
            flash.success(request, _("Reply approved and sent."))
    except ActionError as exc:
        flash.error(request, exc.message)
    return redirect(request.POST.get("next") or "automation:approvals")


@supervisor_required
def guidelines(request):
    team = Team.objects.filter(pk=as_int(request.GET.get("team") or request.POST.get("team"), minimum=1) or 0).first()
    instance = Guidelines.objects.filter(team=team).first() or Guidelines(team=team)
    form = GuidelinesForm(request.POST if request.POST.get("form") == "guidelines" else None, instance=instance)
    if request.method == "POST":
        if request.POST.get("form") == "guidelines" and form.is_valid():
            actions.save_guidelines(team, **form.cleaned_data)
            flash.success(request, _("Guidelines saved."))
            return redirect(f"{request.path}?team={team.pk if team else ''}")
        if request.POST.get("form") == "requirement":
            agent = User.objects.filter(pk=request.POST.get("agent") or 0).first()
            channel = Channel.objects.filter(pk=request.POST.get("channel") or 0).first()
            try:
                actions.set_approval_requirement(agent=agent, channel=channel, note=request.POST.get("note", ""))
                flash.success(request, _("Approval requirement saved."))
            except ActionError as exc:
                flash.error(request, exc.message)
            return redirect("automation:guidelines")
        if request.POST.get("form") == "remove":
            requirement = ApprovalRequirement.objects.filter(pk=_int(request.POST.get("requirement"))).first()
            if requirement is not None:
                actions.remove_approval_requirement(requirement)
            return redirect("automation:guidelines")
    return render(request, "automation/guidelines.html", {
        "form": form, "team": team, "teams": Team.objects.filter(is_active=True),
        "requirements": ApprovalRequirement.objects.select_related("agent__agent", "channel"),
        "agents": User.objects.filter(is_active=True, agent__isnull=False, agent__is_bot=False,
                                      agent__role="agent").select_related("agent"),
        "channels": Channel.objects.all()})


@login_required
@require_POST
def check_reply(request, pk: int):
    """The reply form asks this before sending: guideline warnings and whether approval is needed."""
    conversation = get_object_or_404(Conversation.objects.select_related("channel", "team", "contact"), pk=pk)
    text = (request.POST.get("text") or "").strip()
    return JsonResponse({"warnings": approval.check_reply(conversation, request.user, text) if text else [],
                         "approval": approval.needs_approval(conversation, request.user)})


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
