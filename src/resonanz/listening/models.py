"""Public posts about the company, and the fetch state of every listening feed.

A post is not a conversation: it waits in the listening stream until an agent (or a rule)
turns it into one; ``Post.conversation`` then links the two. Posts go through the same pipeline as
messages and their analysis is stored the same way (understanding.Analysis). Where each source was
fetched from and how it went is the channel's business (connectors.SourceState).
"""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.utils.translation import gettext_lazy as _

from resonanz.core.models import PipelineItem, PipelineState


class Post(PipelineItem):
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
    media = models.JSONField(default=list, blank=True,
                             help_text="The post's images and videos as links with alt text: url, kind, alt.")
    reach = models.PositiveIntegerField(_("reach"), null=True, blank=True,
                                        help_text=_("The author's followers, where the source says."))
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    fetched_at = models.DateTimeField(_("fetched"))
    updated_at = models.DateTimeField(null=True, blank=True, help_text="When the source last changed the post.")
    is_demo = models.BooleanField(default=False)
    conversation = models.ForeignKey("inbox.Conversation", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="posts")

    Pipeline = PipelineState
    pipeline_kind = "post"

    class Meta:
        ordering = ["-published_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_id"], name="post_unique_channel_external_id"),
        ]
        indexes = [
            models.Index(fields=["channel", "-published_at"], name="post_channel_published"),
            models.Index(fields=["pipeline_state"], name="post_pipeline",
                         condition=models.Q(pipeline_state__in=["pending", "running"])),
        ]

    def __str__(self) -> str:
        return self.title or self.text[:60] or self.external_id

    @property
    def analysis_text(self) -> str:
        return f"{self.title}\n{self.text}".strip()

    @property
    def analysis_or_none(self):
        """What the text-understanding engine read, or None before the worker has read the post."""
        try:
            return self.analysis
        except ObjectDoesNotExist:
            return None

    @property
    def message_external_id(self) -> str:
        """The id the post gets as a message when an agent turns it into a conversation."""
        return f"post:{self.external_id}"[:300]


