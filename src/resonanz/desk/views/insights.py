"""The insights dashboard: volume and sentiment over time, intents, share of voice, driving terms, early
warnings, service KPIs and goals; every chart server-rendered SVG, each with its data as CSV."""

from __future__ import annotations

import csv
from urllib.parse import urlencode

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from resonanz.connectors.models import Channel
from resonanz.core.errors import ActionError
from resonanz.core.params import is_id
from resonanz.core.permissions import can, permission_required
from resonanz.desk.charts import PALETTE, bars, sparkline, stacked_columns
from resonanz.desk.forms.insights import GoalForm
from resonanz.inbox.models import AgentProfile, Team
from resonanz.insights import actions, dashboard
from resonanz.insights.models import Alert, Fact, Goal, ListeningQuery
from resonanz.understanding.models import INTENTS

manage_required = permission_required("insights.manage")


def _names() -> dict[str, str]:
    return {"negative": _("negative"), "neutral": _("neutral"), "positive": _("positive")}


def _urgency_names() -> dict[str, str]:
    return {"high": _("high urgency"), "medium": _("medium urgency"), "low": _("low urgency")}


def _kind_names() -> dict[str, str]:
    return {"product": _("product"), "brand": _("brand"), "competitor": _("competitor"), "company": _("our company")}


def _items_link(sel: dashboard.Selection, **segment) -> str:
    """The items behind a chart segment (``/insights/items/``), in the dashboard's selection."""
    return "/insights/items/?" + urlencode({**sel.params(), **segment})


def topic_charts(sel: dashboard.Selection) -> dict:
    """The intents, urgency and entities charts, each bar opening the items behind it."""
    intent_labels = dict(INTENTS)
    intents = dashboard.intents(sel)[:9]
    intent_chart = bars(_("Intents"), [(str(intent_labels.get(r["intent"], r["intent"])), {"n": r["n"]})
                                       for r in intents], {"n": _("items")},
                        links=[_items_link(sel, intent=r["intent"]) for r in intents],
                        suffix=[f'{r["n"]} ({_("before")}: {r["previous"]})' for r in intents]) if intents else None
    levels = dashboard.urgency(sel)
    short = {"high": _("high"), "medium": _("medium"), "low": _("low")}  # the chart's title says "Urgency"
    urgency_chart = bars(_("Urgency"), [(short[r["urgency"]], {"n": r["n"]}) for r in levels],
                         {"n": _("items")}, links=[_items_link(sel, urgency=r["urgency"]) for r in levels],
                         suffix=[f'{r["n"]} ({_("before")}: {r["previous"]})' for r in levels]
                         ) if any(r["n"] for r in levels) else None
    entities = dashboard.entities(sel)
    kinds = _kind_names()
    entity_chart = bars(_("Products and competitors named most"),
                        [(r["entity"], {k: r[k] for k in ("negative", "neutral", "positive")}) for r in entities],
                        _names(), links=[_items_link(sel, entity=r["key"]) for r in entities],
                        suffix=[f'{kinds.get(r["kind"], r["kind"])} · {r["n"]}' for r in entities]) if entities else None
    return {"intent_chart": intent_chart, "urgency_chart": urgency_chart, "urgency": levels,
            "entity_chart": entity_chart, "entities": entities}


def _stream_link(sel: dashboard.Selection, **extra) -> str:
    params = {k: v for k, v in {"query": sel.query.pk if sel.query else "", "channel": sel.channel or ""}.items() if v}
    params.update(extra)
    return "/listening/?" + urlencode(params)


def _team_and_agent(params) -> tuple[Team | None, AgentProfile | None]:
    """The team lead's filters: a team (its KPIs, goals and one row per agent) or one agent."""
    team = Team.objects.filter(pk=int(params["team"])).first() if is_id(params.get("team", "")) else None
    agent = (AgentProfile.objects.filter(pk=int(params["agent"]), is_bot=False).select_related("user").first()
             if is_id(params.get("agent", "")) else None)
    return team, agent


@login_required
@require_GET
def dashboard_page(request):
    sel = dashboard.Selection.from_params(request.GET)
    vol = dashboard.volume(sel)
    names = _names()
    buckets = [r["bucket"] for r in vol["series"]]
    split_by = request.GET.get("by") if request.GET.get("by") in dashboard.SPLITS else "sentiment"
    day_links = [_stream_link(sel, day=b[:10]) for b in buckets]  # each column opens that day's posts
    if split_by == "sentiment":
        volume_chart = stacked_columns(
            _("Items per day by sentiment") if not sel.hourly else _("Items per hour by sentiment"), buckets,
            {k: [r[k] for r in vol["series"]] for k in ("negative", "neutral", "positive")}, names, links=day_links)
    else:
        by = dashboard.volume_by(sel, split_by)
        channel_names = dict(Channel.objects.values_list("pk", "name"))
        key_names = {k: (channel_names.get(k, str(k)) if split_by == "channel" else str(k)) for k in by["keys"]}
        key_names["other"] = _("other")
        volume_chart = stacked_columns(
            _("Items per day by channel") if split_by == "channel" else _("Items per day by language"),
            by["buckets"], by["series"], key_names, links=day_links,
            colors={k: PALETTE[i % len(PALETTE)] for i, k in enumerate(by["keys"])})
    sov = dashboard.share_of_voice(sel)
    sov_chart = bars(_("Share of voice"), [(r["query"], {k: r[k] for k in ("negative", "neutral", "positive")})
                                            for r in sov], names,
                     links=[f"?{urlencode({**sel.params(), 'query': r['query_id']})}" for r in sov],
                     suffix=[f'{r["share"]:.0%} · {r["n"]}' for r in sov]) if any(r["n"] for r in sov) else None
    split = dashboard.by_channel_and_language(sel)
    channel_chart = bars(_("Items by channel"), [(r["channel"], {"n": r["n"]}) for r in split["channels"]],
                         {"n": _("items")}) if split["channels"] else None
    language_chart = bars(_("Items by language"), [(r["language"], {"n": r["n"]}) for r in split["languages"]],
                          {"n": _("items")}) if split["languages"] else None
    team, agent = _team_and_agent(request.GET)
    goals = dashboard.goals(team)
    change = None
    if vol["previous_total"]:
        change = (vol["total"] - vol["previous_total"]) / vol["previous_total"]
    return render(request, "insights/dashboard.html", {
        "sel": sel, "vol": vol, "change": change, "volume_chart": volume_chart, **topic_charts(sel),
        "sov": sov, "sov_chart": sov_chart, "channel_chart": channel_chart, "language_chart": language_chart,
        "alerts": dashboard.alerts(sel),
        "kpis": dashboard.kpis(sel.days, team, agent=agent.user if agent else None),
        "team": team, "agent": agent, "teams": Team.objects.filter(is_active=True).order_by("name"),
        "agents": AgentProfile.objects.filter(is_bot=False, user__is_active=True).order_by("display_name"),
        "per_agent": dashboard.per_agent(sel.days, team) if team is not None and agent is None else [],
        "goals": goals, "goals_off_track": [g for g in goals if g["state"] == "off_track"],
        "periods": dashboard.PERIODS, "channels": Channel.objects.order_by("name"),
        "queries": ListeningQuery.objects.order_by("tag", "name"), "languages": dashboard.LANGUAGES,
        "params": sel.params(), "querystring": urlencode(sel.params()),
        "negative_link": _stream_link(sel, sentiment="negative"), "split_by": split_by,
        "split_choices": [("sentiment", _("sentiment")), ("channel", _("channel")), ("language", _("language"))],
        "can_manage": can(request.user, "insights.manage"), "goal_form": GoalForm(),
    })


@login_required
@require_GET
def terms_page(request):
    """The driving terms of a selection: a fragment the dashboard loads after it has drawn its charts, or a
    page of its own without JavaScript."""
    sel = dashboard.Selection.from_params(request.GET)
    context = {"terms": dashboard.cached_terms(sel), "querystring": urlencode(sel.params())}
    if request.headers.get("X-Requested-With") == "fetch":
        return render(request, "insights/_terms.html", context)
    return render(request, "insights/terms.html", context)


@login_required
@require_GET
def authors_page(request):
    """The top authors of a selection, by volume and by reach: loaded after the page like the driving terms."""
    sel = dashboard.Selection.from_params(request.GET)
    context = {"authors": dashboard.cached_authors(sel), "querystring": urlencode(sel.params())}
    if request.headers.get("X-Requested-With") == "fetch":
        return render(request, "insights/_authors.html", context)
    return render(request, "insights/authors.html", context)


@login_required
@require_GET
def ideas_page(request):
    """The idea clusters of a selection, with their trend: loaded after the page (clustering embeds texts)."""
    sel = dashboard.Selection.from_params(request.GET)
    found = dashboard.cached_ideas(sel)
    step_days = 1 if sel.days <= 7 else 7
    for g in found["groups"]:
        g["sparkline"] = sparkline(_("Items per day") if step_days == 1 else _("Items per week"), g["weeks"])
    context = {"ideas": found, "sel": sel, "querystring": urlencode(sel.params()),
               "can_make_idea": can(request.user, "ideas.manage")}
    if request.headers.get("X-Requested-With") == "fetch":
        return render(request, "insights/_ideas.html", context)
    return render(request, "insights/ideas.html", context)


@login_required
@require_GET
def items_page(request):
    """The items behind a chart segment (an intent, an urgency level, an entity, a day), newest first."""
    sel = dashboard.Selection.from_params(request.GET)
    filters = dashboard.drill_filters(request.GET)
    rows, total = dashboard.items(sel, filters)
    intent_labels = dict(INTENTS)
    described = []
    if "intent" in filters:
        described.append(f'{_("Intent")}: {intent_labels.get(filters["intent"], filters["intent"])}')
    if "urgency" in filters:
        described.append(_urgency_names().get(filters["urgency"], filters["urgency"]))
    if "entity" in filters:
        kind, _sep, name = filters["entity"].partition(":")
        described.append(f"{_kind_names().get(kind, kind)}: {name or kind}")
    if "sentiment" in filters:
        described.append(_names().get(filters["sentiment"], filters["sentiment"]))
    if "day" in filters:
        described.append(filters["day"])
    return render(request, "insights/items.html", {
        "sel": sel, "items": rows, "total": total, "described": described,
        "querystring": urlencode(sel.params())})


def csv_safe(value: str) -> str:
    """Text from outside (an author's name, a term) that a spreadsheet would run as a formula gets a quote."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


CSV_CHARTS = ("volume", "intents", "urgency", "entities", "ideas", "share_of_voice", "channels", "languages", "terms",
              "authors")


@login_required
@require_GET
def export_csv(request, chart: str):
    if chart not in CSV_CHARTS:
        return HttpResponse(_("Unknown chart; use one of %(c)s.") % {"c": ", ".join(CSV_CHARTS)}, status=404)
    sel = dashboard.Selection.from_params(request.GET)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="resonanz-{chart}-{sel.days}d.csv"'
    w = csv.writer(response)
    if chart == "volume":
        w.writerow(["bucket", "negative", "neutral", "positive"])
        w.writerows([r["bucket"], r["negative"], r["neutral"], r["positive"]] for r in dashboard.volume(sel)["series"])
    elif chart == "intents":
        w.writerow(["intent", "items", "previous_period"])
        w.writerows([r["intent"], r["n"], r["previous"]] for r in dashboard.intents(sel))
    elif chart == "urgency":
        w.writerow(["urgency", "items", "previous_period"])
        w.writerows([r["urgency"], r["n"], r["previous"]] for r in dashboard.urgency(sel))
    elif chart == "entities":
        w.writerow(["entity", "kind", "items", "negative", "neutral", "positive", "previous_period"])
        w.writerows([csv_safe(r["entity"]), r["kind"], r["n"], r["negative"], r["neutral"], r["positive"],
                     r["previous"]] for r in dashboard.entities(sel, top=100))
    elif chart == "ideas":
        w.writerow(["cluster", "items", "previous_period", "per_step", "example"])
        w.writerows([csv_safe(g["label"]), g["size"], g["previous"], " ".join(map(str, g["weeks"])),
                     csv_safe(g["examples"][0]["text"] if g["examples"] else "")]
                    for g in dashboard.cached_ideas(sel)["groups"])
    elif chart == "share_of_voice":
        w.writerow(["query", "tag", "mentions", "share", "negative", "neutral", "positive"])
        w.writerows([r["query"], r["tag"], r["n"], f'{r["share"]:.4f}', r["negative"], r["neutral"], r["positive"]]
                    for r in dashboard.share_of_voice(sel))
    elif chart in ("channels", "languages"):
        rows = dashboard.by_channel_and_language(sel)[chart]
        key = "channel" if chart == "channels" else "language"
        w.writerow([key, "items"])
        w.writerows([r[key], r["n"]] for r in rows)
    elif chart == "authors":
        w.writerow(["ranking", "author", "posts", "negative_posts", "reach"])
        found = dashboard.top_authors(sel)
        w.writerows([ranking, csv_safe(r["author"]), r["n"], r["negative"], r["reach"] if r["reach"] is not None else ""]
                    for ranking in ("by_volume", "by_reach") for r in found[ranking])
    else:
        w.writerow(["term", "z", "negative_items", "other_items"])
        w.writerows([csv_safe(t["term"]), t["z"], t["count"], t["baseline_count"]] for t in dashboard.terms(sel))
    return response


@login_required
def alert_detail(request, pk: int):
    alert = get_object_or_404(Alert.objects.select_related("query", "acknowledged_by"), pk=pk)
    if request.method == "POST":
        if not can(request.user, "insights.manage"):
            flash.error(request, _("Only supervisors and administrators can do this."))
        else:
            actions.acknowledge_alert(alert, request.user)
            flash.success(request, _("Alert acknowledged."))
        return redirect("insights:alert", alert.pk)
    facts = Fact.objects.filter(pk__in=alert.fact_ids).select_related("post", "message", "channel").order_by("at")
    return render(request, "insights/alert.html", {"alert": alert, "items": facts})


@manage_required
@require_POST
def goal_save(request):
    form = GoalForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            actions.save_goal(team=d["team"], kpi=d["kpi"], target=d["target"], period_days=d["period_days"])
            flash.success(request, _("Goal saved."))
        except ActionError as exc:
            flash.error(request, exc.message)
    else:
        flash.error(request, " ".join(e for errs in form.errors.values() for e in errs))
    return redirect("insights:dashboard")


@manage_required
@require_POST
def goal_delete(request, pk: int):
    actions.delete_goal(get_object_or_404(Goal, pk=pk))
    flash.success(request, _("Goal deleted."))
    return redirect("insights:dashboard")
