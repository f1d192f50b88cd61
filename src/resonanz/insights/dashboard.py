"""What a dashboard shows, as plain data: read from the rollups (never from raw rows; whole days of longer
ranges from the daily ones, ``insights/days.py``), except the
driving terms, which read a sample of texts, and the service KPIs, which read conversations.

``Selection`` is the filter a person sets (period, channel, language, query); every function takes it, so
the desk page, the API and the CSV export show the same numbers.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace

from django.core.cache import cache
from django.db.models import Avg, Count, Q, Sum
from django.utils import timezone

from resonanz.analysis.terms import driving_terms
from resonanz.automation import sla
from resonanz.automation.models import ConversationSLA, SLAPolicy
from resonanz.connectors.models import Channel
from resonanz.core.params import is_id
from resonanz.inbox.models import AgentProfile, Conversation, ConversationEvent, Message
from resonanz.insights import days
from resonanz.insights.facts import hour_of
from resonanz.insights.models import (
    Alert,
    DailyEntityRollup,
    DailyEntityTotal,
    DailyIntentRollup,
    DailyRollup,
    DailyUrgencyRollup,
    EntityRollup,
    Fact,
    Goal,
    IntentRollup,
    ListeningQuery,
    Rollup,
    Survey,
    UrgencyRollup,
)
from resonanz.insights.topics import URGENCY_LEVELS, entity_key

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
    local = hour.astimezone(days.company_zone())
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


ROLLUPS = {"": (Rollup, DailyRollup), "intent": (IntentRollup, DailyIntentRollup),
           "urgency": (UrgencyRollup, DailyUrgencyRollup), "entity": (EntityRollup, DailyEntityRollup),
           # whole days without channel and language: only for selections without a channel or language
           "entity_total": (EntityRollup, DailyEntityTotal)}


def counts(sel: Selection, fields: tuple[str, ...], *, intent: bool = False,
           query_ids: list[int] | None = None, table: str = "") -> Counter:
    """Items in the selection grouped by ``fields`` (rollup columns, and ``bucket``: the chart's day or hour).

    Ranges of days read the daily rollups for the whole days of the company's time zone and the hourly
    rollups only for the partial days at the ends (``days.split``), so the sums equal the hourly ones
    exactly; a year is about 365 × cells rows instead of 8,760 × cells.
    """
    hourly_model, daily_model = ROLLUPS["intent" if intent else table]
    if table == "entity_total" and (sel.channel or sel.language or {"channel_id", "language"} & set(fields)):
        raise ValueError("entity_total has no channel or language: read table='entity' for those")
    qids = query_ids if query_ids is not None else [sel.query.pk if sel.query else 0]
    whole, edges = (None, [(sel.start, sel.end)]) if sel.hourly or not days.ready() \
        else days.split(sel.start, sel.end)
    columns = [f for f in fields if f != "bucket"]

    def narrowed(qs):
        qs = qs.filter(query_id__in=qids) if len(qids) != 1 else qs.filter(query_id=qids[0])
        if sel.channel:
            qs = qs.filter(channel_id=sel.channel)
        if sel.language:
            qs = qs.filter(language=sel.language)
        return qs

    out: Counter = Counter()
    for a, b in edges:
        group = columns + (["hour"] if "bucket" in fields else [])
        for r in narrowed(hourly_model.objects.filter(hour__gte=a, hour__lt=b)).values(*group) \
                .annotate(c=Sum("n")).order_by():
            out[tuple(_bucket(r["hour"], sel.hourly) if f == "bucket" else r[f] for f in fields)] += r["c"]
    if whole:
        group = columns + (["day"] if "bucket" in fields else [])
        for r in narrowed(daily_model.objects.filter(day__gte=whole[0], day__lte=whole[1])).values(*group) \
                .annotate(c=Sum("n")).order_by():
            out[tuple(r["day"].isoformat() if f == "bucket" else r[f] for f in fields)] += r["c"]
    return out


def volume(sel: Selection) -> dict:
    """Items per day (or hour) and sentiment, with totals and the previous period's totals."""
    series = {b: dict.fromkeys(SENTIMENT_ORDER, 0) for b in buckets(sel)}
    for (b, sentiment), c in counts(sel, ("bucket", "sentiment")).items():
        if b in series and sentiment in SENTIMENT_ORDER:
            series[b][sentiment] += c
    total = sum(sum(v.values()) for v in series.values())
    negative = sum(v["negative"] for v in series.values())
    prev = counts(sel.previous, ("sentiment",))
    prev_total, prev_neg = sum(prev.values()), prev[("negative",)]
    return {"series": [{"bucket": b, **v} for b, v in series.items()], "total": total, "negative": negative,
            "negative_share": negative / total if total else None, "previous_total": prev_total,
            "previous_negative_share": prev_neg / prev_total if prev_total else None}


SPLITS = {"channel": "channel_id", "language": "language"}


def volume_by(sel: Selection, split: str, top: int = 5) -> dict:
    """Items per day (or hour) by channel or by language: the ``top`` largest, the rest as ``"other"``."""
    field_name = SPLITS[split]
    found = counts(sel, ("bucket", field_name))
    totals: Counter = Counter()
    for (_b, key), c in found.items():
        totals[key] += c
    keys = [k for k, _c in _ranked(Counter({(k,): c for k, c in totals.items()}))]
    keep = [k[0] for k in keys[:top]]
    names = keep + (["other"] if len(keys) > top else [])
    order = buckets(sel)
    series = {k: [0] * len(order) for k in names}
    index = {b: i for i, b in enumerate(order)}
    for (b, key), c in found.items():
        if b in index:
            series[key if key in keep else "other"][index[b]] += c
    return {"buckets": order, "keys": names, "series": series}


def _ranked(counter: Counter) -> list[tuple]:
    return sorted(counter.items(), key=lambda kv: (-kv[1], str(kv[0])))


def by_channel_and_language(sel: Selection) -> dict:
    names = dict(Channel.objects.values_list("pk", "name"))
    channels = [{"channel": names.get(cid, str(cid)), "channel_id": cid, "n": c}
                for (cid,), c in _ranked(counts(sel, ("channel_id",)))]
    languages = [{"language": lang, "n": c} for (lang,), c in _ranked(counts(sel, ("language",)))]
    return {"channels": channels, "languages": languages}


def intents(sel: Selection) -> list[dict]:
    prev = counts(sel.previous, ("intent",), intent=True)
    return [{"intent": i, "n": c, "previous": prev.get((i,), 0)}
            for (i,), c in _ranked(counts(sel, ("intent",), intent=True))]


def urgency(sel: Selection) -> list[dict]:
    """Items per urgency level (high, medium, low), with the previous period's."""
    now, prev = counts(sel, ("urgency",), table="urgency"), counts(sel.previous, ("urgency",), table="urgency")
    return [{"urgency": u, "n": now.get((u,), 0), "previous": prev.get((u,), 0)} for u in URGENCY_LEVELS]


def entities(sel: Selection, top: int = 12) -> list[dict]:
    """The products, brands and competitors named most in the selection, each with its sentiment split and
    the previous period's count (``key`` is what the items list and the alerts filter by)."""
    # the daily rows without channel and language where no filter needs them (a year: a fraction of the rows)
    table = "entity" if sel.channel or sel.language else "entity_total"
    found = counts(sel, ("kind", "entity", "sentiment"), table=table)
    rows: dict[tuple[str, str], dict] = {}
    for (kind, name, sentiment), c in found.items():
        r = rows.setdefault((kind, name), {"kind": kind, "entity": name, "key": entity_key(kind, name), "n": 0,
                                           **dict.fromkeys(SENTIMENT_ORDER, 0)})
        r["n"] += c
        if sentiment in SENTIMENT_ORDER:
            r[sentiment] += c
    ranked = sorted(rows.values(), key=lambda r: (-r["n"], r["entity"], r["kind"]))[:top]
    prev = counts(sel.previous, ("kind", "entity"), table=table) if ranked else Counter()
    for r in ranked:
        r["previous"] = prev.get((r["kind"], r["entity"]), 0)
        r["negative_share"] = r["negative"] / r["n"] if r["n"] else None
    return ranked


ITEM_FILTERS = ("intent", "entity", "urgency", "sentiment", "day")
ITEMS_PAGE = 50


def drill_filters(params) -> dict[str, str]:
    """The chart segment a person clicked (an intent, an entity, an urgency level, a sentiment, a day)."""
    out = {}
    for key in ITEM_FILTERS:
        value = str(params.get(key, ""))[:140]
        if value and "," not in value:
            out[key] = value
    return out


def items(sel: Selection, filters: dict[str, str], limit: int = ITEMS_PAGE) -> tuple[list[Fact], int]:
    """The items behind a chart segment, newest first (``limit`` of them) and how many there are."""
    facts = sel.facts()
    if filters.get("intent"):
        facts = facts.filter(intents__contains=f",{filters['intent']},")
    if filters.get("entity"):
        facts = facts.filter(entities__contains=f",{filters['entity']},")
    if filters.get("urgency") in URGENCY_LEVELS:
        facts = facts.filter(urgency=filters["urgency"])
    if filters.get("sentiment") in SENTIMENT_ORDER:
        facts = facts.filter(sentiment=filters["sentiment"])
    if filters.get("day"):
        try:
            day = datetime.fromisoformat(filters["day"][:10]).date()
        except ValueError:
            day = None
        if day is not None:
            facts = facts.filter(hour__gte=days.day_start(day), hour__lt=days.day_start(day + timedelta(days=1)))
    total = facts.count()
    rows = list(facts.select_related("post", "message", "channel").order_by("-at", "-pk")[:limit])
    return rows, total


def share_of_voice(sel: Selection) -> list[dict]:
    """Mentions of each brand and competitor query in the period, with their sentiment split."""
    queries = list(ListeningQuery.objects.filter(enabled=True, tag__in=("brand", "competitor")))
    found = counts(sel, ("query_id", "sentiment"), query_ids=[q.pk for q in queries]) if queries else Counter()
    rows = []
    for q in queries:
        by_sentiment = {s: found.get((q.pk, s), 0) for s in SENTIMENT_ORDER}
        rows.append({"query": q.name, "query_id": q.pk, "tag": q.tag, "n": sum(by_sentiment.values()),
                     **by_sentiment})
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


AUTHOR_SAMPLE = 20_000


def top_authors(sel: Selection, limit: int = 10, sample: int = AUTHOR_SAMPLE) -> dict:
    """The public authors of the selection's posts, by volume and by reach (the largest audience one of their
    posts had), with their negative posts: who speaks most about us and who is heard most. Authors are too
    many to roll up, so this reads the newest ``sample`` posts of the period (a year of a busy brand would
    take seconds to group) and is loaded after the page, like the driving terms."""
    # by ``at`` (not ``hour``; the same range, as both ends are whole hours): the newest-first index then
    # serves the range and the order, and the read stops after ``sample`` rows
    facts = Fact.objects.filter(at__gte=sel.start, at__lt=sel.end, post__isnull=False)
    if sel.channel:
        facts = facts.filter(channel_id=sel.channel)
    if sel.language:
        facts = facts.filter(language=sel.language)
    if sel.query:
        facts = facts.filter(mentions__query=sel.query)
    rows = list(facts.exclude(author="").order_by("-at").values_list("author", "reach", "sentiment")[:sample])
    found: dict[str, dict] = {}
    for author, reach, sentiment in rows:
        a = found.setdefault(author, {"author": author, "n": 0, "reach": None, "negative": 0})
        a["n"] += 1
        a["negative"] += sentiment == "negative"
        if reach is not None and (a["reach"] is None or reach > a["reach"]):
            a["reach"] = reach
    authors = sorted(found.values(), key=lambda a: (-a["n"], a["author"]))
    return {"by_volume": authors[:limit],
            "by_reach": sorted((a for a in authors if a["reach"] is not None),
                               key=lambda a: (-a["reach"], -a["n"], a["author"]))[:limit],
            "sampled": len(rows) == sample, "sample": sample}


def _cached(name: str, compute, sel: Selection, seconds: int = 300):
    """A slow part kept for a few minutes per selection and newest item: the same dashboard opened by several
    people, or reloaded, reads the facts once."""
    newest = Fact.objects.order_by("-id").values_list("id", flat=True).first() or 0
    key = f"insights-{name}:" + ":".join(f"{k}={v}" for k, v in sorted(sel.params().items())) + f":{newest}"
    found = cache.get(key)
    if found is None:
        found = compute(sel)
        cache.set(key, found, seconds)
    return found


def cached_terms(sel: Selection, seconds: int = 300) -> list[dict]:
    """``terms``, cached: the sample is read and lemmatized once per selection and newest item."""
    return _cached("terms", terms, sel, seconds)


def cached_authors(sel: Selection, seconds: int = 300) -> dict:
    return _cached("authors", top_authors, sel, seconds)


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


def waited(convs, field: str) -> list[float]:
    """Minutes from each conversation's start to ``field`` (its first response, its resolution): on the business
    hours of its SLA where a policy applies (a question on Friday evening answered on Monday at 10 waited one
    business hour, not a weekend), on the clock where none does."""
    rows = list(convs.filter(**{f"{field}__isnull": False}).values_list("created_at", field, "sla__policy_id",
                                                                        "team_id"))
    policies = {p.pk: p for p in SLAPolicy.objects.filter(pk__in={r[2] for r in rows if r[2]})
                .select_related("calendar")}
    calendars: dict[tuple, sla.Hours] = {}
    out = []
    for start, done, policy_id, team_id in rows:
        policy = policies.get(policy_id)
        if policy is None:
            out.append((done - start).total_seconds() / 60)
            continue
        key = (policy.pk, team_id)
        if key not in calendars:
            calendars[key] = sla.hours_for(policy, SimpleNamespace(team_id=team_id))
        out.append(calendars[key].between(start, done))
    return out


def conversations(days: int = 30, team=None, agent=None, end: datetime | None = None):
    end = end or timezone.now()
    convs = Conversation.objects.filter(created_at__gte=end - timedelta(days=days), created_at__lt=end)
    if team is not None:
        convs = convs.filter(team=team)
    if agent is not None:
        convs = convs.filter(assignee=agent)
    return convs


def kpis(days: int = 30, team=None, end: datetime | None = None, agent=None) -> dict:
    """First response and resolution (median, p90; on business hours where an SLA applies), SLA attainment, reopen and automation rate, satisfaction
    (CSAT and NPS), over conversations created in the period, for the company, a team or an agent (demo
    conversations included: the demo is meant to show these)."""
    convs = conversations(days, team, agent, end)
    first = waited(convs, "first_response_at")
    resolved = [m / 60 for m in waited(convs, "resolved_at")]
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



def cached_ideas(sel: Selection, seconds: int = 300) -> dict:
    """The idea clusters of a selection (``insights.ideas``), kept a few minutes: clustering embeds texts."""
    from resonanz.insights import ideas

    return _cached("ideas", ideas.clusters, sel, seconds)
