"""The launch monitor: for a product or campaign query and a start date, the window after the start
against a baseline of the same length just before it — volume per day and sentiment (from the rollups),
and the terms over-represented in the window (log-odds with an informative prior, ``analysis.terms``),
so a product manager sees how the launch went and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Sum
from django.utils import timezone

from resonanz.analysis.terms import driving_terms
from resonanz.insights.models import Fact, ListeningQuery, Rollup

WINDOWS = (7, 14, 30, 90)
SAMPLE = 400
SENTIMENTS = ("negative", "neutral", "positive")


@dataclass
class Launch:
    query: ListeningQuery
    start: date
    days: int = 14

    @property
    def window(self) -> tuple[datetime, datetime]:
        begin = timezone.make_aware(datetime.combine(self.start, time.min))
        return begin, min(begin + timedelta(days=self.days), timezone.now())

    @property
    def baseline(self) -> tuple[datetime, datetime]:
        begin, end = self.window
        length = max(end - begin, timedelta(hours=1))
        return begin - length, begin


def candidates():
    """Queries a launch monitor makes sense for: products and campaigns first, then the rest."""
    return sorted(ListeningQuery.objects.all(), key=lambda q: (q.tag not in ("product", "campaign"), q.name))


def _counts(query: ListeningQuery, start: datetime, end: datetime) -> dict[str, int]:
    out = dict.fromkeys(SENTIMENTS, 0)
    for r in (Rollup.objects.filter(query_id=query.pk, hour__gte=start, hour__lt=end)
              .values("sentiment").annotate(c=Sum("n"))):
        if r["sentiment"] in out:
            out[r["sentiment"]] += r["c"]
    return out


def _daily(query: ListeningQuery, start: datetime, end: datetime) -> list[dict]:
    days: dict[date, dict[str, int]] = {}
    d, last = timezone.localtime(start).date(), timezone.localtime(end - timedelta(microseconds=1)).date()
    while d <= last:
        days[d] = dict.fromkeys(SENTIMENTS, 0)
        d += timedelta(days=1)
    for r in (Rollup.objects.filter(query_id=query.pk, hour__gte=start, hour__lt=end)
              .values("hour", "sentiment").annotate(c=Sum("n"))):
        d = timezone.localtime(r["hour"]).date()
        if d in days and r["sentiment"] in SENTIMENTS:
            days[d][r["sentiment"]] += r["c"]
    return [{"day": d.isoformat(), **v} for d, v in sorted(days.items())]


def _texts(query: ListeningQuery, start: datetime, end: datetime) -> list[tuple[str, str]]:
    rows = (Fact.objects.filter(mentions__query=query, hour__gte=start, hour__lt=end)
            .select_related("post", "message").order_by("-at")[:SAMPLE])
    return [((f.post or f.message).analysis_text, f.language) for f in rows]


def _summary(counts: dict[str, int]) -> dict:
    total = sum(counts.values())
    return {**counts, "total": total,
            "negative_share": counts["negative"] / total if total else None,
            "positive_share": counts["positive"] / total if total else None}


def report(launch: Launch) -> dict:
    begin, end = launch.window
    base_begin, base_end = launch.baseline
    after, before = _summary(_counts(launch.query, begin, end)), _summary(_counts(launch.query, base_begin, base_end))
    hours_after = max((end - begin).total_seconds() / 86400, 1 / 24)
    hours_before = max((base_end - base_begin).total_seconds() / 86400, 1 / 24)
    terms = driving_terms(_texts(launch.query, begin, end), _texts(launch.query, base_begin, base_end),
                          top=12, min_count=2, min_z=1.645)
    return {
        "query": launch.query, "start": launch.start, "days": launch.days,
        "window": (begin, end), "baseline": (base_begin, base_end), "after": after, "before": before,
        "per_day_after": after["total"] / hours_after, "per_day_before": before["total"] / hours_before,
        "change": (after["total"] - before["total"]) / before["total"] if before["total"] else None,
        "series": _daily(launch.query, base_begin, end), "terms": [t.to_dict() for t in terms],
    }
