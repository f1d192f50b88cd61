"""Public posts about the company, and the fetch state of every listening feed.

A post is not a conversation: it waits in the listening stream until an agent (or a rule)
turns it into one; ``Post.conversation`` then links the two.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from resonanz.understanding.models import SENTIMENTS


class Post(models.Model):
    channel = models.ForeignKey("connectors.Channel", on_delete=models.CASCADE, related_name="posts")
    external_id = models.CharField(max_length=500)
    source = models.CharField(_("source"), max_length=500, blank=True,
                              help_text=_("The feed (or account) the post came from."))
    source_title = models.CharField(max_length=300, blank=True)
    author = models.CharField(_("author"), max_length=200, blank=True)
    author_handle = models.CharField(max_length=320, blank=True)
    link = models.URLField(_("link"), max_length=2000, blank=True)
    title = models.CharField(_("title"), max_length=500, blank=True)
    text = models.TextField(_("text"), blank=True)
    html = models.TextField(blank=True, help_text="Sanitized HTML for display.")
    content_hash = models.CharField(max_length=64, blank=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    fetched_at = models.DateTimeField(_("fetched"))
    updated_at = models.DateTimeField(null=True, blank=True, help_text="When the source last changed the post.")
    is_demo = models.BooleanField(default=False)
    conversation = models.ForeignKey("inbox.Conversation", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="posts")
    # What the text-understanding engine read (kind="post"); empty until the worker analysed it.
    language = models.CharField(max_length=8, blank=True)
    sentiment = models.CharField(max_length=10, choices=SENTIMENTS, blank=True, db_index=True)
    sentiment_score = models.FloatField(null=True, blank=True)
    relevance = models.FloatField(null=True, blank=True)
    intent_labels = models.CharField(max_length=300, blank=True)
    analysis = models.JSONField(default=dict, blank=True)
    analyzed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-published_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_id"], name="post_unique_channel_external_id"),
        ]
        indexes = [
            models.Index(fields=["channel", "-published_at"], name="post_channel_published"),
            models.Index(fields=["analyzed_at"], name="post_unanalyzed", condition=models.Q(analyzed_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return self.title or self.text[:60] or self.external_id

    @property
    def intents(self) -> list[str]:
        return [i for i in self.intent_labels.split(",") if i]

    @property
    def message_external_id(self) -> str:
        """The id the post gets as a message when an agent turns it into a conversation."""
        return f"post:{self.external_id}"[:300]


class FeedState(models.Model):
    """Per feed URL of a feed channel: conditional-GET validators and the outcome of the last fetch."""

    channel = models.ForeignKey("connectors.Channel", on_delete=models.CASCADE, related_name="feed_states")
    url = models.CharField(max_length=2000)
    title = models.CharField(max_length=300, blank=True)
    etag = models.CharField(max_length=500, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)
    final_url = models.CharField(max_length=2000, blank=True, help_text="Where a permanent redirect leads.")
    last_fetched_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveIntegerField(null=True, blank=True)
    last_ok_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    consecutive_errors = models.PositiveIntegerField(default=0)
    entries_seen = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["channel", "url"]
        constraints = [models.UniqueConstraint(fields=["channel", "url"], name="feedstate_unique_channel_url")]

    def __str__(self) -> str:
        return self.url

    @property
    def healthy(self) -> bool:
        return not self.last_error_at or bool(self.last_ok_at and self.last_ok_at > self.last_error_at)
