"""The launch monitor, where a team's early warnings go (alert channels), and the in-app notifications."""

from __future__ import annotations

from datetime import date

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from resonanz.core.errors import ActionError
from resonanz.core.params import is_id
from resonanz.core.permissions import permission_required
from resonanz.desk.charts import bars, stacked_columns
from resonanz.desk.forms.insights import AlertChannelForm
from resonanz.insights import actions, launch
from resonanz.insights.models import AlertChannel, ListeningQuery, Notification

manage_required = permission_required("insights.manage")


def _names() -> dict[str, str]:
    return {"negative": _("negative"), "neutral": _("neutral"), "positive": _("positive")}


def _start(value: str, query: ListeningQuery | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else (query.launch_at if query else None)
    except ValueError:
        return query.launch_at if query else None


@login_required
@require_GET
def launch_page(request):
    """For a product or campaign query and a start date: the window after it against the same length before."""
    queries = launch.candidates()
    param = request.GET.get("query", "")
    query = ListeningQuery.objects.filter(pk=int(param)).first() if is_id(param) else None
    if query is None:
        query = next((q for q in queries if q.launch_at), None)
    days = int(request.GET["days"]) if request.GET.get("days", "").isdigit() else 14
    days = days if days in launch.WINDOWS else 14
    start = _start(request.GET.get("start", ""), query)
    error = None
    if query is not None and start is None:
        error = _("Give a start date (or set the query's launch date).")
    elif start is not None and start > timezone.localdate():
        error, start = _("The start date lies in the future; the monitor shows what has happened."), None
    data, volume_chart, compare_chart = None, None, None
    if query is not None and start is not None:
        data = launch.report(launch.Launch(query, start, days))
        names = _names()
        buckets = [r["day"] for r in data["series"]]
        volume_chart = stacked_columns(_("Mentions per day, before and after the start"), buckets,
                                       {k: [r[k] for r in data["series"]] for k in names}, names)
        compare_chart = bars(_("Before and after"), [
            (_("before"), {k: data["before"][k] for k in names}),
            (_("after"), {k: data["after"][k] for k in names})], names)
    return render(request, "insights/launch.html", {
        "queries": queries, "query": query, "days": days, "windows": launch.WINDOWS, "start": start,
        "error": error, "data": data, "volume_chart": volume_chart, "compare_chart": compare_chart})


@manage_required
def alert_channels(request):
    """Where early warnings go, per team: in the desk, by email, to a signed webhook."""
    if request.method == "POST":
        form = AlertChannelForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            try:
                channel = actions.save_alert_channel(team=d["team"], kind=d["kind"], url=d["url"],
                                                     only_query=d["only_query"])
                flash.success(request, _("Alert channel saved."))
                if channel.kind == AlertChannel.Kind.WEBHOOK:
                    request.session["new_webhook_secret"] = [channel.pk, channel.secret]
                return redirect("insights:alert_channels")
            except ActionError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    else:
        form = AlertChannelForm()
    shown = request.session.pop("new_webhook_secret", None)
    return render(request, "insights/alert_channels.html", {
        "form": form, "channels": AlertChannel.objects.select_related("team", "only_query"),
        "new_secret": shown}, status=400 if form.errors else 200)


@manage_required
@require_POST
def alert_channel_delete(request, pk: int):
    actions.delete_alert_channel(get_object_or_404(AlertChannel, pk=pk))
    flash.success(request, _("Alert channel removed."))
    return redirect("insights:alert_channels")


@login_required
def notifications(request):
    """The signed-in person's notifications; opening the page marks them read."""
    if request.method == "POST":
        actions.mark_notifications_read(request.user)
        return redirect("insights:notifications")
    items = list(Notification.objects.filter(user=request.user).select_related("alert")[:50])
    unread = [n.pk for n in items if n.read_at is None]
    response = render(request, "insights/notifications.html", {"items": items, "unread_ids": set(unread)})
    if unread:
        actions.mark_notifications_read(request.user, unread)
    return response
