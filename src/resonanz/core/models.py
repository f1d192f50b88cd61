"""Abstract models shared by the domain apps, and the audit log (core's one table)."""

from __future__ import annotations

from django.conf import settings
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


class AuditEntry(models.Model):
    """Who did something destructive or security-relevant, to what, from where. Written once, never changed.

    The actor is kept as text as well as a link, so an entry still names who acted after their
    account is gone; the target is a label and an id, not a foreign key, so erasing a contact keeps
    the record that it was erased.
    """

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    actor_label = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=300, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    ip_address = models.CharField(max_length=45, blank=True)
    request_id = models.CharField(max_length=128, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label or '-'} {self.action} {self.target_label}"


class ApiToken(models.Model):
    """A personal API token: it acts as its owner (role and team restrictions included), never more.

    Only a SHA-256 hash of the key is stored (the key is shown once, when it is made); ``prefix`` is the
    key's harmless start, so an agent can tell their tokens apart. A read-only token may only read.
    """

    class Scope(models.TextChoices):
        READ = "read", _("Read only")
        FULL = "full", _("Read and write")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    scope = models.CharField(_("scope"), max_length=8, choices=Scope.choices, default=Scope.FULL)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class TwoFactorDevice(models.Model):
    """An agent's authenticator app: the TOTP secret (encrypted with the instance key) and the last time step
    used, so a code seen once cannot be replayed. Unconfirmed until the agent typed one code from it."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="two_factor")
    secret = models.TextField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_step = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)


class RecoveryCode(models.Model):
    """A one-time code for signing in without the authenticator app; stored as a hash."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)


class SecurityPolicy(models.Model):
    """Instance-wide sign-in rules an administrator sets on Settings → Security (one row)."""

    two_factor_roles = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)


class RateCounter(models.Model):
    """One fixed window of a rate limit (``name:who:window``): shared by every web process through the database."""

    key = models.CharField(max_length=200, unique=True)
    count = models.IntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)
