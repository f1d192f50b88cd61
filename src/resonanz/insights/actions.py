"""Every change to listening queries, alerts, goals and surveys goes through here.

Saving a query validates it (the expression is parsed, errors carry the character position), writes it,
and queues the backfill that matches it over the stored items; the worker runs ``run_backfill`` with its
progress on the query row, and ``resonanz insights backfill`` runs it in the terminal with a bar.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from resonanz.connectors import drivers
from resonanz.connectors.models import Channel
from resonanz.core import outbound
from resonanz.core.errors import ActionError
from resonanz.core.events import publish
from resonanz.core.sanitize import clean_text
from resonanz.inbox.eventlog import record
from resonanz.insights import backfill, querylang
from resonanz.insights.delivery import new_secret
from resonanz.insights.facts import refresh_rollups
from resonanz.insights.matching import compile_query
from resonanz.insights.models import (
    Alert,
    AlertChannel,
    Fact,
    Goal,
    ListeningQuery,
    Mention,
    Notification,
    Survey,
)

log = logging.getLogger("resonanz.insights")
LANGUAGE_VALUES = ("de", "en", "other")


class QueryError(ActionError):
    """A query expression that cannot be read: ``position`` is where (0-based)."""

    def __init__(self, exc: querylang.QuerySyntaxError) -> None:
        super().__init__(str(exc), "expression")
        self.position = exc.position

    def as_dict(self) -> dict:
        return {"expression": [self.message], "position": self.position}


def parse_expression(expression) -> querylang.Node:
    try:
        return querylang.parse(expression)
    except querylang.QuerySyntaxError as exc:
        raise QueryError(exc) from None


def clean_scope(*, languages=None, channel_kinds=None, channels=None) -> dict:
    """Validated languages, channel kinds and channels of a query (or a preview)."""
    languages = list(languages or [])
    bad = [v for v in languages if v not in LANGUAGE_VALUES]
    if bad:
        raise ActionError(f"Unknown language {bad[0]!r}; use {', '.join(LANGUAGE_VALUES)}.", "languages")
    channel_kinds_list = list(channel_kinds or [])
    unknown = [k for k in channel_kinds_list if k not in drivers.kinds()]
    if unknown:
        raise ActionError(f"Unknown channel kind {unknown[0]!r}; available: {', '.join(drivers.kinds())}.",
                          "channel_kinds")
    ids = []
    for c in channels or []:
        pk = getattr(c, "pk", c)
        if isinstance(pk, bool) or not isinstance(pk, int):
            raise ActionError("Channels are given by their id.", "channels")
        ids.append(pk)
    found = set(Channel.objects.filter(pk__in=ids).values_list("pk", flat=True))
    if set(ids) - found:
        raise ActionError(f"No channel with id {sorted(set(ids) - found)[0]}.", "channels")
    return {"languages": sorted(set(languages)), "channel_kinds": sorted(set(channel_kinds_list)),
            "channels": sorted(found)}


def save_query(query: ListeningQuery | None, actor, *, name: str, expression: str, tag: str = "brand",
               languages=None, channel_kinds=None, channels=None, include_messages: bool = False,
               enabled: bool = True, launch_at=None) -> ListeningQuery:
    name = clean_text(name or "", 120).strip()
    if not name:
        raise ActionError("Give the query a name.", "name")
    if ListeningQuery.objects.filter(name=name).exclude(pk=getattr(query, "pk", None)).exists():
        raise ActionError(f"A query named “{name}” exists already.", "name", status=409)
    expression = clean_text(expression or "", querylang.MAX_LENGTH + 1).strip()
    parse_expression(expression)
    if tag not in ListeningQuery.Tag.values:
        raise ActionError(f"Tag must be one of {', '.join(ListeningQuery.Tag.values)}.", "tag")
    scope = clean_scope(languages=languages, channel_kinds=channel_kinds, channels=channels)
    query = query or ListeningQuery(created_by=actor)
    rematch = (query.pk is None or query.expression != expression or query.languages != scope["languages"]
               or query.channel_kinds != scope["channel_kinds"] or query.include_messages != bool(include_messages)
               or sorted(query.channels.values_list("pk", flat=True)) != scope["channels"]
               or (enabled and not query.enabled))
    with transaction.atomic():
        query.name, query.expression, query.tag = name, expression, tag
        query.languages, query.channel_kinds = scope["languages"], scope["channel_kinds"]
        query.include_messages, query.enabled, query.launch_at = bool(include_messages), bool(enabled), launch_at
        if rematch and query.enabled:
            query.backfill_state, query.backfill_done, query.backfill_error = ListeningQuery.Backfill.QUEUED, 0, ""
        query.save()
        query.channels.set(scope["channels"])
    if rematch and query.enabled:
        transaction.on_commit(lambda: _queue_backfill(query.pk))
    publish("listening_query.saved", query_id=query.pk)
    return query


def _queue_backfill(query_id: int) -> None:
    try:
        backfill.backfill_task.delay(query_id)
    except Exception:
        log.warning("broker unreachable; matching query %s here", query_id, exc_info=True)
        backfill.run_backfill(query_id)


def delete_query(query: ListeningQuery) -> None:
    hours = list(Mention.objects.filter(query=query).values_list("hour", flat=True).distinct())
    with transaction.atomic():
        query.delete()
    refresh_rollups(hours)
    publish("listening_query.deleted", query_id=query.pk)


PREVIEW_DAYS = 30
PREVIEW_SCAN = 5000


def preview(*, expression: str, languages=None, channel_kinds=None, channels=None, include_messages=False,
            days: int = PREVIEW_DAYS, sample: int = 10) -> dict:
    """What a query would match over the last ``days`` days, without saving anything.

    Scans at most PREVIEW_SCAN of the newest items in scope (and says so), so a preview answers in a
    second even on a large installation; the saved query's backfill then matches everything.
    """
    node = parse_expression(expression)
    scope = clean_scope(languages=languages, channel_kinds=channel_kinds, channels=channels)
    q = ListeningQuery(expression=expression, languages=scope["languages"], channel_kinds=scope["channel_kinds"],
                       include_messages=bool(include_messages))
    compiled = compile_query(q, scope["channels"])
    since = timezone.now() - timedelta(days=days)
    facts = Fact.objects.filter(at__gte=since)
    if not include_messages:
        facts = facts.filter(post__isnull=False)
    if scope["languages"]:
        facts = facts.filter(language__in=scope["languages"])
    if scope["channels"]:
        facts = facts.filter(channel_id__in=scope["channels"])
    if scope["channel_kinds"]:
        facts = facts.filter(channel__kind__in=scope["channel_kinds"])
    in_scope = facts.count()
    rows = list(facts.order_by("-at").select_related("post", "post__channel", "message", "message__channel")
                [:PREVIEW_SCAN])
    matched, per_day, sentiments = [], {}, {"negative": 0, "neutral": 0, "positive": 0}
    for f in rows:
        item = f.post or f.message
        doc = querylang.Document.of(item.analysis_text, f.language)
        if compiled.applies(is_post=f.post_id is not None, language=f.language, channel_id=f.channel_id,
                            channel_kind=item.channel.kind) and querylang.matches(compiled.node, doc):
            matched.append(f)
            day = f.at.date().isoformat()
            per_day[day] = per_day.get(day, 0) + 1
            sentiments[f.sentiment] = sentiments.get(f.sentiment, 0) + 1
    return {
        "days": days, "scanned": len(rows), "in_scope": in_scope, "complete": len(rows) == in_scope,
        "matches": len(matched), "per_day": dict(sorted(per_day.items())), "sentiment": sentiments,
        "looks_for": querylang.words(node),
        "examples": [{"id": f.pk, "kind": f.kind, "at": f.at.isoformat(), "sentiment": f.sentiment,
                      "language": f.language, "channel": (f.post or f.message).channel.name,
                      "title": getattr(f.post, "title", "") if f.post_id else "",
                      "text": (f.post or f.message).analysis_text[:280]} for f in matched[:sample]],
    }


def mention_counts() -> dict[int, int]:
    return dict(Mention.objects.values("query_id").annotate(n=Count("id")).values_list("query_id", "n"))


# --- alerts, goals, surveys -----------------------------------------------------------------------------------

def acknowledge_alert(alert: Alert, user) -> Alert:
    if alert.acknowledged_at is None:
        alert.acknowledged_by, alert.acknowledged_at = user, timezone.now()
        alert.save(update_fields=["acknowledged_by", "acknowledged_at"])
        publish("insights.alert_acknowledged", alert_id=alert.pk)
    return alert


def save_goal(*, team, kpi: str, target, period_days=30) -> Goal:
    if kpi not in Goal.Kpi.values:
        raise ActionError(f"KPI must be one of {', '.join(Goal.Kpi.values)}.", "kpi")
    try:
        target = float(target)
        period_days = int(period_days)
    except (TypeError, ValueError):
        raise ActionError("Target and period must be numbers.", "target") from None
    if kpi == "nps":
        if not -100 <= target <= 100:
            raise ActionError("A net promoter score lies between −100 and 100.", "target")
    elif not (target >= 0) or target > 1_000_000:
        raise ActionError("The target must be a number of at least 0.", "target")
    if not 1 <= period_days <= 366:
        raise ActionError("The period is 1 to 366 days.", "period_days")
    if kpi in ("sla", "negative", "reopen", "automation") and target > 100:
        raise ActionError("A share is at most 100 %.", "target")
    if kpi == "csat" and not 1 <= target <= 5:
        raise ActionError("Satisfaction is rated 1 to 5.", "target")
    goal, _ = Goal.objects.update_or_create(team=team, kpi=kpi,
                                            defaults={"target": target, "period_days": period_days})
    publish("insights.goal_saved", goal_id=goal.pk)
    return goal


def delete_goal(goal: Goal) -> None:
    goal.delete()


def open_survey(conversation) -> Survey:
    """The conversation's survey (made once; a conversation resolved twice keeps its first one)."""
    survey, _ = Survey.objects.get_or_create(conversation=conversation)
    return survey


def answer_recommend(survey: Survey, recommend) -> Survey:
    """Store the 0–10 answer to "how likely would you recommend us?" (the NPS question) once."""
    try:
        recommend = int(recommend)
    except (TypeError, ValueError):
        raise ActionError("Choose a number from 0 to 10.", "recommend") from None
    if not 0 <= recommend <= 10:
        raise ActionError("Choose a number from 0 to 10.", "recommend")
    with transaction.atomic():
        fresh = Survey.objects.select_for_update().get(pk=survey.pk)
        if fresh.recommend is not None:
            raise ActionError("This survey has been answered already. Thank you!", "recommend")
        fresh.recommend = recommend
        fresh.answered_at = fresh.answered_at or timezone.now()
        fresh.save(update_fields=["recommend", "answered_at"])
        record(fresh.conversation, "survey_answered", recommend=recommend)
    publish("insights.survey_answered", survey_id=fresh.pk, conversation_id=fresh.conversation_id)
    return fresh


def answer_survey(survey: Survey, *, rating, comment: str = "") -> Survey:
    """Store the customer's rating (1–5) once; a second answer is refused, a comment may follow the rating."""
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        raise ActionError("Choose a rating from 1 to 5.", "rating") from None
    if not 1 <= rating <= 5:
        raise ActionError("Choose a rating from 1 to 5.", "rating")
    comment = clean_text(comment or "", 2000).strip()
    with transaction.atomic():
        fresh = Survey.objects.select_for_update().get(pk=survey.pk)
        if fresh.rating is not None and (fresh.comment or not comment or fresh.rating != rating):
            raise ActionError("This survey has been answered already. Thank you!", "rating")
        fresh.rating, fresh.comment = rating, comment or fresh.comment
        fresh.answered_at = fresh.answered_at or timezone.now()
        fresh.save()
        record(fresh.conversation, "survey_answered", rating=rating, comment=bool(comment))
    publish("insights.survey_answered", survey_id=fresh.pk, conversation_id=fresh.conversation_id)
    return fresh


# --- where alerts go ------------------------------------------------------------------------------------------

def save_alert_channel(*, team=None, kind: str, url: str = "", only_query=None, enabled: bool = True,
                       channel: AlertChannel | None = None) -> AlertChannel:
    """A team's choice of where its early warnings go; a webhook gets a new secret when first saved."""
    if kind not in AlertChannel.Kind.values:
        raise ActionError(f"Channel must be one of {', '.join(AlertChannel.Kind.values)}.", "kind")
    url = (url or "").strip()
    if kind == AlertChannel.Kind.WEBHOOK:
        if not url:
            raise ActionError("A webhook needs the address it posts to (https://…).", "url")
        try:
            outbound.check_url(url)
        except Exception as exc:
            raise ActionError(str(getattr(exc, "message", exc)), "url") from None
    else:
        url = ""
    channel = channel or AlertChannel()
    channel.team, channel.kind, channel.url, channel.only_query = team, kind, url[:500], only_query
    channel.enabled = bool(enabled)
    if kind == AlertChannel.Kind.WEBHOOK and not channel.secret:
        channel.secret = new_secret()
    channel.last_error = ""
    channel.save()
    publish("insights.alert_channel_saved", channel_id=channel.pk)
    return channel


def delete_alert_channel(channel: AlertChannel) -> None:
    channel.delete()


def mark_notifications_read(user, ids=None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())
