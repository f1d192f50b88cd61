"""Service levels on business hours: calendars, the policy that applies, due times, warnings and breaches."""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from resonanz.automation.models import BusinessCalendar, ConversationSLA, SLAPolicy
from resonanz.core.errors import ActionError
from resonanz.inbox.eventlog import record

log = logging.getLogger("resonanz.automation")
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
MAX_DAYS = 800  # a calendar without opening hours never ends a search


class Hours:
    """Opening hours in a time zone; ``add`` and ``between`` count only open minutes."""

    def __init__(self, hours: dict | None, holidays: list[str] | None = None, tz: str = ""):
        self.tz = ZoneInfo(tz or settings.TIME_ZONE)
        self.always = hours is None
        self.days: dict[int, list[tuple[time, time]]] = {}
        for key, spans in (hours or {}).items():
            self.days[int(key)] = sorted((_t(a), _t(b)) for a, b in spans)
        self.holidays = {date.fromisoformat(d) for d in holidays or []}

    @classmethod
    def of(cls, calendar: BusinessCalendar | None) -> Hours:
        if calendar is None:
            return cls(None)
        return cls(calendar.hours, calendar.holidays, calendar.timezone)

    def _spans(self, day: date):
        if day in self.holidays:
            return
        for start, end in self.days.get(day.weekday(), []):
            a = datetime.combine(day, start, self.tz)
            b = datetime.combine(day, end, self.tz) if end != time(0) else datetime.combine(
                day + timedelta(days=1), time(0), self.tz)
            if b > a:
                yield a, b

    def add(self, start: datetime, minutes: float) -> datetime:
        """The moment ``minutes`` open minutes after ``start``."""
        if self.always:
            return start + timedelta(minutes=minutes)
        if not any(self.days.values()):
            raise ActionError("The calendar has no opening hours.", "hours")
        remaining = timedelta(minutes=minutes)
        local = start.astimezone(self.tz)
        day = local.date()
        for _ in range(MAX_DAYS):
            for a, b in self._spans(day):
                if b <= local:
                    continue
                a = max(a, local)
                if b - a >= remaining:
                    return (a + remaining).astimezone(start.tzinfo or ZoneInfo("UTC"))
                remaining -= b - a
            day += timedelta(days=1)
        raise ActionError("The calendar has no opening hours in the next two years.", "hours")

    def between(self, start: datetime, end: datetime) -> float:
        """Open minutes between two moments."""
        if end <= start:
            return 0.0
        if self.always:
            return (end - start).total_seconds() / 60
        total, day = 0.0, start.astimezone(self.tz).date()
        last = end.astimezone(self.tz).date()
        while day <= last:
            for a, b in self._spans(day):
                lo, hi = max(a, start), min(b, end)
                if hi > lo:
                    total += (hi - lo).total_seconds() / 60
            day += timedelta(days=1)
        return total


def _t(value: str) -> time:
    if value in ("24:00", "24:00:00"):
        return time(0)
    return time.fromisoformat(value)


def parse_hours(text: str) -> dict:
    """"mon-fri 09:00-17:00" / "sat 10:00-14:00, 15:00-18:00" lines → {"0": [["09:00","17:00"]], ...}."""
    hours: dict[str, list[list[str]]] = {}
    for line in (text or "").splitlines():
        line = line.strip().lower()
        if not line or line.startswith("#"):
            continue
        try:
            days_part, spans_part = line.split(None, 1)
        except ValueError:
            raise ActionError(f"“{line}”: write a day and hours, e.g. “mon-fri 09:00-17:00”.", "hours") from None
        days = _days(days_part, line)
        for span in spans_part.split(","):
            try:
                a, b = (s.strip() for s in span.split("-"))
                ta, tb = _t(a), _t(b)
            except ValueError:
                raise ActionError(f"“{span.strip()}” is not a time span like 09:00-17:00.", "hours") from None
            if tb != time(0) and tb <= ta:
                raise ActionError(f"“{span.strip()}” ends before it starts.", "hours")
            for d in days:
                hours.setdefault(str(d), []).append([ta.strftime("%H:%M"), "24:00" if tb == time(0) else
                                                     tb.strftime("%H:%M")])
    return hours


def _days(part: str, line: str) -> list[int]:
    def one(name):
        name = name[:3]
        if name not in WEEKDAYS:
            raise ActionError(f"“{line}”: unknown weekday {name!r}; use mon … sun.", "hours")
        return WEEKDAYS.index(name)

    if "-" in part:
        a, b = part.split("-", 1)
        return list(range(one(a), one(b) + 1))
    return [one(p) for p in part.split(",")]


def format_hours(hours: dict) -> str:
    return "\n".join(f"{WEEKDAYS[int(d)]} " + ", ".join(f"{a}-{b}" for a, b in spans)
                     for d, spans in sorted(hours.items(), key=lambda kv: int(kv[0])))


def parse_holidays(text: str) -> list[str]:
    out = []
    for line in (text or "").replace(",", "\n").splitlines():
        token = line.strip().split(" ")[0] if line.strip() else ""
        if not token:
            continue
        try:
            out.append(date.fromisoformat(token).isoformat())
        except ValueError:
            raise ActionError(f"“{token}” is not a date like 2025-12-25.", "holidays") from None
    return sorted(set(out))


# --- policies and due times ------------------------------------------------------------------------------------


def policy_for(conversation) -> SLAPolicy | None:
    """The most specific enabled policy: team, channel and priority each count, empty means any."""
    best, best_score = None, -1
    for policy in SLAPolicy.objects.filter(enabled=True).order_by("id"):
        if policy.team_id and policy.team_id != conversation.team_id:
            continue
        if policy.channel_id and policy.channel_id != conversation.channel_id:
            continue
        if policy.priority and policy.priority != conversation.priority:
            continue
        score = 4 * bool(policy.team_id) + 2 * bool(policy.channel_id) + bool(policy.priority)
        if score > best_score:
            best, best_score = policy, score
    return best


def hours_for(policy: SLAPolicy, conversation) -> Hours:
    calendar = policy.calendar
    if calendar is None and conversation.team_id:
        calendar = BusinessCalendar.objects.filter(team_id=conversation.team_id).first()
    return Hours.of(calendar)


def refresh(conversation) -> ConversationSLA | None:
    """(Re)compute due times after creation or a change of team, priority or channel."""
    policy = policy_for(conversation)
    current = ConversationSLA.objects.filter(conversation=conversation).first()
    if policy is None:
        if current and current.policy_id:
            current.delete()
        return None
    if current and current.policy_id == policy.pk:
        return current
    hours = hours_for(policy, conversation)
    start = conversation.created_at
    values = {"policy": policy, "first_response_due": None, "resolution_due": None,
              "first_response_warn_at": None, "resolution_warn_at": None}
    if policy.first_response_minutes:
        values["first_response_due"] = hours.add(start, policy.first_response_minutes)
        values["first_response_warn_at"] = hours.add(start, max(0, policy.first_response_minutes -
                                                                policy.warn_before_minutes))
    if policy.resolution_minutes:
        values["resolution_due"] = hours.add(start, policy.resolution_minutes)
        values["resolution_warn_at"] = hours.add(start, max(0, policy.resolution_minutes -
                                                            policy.warn_before_minutes))
    with transaction.atomic():
        sla, _ = ConversationSLA.objects.update_or_create(conversation=conversation, defaults=values)
        record(conversation, "sla_applied", policy=policy.pk, first_response_due=_iso(sla.first_response_due),
               resolution_due=_iso(sla.resolution_due), reason=f"SLA policy “{policy.name}”")
    return sla


def _iso(value):
    return value.isoformat() if value else None


def state(sla: ConversationSLA | None, conversation, now=None) -> dict:
    """For display: per target the due time and ok / warning / breached / met."""
    if sla is None:
        return {}
    now = now or timezone.now()
    out = {}
    for target, done_at in (("first_response", conversation.first_response_at),
                            ("resolution", conversation.resolved_at)):
        due = getattr(sla, f"{target}_due")
        if due is None:
            continue
        warn_at = getattr(sla, f"{target}_warn_at")
        if done_at:
            status = "met" if done_at <= due else "late"
        elif now >= due:
            status = "breached"
        elif warn_at and now >= warn_at:
            status = "warning"
        else:
            status = "ok"
        out[target] = {"due": due, "status": status}
    return out
