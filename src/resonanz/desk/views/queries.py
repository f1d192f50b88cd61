"""The listening-query editor: list, create and change queries with a 30-day preview before saving."""

from __future__ import annotations

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from resonanz.core.errors import ActionError
from resonanz.core.permissions import can, permission_required
from resonanz.desk.charts import stacked_columns
from resonanz.desk.forms.insights import ListeningQueryForm
from resonanz.insights import actions
from resonanz.insights.actions import QueryError
from resonanz.insights.models import ListeningQuery

manage_required = permission_required("insights.manage")


@login_required
def query_list(request):
    return render(request, "insights/queries.html", {
        "queries": ListeningQuery.objects.order_by("tag", "name"), "can_manage": can(request.user, "insights.manage"),
        "counts": actions.mention_counts(),
    })


def _scope(data: dict) -> dict:
    return dict(languages=data["languages"], channel_kinds=data["channel_kinds"],
                channels=[c.pk for c in data["channels"]], include_messages=data["include_messages"])


def _preview_chart(result: dict):
    days = list(result["per_day"])
    if not days:
        return None
    return stacked_columns(_("Matches per day"), days, {"matches": list(result["per_day"].values())},
                           {"matches": _("matches")}, height=160)


@manage_required
def query_edit(request, pk: int | None = None):
    query = get_object_or_404(ListeningQuery, pk=pk) if pk else None
    preview = error_position = None
    if request.method == "POST":
        form = ListeningQueryForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            try:
                if "preview" in request.POST:
                    preview = actions.preview(expression=d["expression"], **_scope(d))
                else:
                    saved = actions.save_query(query, request.user, name=d["name"], expression=d["expression"],
                                               tag=d["tag"], enabled=d["enabled"], launch_at=d["launch_at"],
                                               **_scope(d))
                    flash.success(request, _("Query “%(name)s” saved; its mentions are being matched.")
                                  % {"name": saved.name})
                    return redirect("listening:queries")
            except QueryError as exc:
                error_position = exc.position
                form.add_error("expression", _("%(message)s Position %(pos)s.")
                               % {"message": exc.message.split(" (at character")[0], "pos": exc.position + 1})
            except ActionError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    else:
        initial = {"enabled": True, "tag": "brand"}
        if query:
            initial = {"name": query.name, "expression": query.expression, "tag": query.tag,
                       "languages": query.languages, "channel_kinds": query.channel_kinds,
                       "channels": list(query.channels.all()), "include_messages": query.include_messages,
                       "launch_at": query.launch_at, "enabled": query.enabled}
        form = ListeningQueryForm(initial=initial)
    expression = form.data.get("expression", "") if form.is_bound else ""
    return render(request, "insights/query_edit.html", {
        "form": form, "query": query, "preview": preview, "preview_chart": _preview_chart(preview) if preview else None,
        "error_position": error_position,
        "error_before": expression[:error_position] if error_position is not None else "",
        "error_at": expression[error_position:error_position + 1] if error_position is not None else "",
        "error_after": expression[error_position + 1:] if error_position is not None else "",
    })


@manage_required
@require_POST
def query_delete(request, pk: int):
    query = get_object_or_404(ListeningQuery, pk=pk)
    actions.delete_query(query)
    flash.success(request, _("Query “%(name)s” deleted.") % {"name": query.name})
    return redirect("listening:queries")
