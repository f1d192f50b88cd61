"""Teams, agents, conversations (tickets), messages and the event log of every change."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.utils.translation import gettext_lazy as _

from resonanz.core.models import PipelineItem, PipelineState
from resonanz.crm.models import Tag


class Team(models.Model):
    """A department: Support, Sales, Marketing, PR, Legal, …"""

    name = models.CharField(_("name"), max_length=120, unique=True)
    slug = models.SlugField(max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)
    email = models.EmailField(_("email"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AgentProfile(models.Model):
    class Role(models.TextChoices):
        AGENT = "agent", _("Agent")
        SUPERVISOR = "supervisor", _("Supervisor")
        ADMIN = "admin", _("Administrator")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent")
    display_name = models.CharField(_("display name"), max_length=120)
    initials = models.CharField(_("initials"), max_length=6, help_text=_("Signature on public replies."))
    avatar_url = models.URLField(_("avatar URL"), blank=True)
    teams = models.ManyToManyField(Team, blank=True, related_name="agents")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.AGENT)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="en")
    is_available = models.BooleanField(_("available"), default=True)
    max_load = models.PositiveIntegerField(_("maximum open conversations"), default=30)
    is_bot = models.BooleanField(default=False)

    class Meta:
        ordering = ["display_name"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def is_supervisor(self) -> bool:
        return self.role in (self.Role.SUPERVISOR, self.Role.ADMIN) or self.user.is_superuser


FILTER_KINDS = [
    ("bounce", _("Bounce")), ("auto_reply", _("Auto-reply")), ("auto_generated", _("Automatic notice")),
    ("list", _("Mailing list")), ("own", _("Our own mail")), ("manual", _("Filtered by hand")),
    ("rule", _("Filtered by a rule")),
]


class Conversation(models.Model):
    class Status(models.TextChoices):
        NEW = "new", _("New")
        OPEN = "open", _("Open")
        PENDING = "pending", _("Pending")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")

    class Priority(models.IntegerChoices):
        LOW = 1, _("Low")
        NORMAL = 2, _("Normal")
        HIGH = 3, _("High")
        URGENT = 4, _("Urgent")

    OPEN_STATUSES = ("new", "open", "pending")

    subject = models.CharField(_("subject"), max_length=300, blank=True)
    channel = models.ForeignKey("connectors.Channel", on_delete=models.PROTECT, related_name="conversations")
    contact = models.ForeignKey("crm.Contact", on_delete=models.PROTECT, related_name="conversations")
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.NEW)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices, default=Priority.NORMAL)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_conversations"
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="conversations")
    created_at = models.DateTimeField(_("created"))
    last_activity_at = models.DateTimeField(_("last activity"))
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    # "Waiting for us": the latest message in the thread came from the customer.
    waiting_for_us = models.BooleanField(default=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    message_count = models.PositiveIntegerField(default=0)
    is_demo = models.BooleanField(default=False)
    # Machine-generated mail (bounces, auto-replies, notices, lists) is kept out of the inbox in a filtered
    # view: the kind and why, empty for a normal conversation. A person's message or an agent releases it.
    filtered = models.CharField(_("filtered as"), max_length=20, blank=True, default="", choices=FILTER_KINDS)
    filtered_reason = models.CharField(_("why filtered"), max_length=500, blank=True, default="")
    # Merged into another conversation: its messages moved there, it stays closed as a link (undo moves them back).
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged",
                                    verbose_name=_("merged into"))
    # Public (comments, mentions, group posts: answered where others read it) or private (mail, direct messages).
    # A person's public and private messages never share a conversation: ingestion threads each item only into
    # an open conversation of its own kind, and a private reply to a comment goes to the private one.
    is_public = models.BooleanField(_("public"), default=False)
    # The post or thread root a public conversation is about (a commented post, the first tweet of a reply chain):
    # one public conversation per person, channel and thread, so comments under two posts never share one.
    # Empty for private conversations and public items whose channel names no thread.
    thread_key = models.CharField(_("thread"), max_length=300, blank=True, default="",
                                  help_text="The post or thread root a public conversation is about (its id on the platform).")

    class Meta:
        ordering = ["-last_activity_at"]
        indexes = [
            models.Index(fields=["filtered", "-last_activity_at"], name="conv_filtered_activity"),
            models.Index(fields=["status", "-last_activity_at"], name="conv_status_activity"),
            models.Index(fields=["-last_activity_at"], name="conv_activity"),
            models.Index(fields=["contact", "channel", "status"], name="conv_contact_channel"),
            models.Index(fields=["assignee", "status"], name="conv_assignee_status"),
            models.Index(fields=["team", "status"], name="conv_team_status"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    @property
    def reference(self) -> str:
        """The ticket number customers see, e.g. in an email subject: [RZ-42]."""
        return f"RZ-{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def first_response_time(self):
        return self.first_response_at - self.created_at if self.first_response_at else None

    @property
    def resolution_time(self):
        return self.resolved_at - self.created_at if self.resolved_at else None


class Message(PipelineItem):
    class Direction(models.TextChoices):
        INBOUND = "inbound", _("Inbound")
        OUTBOUND = "outbound", _("Outbound")
        NOTE = "note", _("Internal note")

    class Delivery(models.TextChoices):
        RECEIVED = "received", _("Received")
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        STORED = "stored", _("Stored for delivery")
        FAILED = "failed", _("Failed")

    Pipeline = PipelineState
    pipeline_kind = "message"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    channel = models.ForeignKey("connectors.Channel", on_delete=models.PROTECT, related_name="messages")
    direction = models.CharField(max_length=10, choices=Direction.choices)
    external_id = models.CharField(max_length=300, null=True, blank=True)
    in_reply_to = models.CharField(max_length=300, blank=True)
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    author_contact = models.ForeignKey(
        "crm.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    subject = models.CharField(max_length=300, blank=True)
    text = models.TextField(blank=True)
    html = models.TextField(blank=True, help_text="Sanitized HTML for display.")
    is_public = models.BooleanField(default=False)
    delivery_status = models.CharField(max_length=10, choices=Delivery.choices, default=Delivery.RECEIVED)
    delivery_detail = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    meta = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"],
                condition=models.Q(external_id__isnull=False),
                name="message_unique_channel_external_id",
            )
        ]
        indexes = [
            models.Index(fields=["conversation", "created_at"], name="msg_conversation"),
            # "the conversation's latest message" (the inbox's sentiment and intent columns): without it
            # PostgreSQL walked the whole table backwards by id for an old conversation (0.75 s for 50 rows)
            models.Index(fields=["conversation", "id"], name="msg_conversation_id"),
            models.Index(fields=["pipeline_state"], name="msg_pipeline",
                         condition=models.Q(pipeline_state__in=["pending", "running"])),
            models.Index(fields=["author_contact", "created_at"], name="msg_contact"),
        ]

    def __str__(self) -> str:
        return f"{self.direction} #{self.pk}"

    @property
    def analysis_text(self) -> str:
        return self.text

    @property
    def display_html(self) -> str:
        """The sanitized HTML with inline images (cid:) pointing at their stored attachments."""
        if "cid:" not in self.html:
            return self.html
        from django.urls import reverse

        urls = {a.content_id.strip("<>"): reverse("inbox:attachment", args=[a.pk]) + "?inline=1"
                for a in self.attachments.all() if a.content_id}
        return re.sub(r'cid:([^"\'\s>]+)', lambda m: urls.get(m.group(1), m.group(0)), self.html)

    @property
    def analysis_or_none(self):
        """The text-understanding result, or None before the worker has read the message."""
        try:
            return self.analysis
        except ObjectDoesNotExist:
            return None


class EarlyReceipt(models.Model):
    """A platform's delivered, read or failed notice that named an id none of our messages has yet: the webhook
    overtook the answer of the send that gets that id (platforms promise no order). It waits here and is applied
    when ``inbox.delivery.record_delivery`` stores the id; notices nobody claims are dropped after two days."""

    channel = models.ForeignKey("connectors.Channel", on_delete=models.CASCADE, related_name="+")
    external_id = models.CharField(max_length=300)
    status = models.CharField(max_length=20)
    detail = models.TextField(blank=True)
    source_id = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "external_id", "status"],
                                               name="early_receipt_once")]


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=120, default="application/octet-stream")
    size = models.PositiveBigIntegerField(default=0)
    file = models.FileField(upload_to="attachments/%Y/%m/", blank=True)
    content_id = models.CharField(max_length=255, blank=True)
    #: what the image or video shows, as its author described it (alt text on social networks)
    alt_text = models.CharField(max_length=1500, blank=True, default="")
    #: where the file came from (a social network's media link); for a video too large to keep, the only copy
    source_url = models.URLField(max_length=2000, blank=True, default="")
    # Why the file is not there although the mail had it (the disk was full, say); the message is kept.
    missing = models.CharField(max_length=300, blank=True, default="")

    def __str__(self) -> str:
        return self.filename


class ConversationEvent(models.Model):
    """Who changed what, when and why; also the cursor for live updates."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    kind = models.CharField(max_length=40)
    data = models.JSONField(default=dict, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["conversation", "id"], name="event_conversation")]

    def __str__(self) -> str:
        return f"{self.kind} on #{self.conversation_id}"



class Macro(models.Model):
    """A canned reply: text with placeholders, and optionally a status, tags and team it sets when used.

    Personal macros belong to one agent (``owner``); shared ones (no owner) are kept by supervisors.
    """

    name = models.CharField(_("name"), max_length=120)
    text = models.TextField(_("text"), blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                              related_name="macros", verbose_name=_("only for"))
    status = models.CharField(_("then set status"), max_length=20, blank=True, choices=Conversation.Status.choices)
    tags = models.JSONField(_("add tags"), default=list, blank=True)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                             verbose_name=_("move to team"))
    use_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["owner", "name"], name="macro_owner_name")]

    def __str__(self) -> str:
        return self.name


class SavedView(models.Model):
    """A named set of inbox filters (the query string of the inbox), personal or shared with everyone."""

    PARAMS = ("status", "assignee", "team", "channel", "tag", "sentiment", "intent", "waiting", "sort", "q")

    name = models.CharField(_("name"), max_length=80)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                              related_name="saved_views")
    params = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Viewer(models.Model):
    """Who has a conversation open right now (collision detection): refreshed by the open page every few
    seconds, so a row older than PRESENCE_SECONDS means the agent has left."""

    PRESENCE_SECONDS = 20

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="viewers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    typing = models.BooleanField(default=False)
    seen_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["conversation", "user"], name="viewer_unique")]


class RetentionRule(models.Model):
    """How long closed conversations are kept: per channel, or for every channel without a rule of its own.

    A conversation counts as closed when it is resolved or closed; its age is its last activity. "delete"
    removes it with its messages, attachments (files included) and analyses; "anonymise" keeps the numbers
    (channel, times, status, tags, sentiment) and removes the text, attachments and who it was.
    """

    class Action(models.TextChoices):
        DELETE = "delete", _("Delete")
        ANONYMISE = "anonymise", _("Anonymise")

    channel = models.OneToOneField("connectors.Channel", null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="retention_rule", verbose_name=_("channel"))
    days = models.PositiveIntegerField(_("keep closed conversations for (days)"))
    action = models.CharField(_("then"), max_length=10, choices=Action.choices, default=Action.DELETE)
    enabled = models.BooleanField(_("enabled"), default=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["channel__name"]  # one global rule (channel empty): inbox.retention.save_rule keeps it one

    def __str__(self) -> str:
        return f"{self.channel or _('All channels')}: {self.days} d → {self.action}"
