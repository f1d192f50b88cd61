"""One memory per customer: contacts, the identities they use on each channel, their organizations."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from resonanz.core.addresses import UNKNOWN_SENDER_DOMAIN, UNKNOWN_SENDER_NAME


class Tag(models.Model):
    """A free label shared by contacts and conversations."""

    name = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Organization(models.Model):
    name = models.CharField(_("name"), max_length=200)
    domain = models.CharField(_("domain"), max_length=200, blank=True, db_index=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    class Lifecycle(models.TextChoices):
        LEAD = "lead", _("Lead")
        PROSPECT = "prospect", _("Prospect")
        CUSTOMER = "customer", _("Customer")
        FORMER = "former_customer", _("Former customer")

    name = models.CharField(_("name"), max_length=200, blank=True)
    preferred_language = models.CharField(_("preferred language"), max_length=8, blank=True)
    lifecycle_stage = models.CharField(
        _("lifecycle stage"), max_length=20, choices=Lifecycle.choices, default=Lifecycle.LEAD
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_contacts"
    )
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts"
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="contacts")
    custom_fields = models.JSONField(default=dict, blank=True)
    consent = models.BooleanField(_("consent to be contacted"), default=False)
    consent_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    is_demo = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["name"])]

    def __str__(self) -> str:
        if self.name and self.name != UNKNOWN_SENDER_NAME:
            return self.name
        handle = self.primary_handle
        if self.is_unknown_sender(handle):
            return gettext("Unknown sender")
        return self.name or handle or f"#{self.pk}"

    @staticmethod
    def is_unknown_sender(handle: str) -> bool:
        """Mail without any usable sender address is stored under a placeholder handle that cannot be answered."""
        return handle.endswith("@" + UNKNOWN_SENDER_DOMAIN)

    @property
    def primary_handle(self) -> str:
        cached = getattr(self, "_prefetched_objects_cache", {}).get("identities")
        if cached is not None:  # a list page prefetched them (in the model's order, as first() reads): no query per row
            return cached[0].handle if cached else ""
        identity = self.identities.first()
        return identity.handle if identity else ""


class Identity(models.Model):
    """A handle a contact uses on one kind of channel; unique per kind so a sender resolves to one contact."""

    class Kind(models.TextChoices):
        EMAIL = "email", _("Email")
        PHONE = "phone", _("Phone")
        CHAT = "chat", _("Chat visitor")
        API = "api", _("API")
        TWITTER = "twitter", _("X / Twitter")
        MASTODON = "mastodon", _("Mastodon")
        BLUESKY = "bluesky", _("Bluesky")
        FACEBOOK = "facebook", _("Facebook")
        INSTAGRAM = "instagram", _("Instagram")
        TELEGRAM = "telegram", _("Telegram")
        WHATSAPP = "whatsapp", _("WhatsApp")
        WEB = "web", _("Web")
        OTHER = "other", _("Other")

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    handle = models.CharField(max_length=320)
    display_name = models.CharField(max_length=200, blank=True)
    profile = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "handle"], name="identity_unique_kind_handle")]
        ordering = ["kind", "handle"]
        verbose_name_plural = "identities"

    def __str__(self) -> str:
        return f"{self.kind}:{self.handle}"


def normalize_handle(kind: str, handle: str) -> str:
    """Handles compare case-insensitively where the channel does (email, social names)."""
    handle = (handle or "").strip()
    if kind in ("email", "twitter", "mastodon", "bluesky", "instagram", "web"):
        handle = handle.lower().lstrip("@") if kind != "email" else handle.lower()
    if kind in ("phone", "whatsapp"):
        handle = "".join(ch for ch in handle if ch.isdigit() or ch == "+")
    return handle


class NotDuplicate(models.Model):
    """Two contacts a person said are different people: never suggested as duplicates again.
    Stored once per pair, the lower id first."""

    first = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    marked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["first", "second"], name="not_duplicate_pair")]
