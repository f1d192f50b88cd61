"""The getting-started guide of a new installation: connect the first channel, invite the team, try the demo."""

from __future__ import annotations

from django.contrib import messages as flash
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from resonanz.core.permissions import permission_required
from resonanz.inbox import firstrun

admin_required = permission_required("settings.manage")


@admin_required
def start(request):
    state = firstrun.progress()
    loading = request.session.get("demo_loading") and state["demo"] < state["demo_size"]
    if not loading:
        request.session.pop("demo_loading", None)
    return render(request, "inbox/start.html", {"state": state, "demo_loading": loading,
                                                "done": sum([state["channels"] > 0, state["colleagues"] > 0,
                                                             state["demo"] > 0])})


@admin_required
@require_POST
def demo(request):
    """Load the demo data set in the background (or remove it again)."""
    if request.POST.get("action") == "remove":
        firstrun.start(firstrun.remove_demo_data)
        request.session.pop("demo_loading", None)
        flash.success(request, _("The demo data is being removed; your own data stays."))
    elif firstrun.progress()["demo"]:
        flash.info(request, _("The demo data is loaded already."))
    else:
        request.session["demo_loading"] = True
        firstrun.start(firstrun.load_demo_data)
        flash.success(request, _("The demo data is loading: conversations appear in the inbox within a few minutes."))
    return redirect("inbox:start")


@admin_required
@require_POST
def hide(request):
    request.session["start_hidden"] = True
    return redirect("inbox:index")
