"""Listening queries and their mentions, the per-item facts and hourly rollups dashboards read, spike
alerts, goals and satisfaction surveys.

``Fact`` is one analysed item (an inbound message or a public post) in the few columns a dashboard
filters and counts by; the pipeline step writes it once the engine has read the item, so dashboards never
join messages, posts and analyses. ``Rollup``/``IntentRollup`` count facts per hour, query (0 = every
item), channel, language and sentiment (or intent); the step recomputes the hours a batch touched, so a
re-read post or a retried batch can never count twice. ``DailyRollup``/``DailyIntentRollup`` (and their urgency
and entity counterparts) sum the hourly rows per day of the company's time zone for long ranges
(``insights/days.py``); ``DailyEntityTotal`` sums the entities' without channel and language.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ListeningQuery(models.Model):
    class Tag(models.TextChoices):
        BRAND = "brand", _("Our brand")
        COMPETITOR = "competitor", _("Competitor")
        PRODUCT = "product", _("Product")
        CAMPAIGN = "campaign", _("Campaign")

    class Backfill(models.TextChoices):
        IDLE = "idle", _("up to date")
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        FAILED = "failed", _("failed")

    name = models.CharField(_("name"), max_length=120, unique=True)
    expression = models.TextField(_("query"), help_text=_(
        'Words and "phrases" with AND, OR, NOT and parentheses; adjacent words mean AND; liefer* matches '
        "every word starting with liefer. Inflections are found: Lieferung finds Lieferungen."))
    tag = models.CharField(_("tag"), max_length=12, choices=Tag.choices, default=Tag.BRAND)
    languages = models.JSONField(_("languages"), default=list, blank=True, help_text="empty: every language")
    channel_kinds = models.JSONField(_("channel kinds"), default=list, blank=True, help_text="empty: every kind")
    channels = models.ManyToManyField("connectors.Channel", blank=True, related_name="+",
                                      verbose_name=_("channels"))
    include_messages = models.BooleanField(_("also match messages to us"), default=False)
    launch_at = models.DateField(_("launch date"), null=True, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    backfill_state = models.CharField(max_length=10, choices=Backfill.choices, default=Backfill.IDLE)
    backfill_done = models.PositiveIntegerField(default=0)
    backfill_total = models.PositiveIntegerField(default=0)
    backfill_error = models.TextField(blank=True)
    mention_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["tag", "name"]
        verbose_name_plural = "listening queries"

    def __str__(self) -> str:
        return self.name

    @property
    def backfill_percent(self) -> int:
        return round(100 * self.backfill_done / self.backfill_total) if self.backfill_total else 100


class Fact(models.Model):
    """One analysed inbound message or public post, in the columns dashboards count by."""

    post = models.OneToOneField("listening.Post", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="fact")
    message = models.OneToOneField("inbox.Message", null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="fact")
    at = models.DateTimeField()
    hour = models.DateTimeField(db_index=True)
    channel = models.ForeignKey("connectors.Channel", on_delete=models.CASCADE, related_name="+")
    language = models.CharField(max_length=8)
    sentiment = models.CharField(max_length=10)
    intents = models.CharField(max_length=300, blank=True)  # ",complaint,outage,"
    # "high", "medium" or "low" (``insights.topics.urgency_level``); "" on facts from before it was kept
    urgency = models.CharField(max_length=6, blank=True, default="")
    entities = models.CharField(max_length=1000, blank=True, default="")  # ",competitor:Globex,product:Kettle,"
    author = models.CharField(max_length=320, blank=True)
    reach = models.PositiveIntegerField(null=True, blank=True)
    is_demo = models.BooleanField(default=False)

    class Meta:
        # newest first within a period: the driving-terms sample reads the latest items of a selection
        indexes = [models.Index(fields=["at"], name="fact_at")]
        constraints = [models.CheckConstraint(
            condition=models.Q(message__isnull=False, post__isnull=True)
            | models.Q(message__isnull=True, post__isnull=False), name="fact_of_message_or_post")]

    @property
    def kind(self) -> str:
        return "post" if self.post_id else "message"


class Mention(models.Model):
    """An item a listening query matched."""

    query = models.ForeignKey(ListeningQuery, on_delete=models.CASCADE, related_name="mentions")
    fact = models.ForeignKey(Fact, on_delete=models.CASCADE, related_name="mentions")
    hour = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["query", "fact"], name="mention_unique_query_fact")]
        indexes = [models.Index(fields=["query", "hour"], name="mention_query_hour")]


class Rollup(models.Model):
    hour = models.DateTimeField()
    query_id = models.IntegerField(default=0)  # 0: every analysed item
    channel_id = models.IntegerField()
    language = models.CharField(max_length=8)
    sentiment = models.CharField(max_length=10)
    n = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["query_id", "hour"], name="rollup_query_hour")]
        constraints = [models.UniqueConstraint(fields=["hour", "query_id", "channel_id", "language", "sentiment"],
                                               name="rollup_unique_cell")]


class IntentRollup(models.Model):
    hour = models.DateTimeField()
    query_id = models.IntegerField(default=0)
    channel_id = models.IntegerField()
    language = models.CharField(max_length=8)
    intent = models.CharField(max_length=30)
    n = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["query_id", "hour"], name="intentrollup_query_hour")]
        constraints = [models.UniqueConstraint(fields=["hour", "query_id", "channel_id", "language", "intent"],
                                               name="intentrollup_unique_cell")]


class UrgencyRollup(models.Model):
    """Items per hour, query, channel, language and urgency level (high, medium, low)."""

    hour = models.DateTimeField()
    query_id = models.IntegerField(default=0)
    channel_id = models.IntegerField()
    language = models.CharField(max_length=8)
    urgency = models.CharField(max_length=6)
    n = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["query_id", "hour"], name="urgencyrollup_query_hour")]
        constraints = [models.UniqueConstraint(fields=["hour", "query_id", "channel_id", "language", "urgency"],
                                               name="urgencyrollup_unique_cell")]


class EntityRollup(models.Model):
    """Items naming a catalog entity (a product, brand, competitor) per hour, query, channel, language and
    sentiment: the entities chart and the entity spike detectors read it."""

    hour = models.DateTimeField()
    query_id = models.IntegerField(default=0)
    channel_id = models.IntegerField()
    language = models.CharField(max_length=8)
    kind = models.CharField(max_length=12)
    entity = models.CharField(max_length=120)
    sentiment = models.CharField(max_length=10)
    n = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["query_id", "hour"], name="entityrollup_query_hour")]
        constraints = [models.UniqueConstraint(
            fields=["hour", "query_id", "channel_id", "language", "kind", "entity", "sentiment"],
            name="entityrollup_unique_cell")]


class DailyRollup(models.Model):
    """``Rollup`` summed per day of the company's time zone (``insights/days.py``): what long ranges read."""

    day = models.DateField()
    query_id = models.IntegerField(default=0)
    channel_id = models.IntegerField()
    language = models.CharField(max_length=8)
    sentiment = models.CharField(max_length=10)
    n = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["query_id", "day"], name="dailyrollup_query_day")]
        constraints = [models.UniqueConstraint(fields=["day", "query_id", "channel_id", "language", "sentiment"],
                                               name="dailyrollup_unique_cell")]


class DailyIntentRollup(models.Model):
    day = models.DateField()
    query_id = models.IntegerField(default=0)
    channel_id = models.IntegerField()
    language = models.CharField(max_length=8)
    intent = models.CharField(max_length=30)
    n = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["query_id", "day"], name="dailyintentrollup_query_day")]
        constraints = [models.UniqueConstraint(fields=["day", "query_id", "channel_id", "language", "intent"],
                                               name="dailyintentrollup_unique_cell")]


class DailyUrgencyRollup(models.Model):
    day = models.DateField()
    query_id = models.IntegerField(default=0)
    channel_id = models.IntegerField()
    language = models.CharField(max_length=8)
    urgency = models.CharField(max_length=6)
    n = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["query_id", "day"], name="dailyurgencyrollup_query_day")]
        constraints = [models.UniqueConstraint(fields=["day", "query_id", "channel_id", "language", "urgency"],
                                               name="dailyurgencyrollup_unique_cell")]


class DailyEntityRollup(models.Model):
    day = models.DateField()
    query_id = models.IntegerField(default=0)
    channel_id = models.IntegerField()
    language = models.CharField(max_length=8)
    kind = models.CharField(max_length=12)
    entity = models.CharField(max_length=120)
    sentiment = models.CharField(max_length=10)
    n = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["query_id", "day"], name="dailyentityrollup_query_day")]
        constraints = [models.UniqueConstraint(
            fields=["day", "query_id", "channel_id", "language", "kind", "entity", "sentiment"],
            name="dailyentityrollup_unique_cell")]


class DailyEntityTotal(models.Model):
    """``DailyEntityRollup`` without channel and language: the entities chart of a selection without a channel
    or language filter (the usual one) reads a year as 365 × entities × sentiments rows, not that times every
    channel and language. Counted from the hourly rows with the other daily rows (``days.recount_days``)."""

    day = models.DateField()
    query_id = models.IntegerField(default=0)
    kind = models.CharField(max_length=12)
    entity = models.CharField(max_length=120)
    sentiment = models.CharField(max_length=10)
    n = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["query_id", "day"], name="dailyentitytotal_query_day")]
        constraints = [models.UniqueConstraint(fields=["day", "query_id", "kind", "entity", "sentiment"],
                                               name="dailyentitytotal_unique_cell")]


class DailyRollupState(models.Model):
    """One row: the time zone the daily rollups were built for. Dashboards read them only while it is the
    installation's ``TIME_ZONE``; after a change they read hourly rows until the days are rebuilt."""

    zone = models.CharField(max_length=64)
    built_at = models.DateTimeField(auto_now=True)


class DetectorState(models.Model):
    """A spike detector's saved state per watched series ("volume:q12", "negative:all", ...)."""

    key = models.CharField(max_length=200, unique=True)
    state = models.JSONField()
    last_hour = models.DateTimeField()


class Alert(models.Model):
    class Kind(models.TextChoices):
        VOLUME = "volume", _("Volume spike")
        NEGATIVE = "negative", _("Negative share rising")

    key = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    query = models.ForeignKey(ListeningQuery, null=True, blank=True, on_delete=models.CASCADE,
                              related_name="alerts")
    label = models.CharField(max_length=200)
    hour = models.DateTimeField()
    observed = models.FloatField()
    expected = models.FloatField()
    score = models.FloatField()
    terms = models.JSONField(default=list, blank=True)
    fact_ids = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+")
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-hour", "-id"]
        constraints = [models.UniqueConstraint(fields=["key", "hour"], name="alert_unique_key_hour")]

    @property
    def intent(self) -> str:
        """The intent (topic) that spiked, for an intent alert."""
        return self.key.removeprefix("intent:") if self.key.startswith("intent:") else ""

    @property
    def entity(self) -> str:
        """The product, brand or competitor that spiked, for an entity alert ("entity:competitor:Globex")."""
        return self.key.split(":", 2)[2] if self.key.startswith("entity:") and self.key.count(":") >= 2 else ""

    @property
    def entity_kind(self) -> str:
        return self.key.split(":", 2)[1] if self.entity else ""

    @property
    def ratio(self) -> float | None:
        """How far above the expected level (observed / expected), for a volume alert."""
        return self.observed / self.expected if self.kind == "volume" and self.expected > 0 else None


class Goal(models.Model):
    class Kpi(models.TextChoices):
        FIRST_RESPONSE = "first_response", _("First response, median (minutes)")
        RESOLUTION = "resolution", _("Resolution, median (hours)")
        SLA = "sla", _("SLA attainment (%)")
        CSAT = "csat", _("Satisfaction, average (1–5)")
        NEGATIVE = "negative", _("Negative share (%)")
        REOPEN = "reopen", _("Reopen rate (%)")
        AUTOMATION = "automation", _("Automation rate (%)")
        NPS = "nps", _("Net promoter score (−100 to 100)")

    team = models.ForeignKey("inbox.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("team"))
    kpi = models.CharField(_("KPI"), max_length=20, choices=Kpi.choices)
    target = models.FloatField(_("target"))
    period_days = models.PositiveIntegerField(_("period (days)"), default=30)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "kpi"], name="goal_unique_team_kpi")]

    @property
    def lower_is_better(self) -> bool:
        return self.kpi in ("first_response", "resolution", "negative", "reopen")


def _token() -> str:
    return secrets.token_urlsafe(24)


class Survey(models.Model):
    """One satisfaction survey per resolved conversation, answered once through its secret link."""

    conversation = models.OneToOneField("inbox.Conversation", on_delete=models.CASCADE, related_name="survey")
    token = models.CharField(max_length=64, unique=True, default=_token)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    # "How likely are you to recommend us?" 0–10, asked next to the rating (NPS: promoters 9–10, detractors 0–6).
    recommend = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)


class AlertChannel(models.Model):
    """Where a team's early warnings go besides the desk's list: email to its supervisors, an in-app
    notification for its members, or a signed outgoing webhook (``X-Resonanz-Signature``: ``sha256=`` +
    HMAC-SHA256 of the raw body with ``secret``). No team: the whole company's alerts."""

    class Kind(models.TextChoices):
        IN_APP = "in_app", _("In-app notification")
        EMAIL = "email", _("Email")
        WEBHOOK = "webhook", _("Webhook (signed)")

    team = models.ForeignKey("inbox.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("team"))
    kind = models.CharField(_("channel"), max_length=10, choices=Kind.choices)
    url = models.URLField(_("webhook address"), blank=True, max_length=500)
    secret = models.CharField(max_length=80, blank=True, default="")
    only_query = models.ForeignKey(ListeningQuery, null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="+", verbose_name=_("only alerts of this query"))
    enabled = models.BooleanField(default=True)
    last_error = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["team__name", "kind", "id"]


class Notification(models.Model):
    """An in-app notification for one person (the bell in the desk's header); read once opened."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="resonanz_notifications")
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    alert = models.ForeignKey(Alert, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications")
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_user_unread")]
