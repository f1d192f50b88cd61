"""Abstract models shared by the domain apps (core has no tables of its own)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class PipelineState(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Not needed")


class PipelineItem(models.Model):
    """Something the worker's pipeline reads after it is stored: an inbound message, a public post.

    The state lives on the row, so nothing is lost: an item is "pending" until every step ran, a worker
    that dies mid-batch leaves it "running" with its claim time, and the sweep hands it out again.
    """

    #: the source name steps register for ("message", "post")
    pipeline_kind: str = ""

    pipeline_state = models.CharField(max_length=10, choices=PipelineState.choices, default=PipelineState.SKIPPED)
    pipeline_claimed_at = models.DateTimeField(null=True, blank=True)
    pipeline_error = models.TextField(blank=True)

    class Meta:
        abstract = True

    @property
    def analysis_text(self) -> str:
        """The text the engine reads."""
        raise NotImplementedError
