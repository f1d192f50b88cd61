"""Channels: configured sources and outlets of messages, one driver per kind."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from resonanz.core.crypto import decrypt_json, encrypt_json


class Channel(models.Model):
    class Kind(models.TextChoices):
        API = "api", _("API")
        WEB_FORM = "web_form", _("Web form")
        EMAIL = "email", _("Email")
        FEED = "feed", _("RSS/Atom feeds")
        WEBHOOK = "webhook", _("Signed webhook")
        IMPORT = "import", _("Bulk import")

    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
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
    is_demo = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def credentials(self) -> dict:
        return decrypt_json(self.credentials_encrypted)

    @credentials.setter
    def credentials(self, value: dict) -> None:
        self.credentials_encrypted = encrypt_json(value)

    @property
    def healthy(self) -> bool:
        if not self.last_error_at:
            return True
        return bool(self.last_ok_at and self.last_ok_at > self.last_error_at)

    @property
    def identity_kind(self) -> str:
        """The kind of identity a sender on this channel has."""
        from resonanz.connectors.drivers import get_driver

        return get_driver(self).identity_kind
