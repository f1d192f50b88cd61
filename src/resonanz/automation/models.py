"""Rules, their runs, SLA policies on business-hour calendars, and approval of replies."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Rule(models.Model):
    """When <trigger> and <conditions>, do <actions>; rules run in ``position`` order."""

    class Trigger(models.TextChoices):
        MESSAGE_RECEIVED = "message_received", _("Message received")
        CONVERSATION_CREATED = "conversation_created", _("Conversation created")
        CONVERSATION_UPDATED = "conversation_updated", _("Conversation updated by a person")
        POST_RECEIVED = "post_received", _("Public post received")
        TIME_PASSED = "time_passed", _("Time passed (checked every few minutes)")
        SLA_WARNING = "sla_warning", _("SLA about to be breached")
        SLA_BREACHED = "sla_breached", _("SLA breached")

    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    trigger = models.CharField(_("trigger"), max_length=30, choices=Trigger.choices,
                               default=Trigger.MESSAGE_RECEIVED)
    # {"all": [...]} / {"any": [...]} groups of {"field", "op", "value"} leaves; {} matches everything.
    conditions = models.JSONField(_("conditions"), default=dict, blank=True)
    # [{"type": "assign_team", "team": 3}, {"type": "stop"}, ...]
    actions = models.JSONField(_("actions"), default=list, blank=True)
    position = models.IntegerField(_("position"), default=100, db_index=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    stop_processing = models.BooleanField(_("stop processing further rules when it acts"), default=False)
    fire_count = models.PositiveIntegerField(default=0)
    last_fired_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True, help_text="switched off by a failure")
    is_default = models.BooleanField(default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class RuleRun(models.Model):
    """A rule acted on one event. The unique (rule, event_key) makes a retried event never act twice."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="runs")
    event_key = models.CharField(max_length=200)
    trigger = models.CharField(max_length=30)
    conversation = models.ForeignKey("inbox.Conversation", null=True, blank=True, on_delete=models.CASCADE,
                                     related_name="rule_runs")
    post_id = models.BigIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    actions = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["rule", "event_key"], name="rulerun_unique_rule_event")]
        indexes = [models.Index(fields=["conversation", "id"], name="rulerun_conversation")]

    def __str__(self) -> str:
        return f"{self.rule_id} on {self.event_key}"


class AutomationState(models.Model):
    """Small named cursors and counters (the listening cursor, round-robin pointers)."""

    key = models.CharField(max_length=100, unique=True)
    value = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return self.key


def default_hours() -> dict:
    return {str(d): [["09:00", "17:00"]] for d in range(5)}


class BusinessCalendar(models.Model):
    """Opening hours per weekday (0 = Monday) and holidays; SLA targets count only these hours."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    team = models.OneToOneField("inbox.Team", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="calendar", verbose_name=_("team"))
    timezone = models.CharField(_("time zone"), max_length=60, blank=True,
                                help_text=_("Empty: the installation's time zone."))
    hours = models.JSONField(_("opening hours"), default=default_hours)
    holidays = models.JSONField(_("holidays"), default=list, blank=True)  # ["2025-12-25", ...]

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SLAPolicy(models.Model):
    """Targets for conversations of a team, priority and channel (empty = any); the most specific wins."""

    name = models.CharField(_("name"), max_length=120)
    team = models.ForeignKey("inbox.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("team"))
    priority = models.PositiveSmallIntegerField(_("priority"), null=True, blank=True,
                                                choices=[(1, _("Low")), (2, _("Normal")), (3, _("High")),
                                                         (4, _("Urgent"))])
    channel = models.ForeignKey("connectors.Channel", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="+", verbose_name=_("channel"))
    calendar = models.ForeignKey(BusinessCalendar, null=True, blank=True, on_delete=models.SET_NULL,
                                 verbose_name=_("business hours"),
                                 help_text=_("Empty: the team's calendar, else around the clock."))
    first_response_minutes = models.PositiveIntegerField(_("first response within (business minutes)"),
                                                         null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(_("resolution within (business minutes)"),
                                                     null=True, blank=True)
    warn_before_minutes = models.PositiveIntegerField(_("warn this many business minutes before"), default=30)
    enabled = models.BooleanField(_("enabled"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "SLA policies"

    def __str__(self) -> str:
        return self.name


class ConversationSLA(models.Model):
    """The due times of one conversation under its policy, and whether warnings and breaches were raised."""

    conversation = models.OneToOneField("inbox.Conversation", on_delete=models.CASCADE, related_name="sla")
    policy = models.ForeignKey(SLAPolicy, null=True, on_delete=models.SET_NULL, related_name="+")
    first_response_due = models.DateTimeField(null=True, blank=True, db_index=True)
    resolution_due = models.DateTimeField(null=True, blank=True, db_index=True)
    first_response_warn_at = models.DateTimeField(null=True, blank=True)
    resolution_warn_at = models.DateTimeField(null=True, blank=True)
    first_response_warned = models.BooleanField(default=False)
    first_response_breached = models.BooleanField(default=False)
    resolution_warned = models.BooleanField(default=False)
    resolution_breached = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"SLA of #{self.conversation_id}"


class ApprovalRequirement(models.Model):
    """Replies by this agent, or on this channel, wait for a supervisor's approval."""

    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                              related_name="+", verbose_name=_("agent"))
    channel = models.ForeignKey("connectors.Channel", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="+", verbose_name=_("channel"))
    note = models.CharField(_("why"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return str(self.agent or self.channel)


class PendingReply(models.Model):
    """A reply waiting in the approval queue; sent as its author through the normal delivery when approved."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        SENT = "sent", _("Approved and sent")
        RETURNED = "returned", _("Returned to the author")

    conversation = models.ForeignKey("inbox.Conversation", on_delete=models.CASCADE, related_name="pending_replies")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    text = models.TextField()
    status_after = models.CharField(max_length=12, blank=True)
    is_public = models.BooleanField(null=True)
    warnings = models.JSONField(default=list, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING, db_index=True)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    review_note = models.TextField(blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    message = models.ForeignKey("inbox.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"reply to #{self.conversation_id} by {self.author_id}"


class Guidelines(models.Model):
    """What the check before sending warns about; one row per team, the row without team for all others."""

    team = models.OneToOneField("inbox.Team", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="guidelines", verbose_name=_("team"))
    advertising_words = models.TextField(
        _("advertising words"), blank=True,
        help_text=_("One per line; warned about in service replies (not for Sales and Marketing)."))
    forbidden_words = models.TextField(_("words to avoid"), blank=True, help_text=_("One per line."))
    require_signature = models.BooleanField(_("public replies must be signed"), default=True)
    check_language = models.BooleanField(_("reply in the customer's language"), default=True)

    class Meta:
        verbose_name_plural = "guidelines"

    def __str__(self) -> str:
        return f"guidelines of {self.team or 'all teams'}"

    @staticmethod
    def words(text: str) -> list[str]:
        return [w.strip() for w in (text or "").splitlines() if w.strip()]
