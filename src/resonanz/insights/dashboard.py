"""What a dashboard shows, as plain data: read from the hourly rollups (never from raw rows), except the
driving terms, which read a sample of texts, and the service KPIs, which read conversations.

``Selection`` is the filter a person sets (period, channel, language, query); every function takes it, so
the desk page, the API and the CSV export show the same numbers.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db.models import Avg, Count, Q, Sum
from django.utils import timezone

from resonanz.analysis.terms import driving_terms
from resonanz.automation.models import ConversationSLA
from resonanz.connectors.models import Channel
from resonanz.core.params import is_id
from resonanz.inbox.models import AgentProfile, Conversation, ConversationEvent, Message
from resonanz.insights.facts import hour_of
from resonanz.insights.models import Alert, Fact, Goal, IntentRollup, ListeningQuery, Rollup, Survey

PERIODS = (1, 7, 30, 90, 365)
SENTIMENT_ORDER = ("negative", "neutral", "positive")
LANGUAGES = ("de", "en", "other")


@dataclass
class Selection:
    days: int = 30
    channel: int | None = None
    language: str = ""
    query: ListeningQuery | None = None
    end: datetime = field(default_factory=lambda: hour_of(timezone.now()) + timedelta(hours=1))

    @classmethod
    def from_params(cls, params) -> Selection:
        """From a GET query (unknown values fall back to the defaults: a dashboard link never errors)."""
        days = int(params.get("days")) if str(params.get("days", "")).isdigit() else 30
        days = days if days in PERIODS else 30
        channel = int(params["channel"]) if is_id(params.get("channel", "")) else None
        language = params.get("language", "") if params.get("language", "") in LANGUAGES else ""
        query = None
        if is_id(params.get("query", "")):
            query = ListeningQuery.objects.filter(pk=int(params["query"])).first()
        return cls(days=days, channel=channel, language=language, query=query)

    @property
    def start(self) -> datetime:
        return self.end - timedelta(days=self.days)

    @property
    def previous(self) -> Selection:
        return Selection(self.days, self.channel, self.language, self.query, self.start)

    @property
    def hourly(self) -> bool:
        return self.days <= 2

    def params(self) -> dict:
        out: dict = {"days": self.days}
        if self.channel:
            out["channel"] = self.channel
        if self.language:
            out["language"] = self.language
        if self.query:
            out["query"] = self.query.pk
        return out

    def rollups(self, model=Rollup, query_id: int | None = None):
        qs = model.objects.filter(hour__gte=self.start, hour__lt=self.end,
                                  query_id=query_id if query_id is not None else (self.query.pk if self.query else 0))
        if self.channel:
            qs = qs.filter(channel_id=self.channel)
        if self.language:
            qs = qs.filter(language=self.language)
        return qs

    def facts(self):
        qs = Fact.objects.filter(hour__gte=self.start, hour__lt=self.end)
        if self.channel:
            qs = qs.filter(channel_id=self.channel)
        if self.language:
            qs = qs.filter(language=self.language)
        if self.query:
            qs = qs.filter(mentions__query=self.query)
        return qs


def _bucket(hour: datetime, hourly: bool) -> str:
    local = timezone.localtime(hour)
    return local.strftime("%Y-%m-%d %H:00") if hourly else local.date().isoformat()


def buckets(sel: Selection) -> list[str]:
    out, t = [], sel.start
    step = timedelta(hours=1) if sel.hourly else timedelta(days=1)
    seen = set()
    while t < sel.end:
        b = _bucket(t, sel.hourly)
        if b not in seen:
            seen.add(b)
            out.append(b)
        t += step
    return out


def volume(sel: Selection) -> dict:
    """Items per day (or hour) and sentiment, with totals and the previous period's totals."""
    series = {b: dict.fromkeys(SENTIMENT_ORDER, 0) for b in buckets(sel)}
    for r in sel.rollups().values("hour", "sentiment").annotate(c=Sum("n")):
        b = _bucket(r["hour"], sel.hourly)
        if b in series and r["sentiment"] in SENTIMENT_ORDER:
            series[b][r["sentiment"]] += r["c"]
    total = sum(sum(v.values()) for v in series.values())
    negative = sum(v["negative"] for v in series.values())
    prev = sel.previous.rollups().aggregate(total=Sum("n"), neg=Sum("n", filter=Q(sentiment="negative")))
    return {"series": [{"bucket": b, **v} for b, v in series.items()], "total": total, "negative": negative,
            "negative_share": negative / total if total else None, "previous_total": prev["total"] or 0,
            "previous_negative_share": (prev["neg"] or 0) / prev["total"] if prev["total"] else None}


def by_channel_and_language(sel: Selection) -> dict:
    names = dict(Channel.objects.values_list("pk", "name"))
    channels = [{"channel": names.get(r["channel_id"], str(r["channel_id"])), "channel_id": r["channel_id"],
                 "n": r["c"]} for r in sel.rollups().values("channel_id").annotate(c=Sum("n")).order_by("-c")]
    languages = [{"language": r["language"], "n": r["c"]}
                 for r in sel.rollups().values("language").annotate(c=Sum("n")).order_by("-c")]
    return {"channels": channels, "languages": languages}


def intents(sel: Selection) -> list[dict]:
    prev = dict(sel.previous.rollups(IntentRollup).values("intent").annotate(c=Sum("n")).values_list("intent", "c"))
    return [{"intent": r["intent"], "n": r["c"], "previous": prev.get(r["intent"], 0)}
            for r in sel.rollups(IntentRollup).values("intent").annotate(c=Sum("n")).order_by("-c", "intent")]


def share_of_voice(sel: Selection) -> list[dict]:
    """Mentions of each brand and competitor query in the period, with their sentiment split."""
    rows = []
    for q in ListeningQuery.objects.filter(enabled=True, tag__in=("brand", "competitor")):
        counts = dict.fromkeys(SENTIMENT_ORDER, 0)
        for r in sel.rollups(query_id=q.pk).values("sentiment").annotate(c=Sum("n")):
            if r["sentiment"] in counts:
                counts[r["sentiment"]] += r["c"]
        rows.append({"query": q.name, "query_id": q.pk, "tag": q.tag, "n": sum(counts.values()), **counts})
    total = sum(r["n"] for r in rows)
    for r in rows:
        r["share"] = r["n"] / total if total else 0.0
    return sorted(rows, key=lambda r: (r["tag"] != "brand", -r["n"], r["query"]))


def terms(sel: Selection, sample: int = 400) -> list[dict]:
    """What drives the negative items: terms over-represented in the period's negative items against its
    other items (log-odds with an informative prior, ``analysis.terms``), on a sample of the newest."""
    def texts(qs):
        rows = qs.select_related("post", "message").order_by("-at")[:sample]
        return [((f.post or f.message).analysis_text, f.language) for f in rows]

    facts = sel.facts()
    return [t.to_dict() for t in driving_terms(texts(facts.filter(sentiment="negative")),
                                               texts(facts.exclude(sentiment="negative")), top=12, min_count=2)]


def cached_terms(sel: Selection, seconds: int = 300) -> list[dict]:
    """``terms`` kept for a few minutes per selection and newest item: the same dashboard opened by several
    people, or reloaded, reads the sample and lemmatizes it once."""
    newest = Fact.objects.order_by("-id").values_list("id", flat=True).first() or 0
    key = "insights-terms:" + ":".join(f"{k}={v}" for k, v in sorted(sel.params().items())) + f":{newest}"
    found = cache.get(key)
    if found is None:
        found = terms(sel)
        cache.set(key, found, seconds)
    return found


# --- service KPIs and goals -----------------------------------------------------------------------------------

def _median_p90(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    values = sorted(values)
    p90 = values[min(len(values) - 1, int(round(0.9 * (len(values) - 1))))]
    return statistics.median(values), p90


REOPENED_REASON = "reopened by the customer's reply"


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def reopen_and_automation(convs) -> dict:
    """From the event log: how many resolved conversations came back (a status change from resolved or
    closed to an open status, or the customer's reply reopening it), and how many were answered by the
    virtual agent with no handover and no person's reply (the automation or deflection rate)."""
    events = ConversationEvent.objects.filter(conversation__in=convs)
    ever_resolved = set(convs.filter(resolved_at__isnull=False).values_list("pk", flat=True))
    reopened = set()
    for cid, data in events.filter(kind="status_changed").values_list("conversation_id", "data"):
        data = data or {}
        if data.get("new") in ("resolved", "closed"):
            ever_resolved.add(cid)
        if data.get("old") in ("resolved", "closed") and data.get("new") in Conversation.OPEN_STATUSES:
            reopened.add(cid)
    reopened |= set(events.filter(kind="message_received", reason=REOPENED_REASON)
                    .values_list("conversation_id", flat=True))
    ever_resolved |= reopened
    bot = set(events.filter(kind="auto_answered").values_list("conversation_id", flat=True))
    handed = set(events.filter(kind="handed_over").values_list("conversation_id", flat=True))
    people = set(Message.objects.filter(conversation__in=convs, direction="outbound", author_user__isnull=False)
                 .exclude(author_user__agent__is_bot=True).values_list("conversation_id", flat=True))
    automated = bot - handed - people
    n = convs.count()
    return {"resolved_ever": len(ever_resolved), "reopened": len(reopened),
            "reopen_rate": _share(len(reopened), len(ever_resolved)), "automated": len(automated),
            "automation_rate": _share(len(automated), n)}


def nps(surveys) -> dict:
    """Net promoter score from the 0–10 "would you recommend us" answers: promoters (9–10) minus
    detractors (0–6), in points from −100 to 100."""
    answers = list(surveys.filter(recommend__isnull=False).values_list("recommend", flat=True))
    if not answers:
        return {"nps": None, "nps_responses": 0}
    promoters = sum(1 for a in answers if a >= 9)
    detractors = sum(1 for a in answers if a <= 6)
    return {"nps": 100 * (promoters - detractors) / len(answers), "nps_responses": len(answers)}


def conversations(days: int = 30, team=None, agent=None, end: datetime | None = None):
    end = end or timezone.now()
    convs = Conversation.objects.filter(created_at__gte=end - timedelta(days=days), created_at__lt=end)
    if team is not None:
        convs = convs.filter(team=team)
    if agent is not None:
        convs = convs.filter(assignee=agent)
    return convs


def kpis(days: int = 30, team=None, end: datetime | None = None, agent=None) -> dict:
    """First response and resolution (median, p90), SLA attainment, reopen and automation rate, satisfaction
    (CSAT and NPS), over conversations created in the period, for the company, a team or an agent (demo
    conversations included: the demo is meant to show these)."""
    convs = conversations(days, team, agent, end)
    first = [(c - s).total_seconds() / 60 for s, c in convs.filter(first_response_at__isnull=False)
             .values_list("created_at", "first_response_at")]
    resolved = [(r - s).total_seconds() / 3600 for s, r in convs.filter(resolved_at__isnull=False)
                .values_list("created_at", "resolved_at")]
    slas = ConversationSLA.objects.filter(conversation__in=convs, policy__isnull=False)
    sla_n = slas.count()
    sla_met = slas.filter(first_response_breached=False, resolution_breached=False).count()
    surveys = Survey.objects.filter(conversation__in=convs, rating__isnull=False)
    csat = surveys.aggregate(avg=Avg("rating"), n=Count("id"))
    happy = surveys.filter(rating__gte=4).count()
    fr_median, fr_p90 = _median_p90(first)
    res_median, res_p90 = _median_p90(resolved)
    # from the period's messages to their facts (one unique-index lookup each), never a scan of every fact
    counted = Message.objects.filter(conversation__in=convs, fact__isnull=False).aggregate(
        n=Count("fact"), neg=Count("fact", filter=Q(fact__sentiment="negative")))
    negative, n_facts = counted["neg"], counted["n"]
    return {"conversations": convs.count(), **reopen_and_automation(convs), **nps(Survey.objects.filter(conversation__in=convs)),
            "first_response_median_minutes": fr_median,
            "first_response_p90_minutes": fr_p90, "resolution_median_hours": res_median,
            "resolution_p90_hours": res_p90, "sla_total": sla_n,
            "sla_attainment": sla_met / sla_n if sla_n else None,
            "csat_average": csat["avg"], "csat_responses": csat["n"],
            "csat_satisfied_share": happy / csat["n"] if csat["n"] else None,
            "negative_share": negative / n_facts if n_facts else None}


def _percent(v: float | None) -> float | None:
    return None if v is None else 100 * v


def goal_progress(goal: Goal) -> dict:
    k = kpis(goal.period_days, goal.team)
    value = {"first_response": k["first_response_median_minutes"], "resolution": k["resolution_median_hours"],
             "sla": _percent(k["sla_attainment"]), "csat": k["csat_average"],
             "negative": _percent(k["negative_share"]), "reopen": _percent(k["reopen_rate"]),
             "automation": _percent(k["automation_rate"]), "nps": k["nps"]}[goal.kpi]
    if value is None:
        state = "no_data"
    elif goal.lower_is_better:
        state = "met" if value <= goal.target else "off_track"
    else:
        state = "met" if value >= goal.target else "off_track"
    if value is None:
        ratio = None
    elif goal.lower_is_better:
        ratio = 1.0 if value <= 0 else min(goal.target / value, 1.0)
    elif goal.kpi == "nps":  # −100 … 100: progress from the bottom of the scale
        ratio = min(max((value + 100) / (goal.target + 100), 0.0), 1.0) if goal.target > -100 else 1.0
    else:
        ratio = min(value / goal.target, 1.0) if goal.target else 1.0
    return {"goal": goal, "value": value, "state": state, "ratio": ratio}


def goals(team=None) -> list[dict]:
    qs = Goal.objects.select_related("team").order_by("team__name", "kpi")
    if team is not None:
        qs = qs.filter(team=team)
    return [goal_progress(g) for g in qs]


def per_agent(days: int = 30, team=None) -> list[dict]:
    """One row of KPIs per agent with conversations in the period (the team lead's view)."""
    ids = conversations(days, team).exclude(assignee__isnull=True).values_list("assignee", flat=True).distinct()
    rows = []
    for profile in AgentProfile.objects.filter(user_id__in=list(ids), is_bot=False).select_related("user"):
        rows.append({"agent": profile, **kpis(days, team, agent=profile.user)})
    return sorted(rows, key=lambda r: (-r["conversations"], r["agent"].display_name))


def alerts(sel: Selection, limit: int = 10) -> list[Alert]:
    qs = Alert.objects.select_related("query").filter(hour__gte=sel.start - timedelta(days=7))
    if sel.query:
        qs = qs.filter(query=sel.query)
    return list(qs[:limit])

