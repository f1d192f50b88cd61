"""Channels (configured sources and outlets of messages, one driver per kind) and the state of what they poll."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from resonanz.connectors.drivers import get_driver, label_for, validate_kind
from resonanz.core.crypto import decrypt_json, encrypt_json


class Channel(models.Model):
    # A plain string: the driver registry (connectors.drivers) is the only list of kinds.
    kind = models.CharField(_("kind"), max_length=30, validators=[validate_kind])
    name = models.CharField(_("name"), max_length=120, unique=True)
    slug = models.SlugField(_("address name"), max_length=120, unique=True)
    settings = models.JSONField(default=dict, blank=True)
    credentials_encrypted = models.TextField(blank=True, editable=False)
    enabled = models.BooleanField(_("enabled"), default=True)
    sign_replies = models.BooleanField(
        _("sign replies with the agent's initials"), default=False,
        help_text=_("Public channels usually sign replies, e.g. '… ^AB'."),
    )
    default_team = models.ForeignKey(
        "inbox.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    poll_interval = models.PositiveIntegerField(
        _("poll every (seconds)"), default=60, help_text=_("For channels that fetch messages (email, feeds)."))
    last_poll_at = models.DateTimeField(null=True, blank=True)
    last_ok_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    # when the platform refused the channel's token: a webhook arriving afterwards does not clear the failure
    credentials_refused_at = models.DateTimeField(null=True, blank=True)
    is_demo = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def credentials(self) -> dict:
        """The decrypted secrets (a copy), decrypted once per loaded row: a webhook asks for several of them."""
        cached = self.__dict__.get("_credentials")
        if cached is None or cached[0] != self.credentials_encrypted:
            cached = (self.credentials_encrypted, decrypt_json(self.credentials_encrypted))
            self.__dict__["_credentials"] = cached
        return dict(cached[1])

    @credentials.setter
    def credentials(self, value: dict) -> None:
        self.credentials_encrypted = encrypt_json(value)

    @property
    def healthy(self) -> bool:
        if not self.last_error_at:
            return True
        return bool(self.last_ok_at and self.last_ok_at > self.last_error_at)

    @property
    def kind_label(self) -> str:
        return label_for(self.kind)

    @property
    def driver(self):
        return get_driver(self)

    @property
    def identity_kind(self) -> str:
        """The kind of identity a sender on this channel has."""
        return get_driver(self).identity_kind


class SourceState(models.Model):
    """One source a polling channel reads (a feed URL, a hashtag, a mentions timeline): where it stopped
    and how the last fetch went, so a restart continues from the cursor and a failing source is visible."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="sources")
    key = models.CharField(max_length=2000, help_text="The URL or name of the source.")
    title = models.CharField(max_length=300, blank=True)
    cursor = models.JSONField(default=dict, blank=True, help_text="Validators and ids to continue from.")
    final_url = models.CharField(max_length=2000, blank=True, help_text="Where a permanent redirect leads.")
    last_fetched_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveIntegerField(null=True, blank=True)
    last_ok_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    consecutive_errors = models.PositiveIntegerField(default=0)
    items_seen = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["channel", "key"]
        constraints = [models.UniqueConstraint(fields=["channel", "key"], name="sourcestate_unique_channel_key")]

    def __str__(self) -> str:
        return self.key

    @property
    def healthy(self) -> bool:
        return not self.last_error_at or bool(self.last_ok_at and self.last_ok_at > self.last_error_at)
