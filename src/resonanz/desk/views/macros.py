"""Canned replies (macros), bulk changes and saved views of the inbox: pages and the small JSON endpoint the
conversation's macro picker calls. All changes go through resonanz.inbox.actions."""

from __future__ import annotations

from django.contrib import messages as flash
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from resonanz.core.errors import ActionError
from resonanz.core.params import is_id
from resonanz.core.permissions import permission_required
from resonanz.desk.forms.inbox import BulkForm, MacroForm
from resonanz.inbox import actions
from resonanz.inbox.macros import PLACEHOLDERS
from resonanz.inbox.models import Conversation, SavedView

User = get_user_model()


@login_required
def macros(request, pk: int | None = None):
    """The agent's macros and the shared ones; a form to add or change one."""
    macro = get_object_or_404(actions.macros_for(request.user), pk=pk) if pk else None
    initial = {}
    if macro:
        initial = {"name": macro.name, "text": macro.text, "shared": macro.owner_id is None, "status": macro.status,
                   "tags": ", ".join(macro.tags), "team": macro.team}
    form = MacroForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            actions.save_macro(macro, request.user, name=d["name"], text=d["text"], shared=d["shared"],
                               status=d["status"], tags=[t for t in d["tags"].split(",") if t.strip()],
                               team=d["team"])
            flash.success(request, _("Macro saved."))
            return redirect("inbox:macros")
        except ActionError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
    return render(request, "inbox/macros.html", {
        "form": form, "macro": macro, "macros": actions.macros_for(request.user),
        "placeholders": PLACEHOLDERS, "can_share": actions._can_keep_shared(request.user),
    })


@login_required
@require_POST
def macro_delete(request, pk: int):
    macro = get_object_or_404(actions.macros_for(request.user), pk=pk)
    try:
        actions.delete_macro(macro, request.user)
        flash.success(request, _("Macro deleted."))
    except PermissionDenied as exc:
        flash.error(request, str(exc))
    return redirect("inbox:macros")


@login_required
@require_POST
def apply_macro(request, pk: int):
    """The macro picker: applies status, tags and team and answers the filled-in text (JSON), or without
    JavaScript sends the agent back to the conversation with the text in the reply box."""
    conversation = get_object_or_404(Conversation, pk=pk)
    macro_id = request.POST.get("macro")
    if not is_id(macro_id):
        return JsonResponse({"macro": ["Choose a macro."]}, status=400)
    macro = get_object_or_404(actions.macros_for(request.user), pk=int(macro_id))
    try:
        text = actions.apply_macro(conversation, macro, request.user)
    except ActionError as exc:
        if request.headers.get("Accept") == "application/json":
            return JsonResponse(exc.as_dict(), status=400)
        flash.error(request, exc.message)
        return redirect("inbox:conversation", pk=pk)
    if request.headers.get("Accept") == "application/json":
        return JsonResponse({"text": text, "macro": macro.pk})
    request.session[f"draft-{pk}"] = text
    return redirect("inbox:conversation", pk=pk)


@permission_required("conversations.bulk")
@require_POST
def bulk(request):
    """Selected inbox rows: one change for all of them (status, team, assignee, a tag)."""
    form = BulkForm(request.POST)
    back = request.POST.get("next") or reverse("inbox:index")
    if not back.startswith("/") or back.startswith("//"):
        back = reverse("inbox:index")
    if not form.is_valid():
        flash.error(request, _("Select at least one conversation."))
        return redirect(back)
    d = form.cleaned_data
    assignee = ()
    if d["assignee"] == "me":
        assignee = request.user
    elif d["assignee"] == "none":
        assignee = None
    elif is_id(d["assignee"]):
        assignee = get_object_or_404(User, pk=int(d["assignee"]), is_active=True, agent__isnull=False)
    try:
        n = actions.bulk_update(d["conversations"], request.user, status=d["status"] or None,
                                team=d["team"] if d["team"] else "unchanged", assignee=assignee,
                                add_tags=[d["tag"]] if d["tag"].strip() else None)
        flash.success(request, _("%(n)d conversations changed.") % {"n": n})
    except ActionError as exc:
        flash.error(request, exc.message)
    return redirect(back)


@login_required
@require_POST
def save_view(request):
    """The inbox filters of the page the agent is on, kept under a name (shared if a supervisor says so)."""
    params = {k: request.POST.get(k, "") for k in SavedView.PARAMS}
    try:
        view = actions.save_view(None, request.user, name=request.POST.get("name", ""), params=params,
                                 shared=request.POST.get("shared") == "1")
        flash.success(request, _("View “%(name)s” saved.") % {"name": view.name})
        return redirect(f"{reverse('inbox:index')}?{urlencode(view.params)}")
    except ActionError as exc:
        flash.error(request, exc.message)
    except PermissionDenied as exc:
        flash.error(request, str(exc))
    return redirect(f"{reverse('inbox:index')}?{urlencode({k: v for k, v in params.items() if v})}")


@login_required
@require_POST
def delete_view(request, pk: int):
    view = get_object_or_404(actions.views_for(request.user), pk=pk)
    try:
        actions.delete_view(view, request.user)
        flash.success(request, _("View deleted."))
    except PermissionDenied as exc:
        flash.error(request, str(exc))
    return redirect("inbox:index")
