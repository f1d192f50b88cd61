"""What the engine read in every message and post, agents' corrections, and the operator's product catalog."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

INTENTS = [
    ("question", _("Question")),
    ("complaint", _("Complaint")),
    ("praise", _("Praise")),
    ("suggestion", _("Suggestion or idea")),
    ("purchase_interest", _("Purchase interest")),
    ("churn_risk", _("Cancellation or churn risk")),
    ("legal_threat", _("Legal threat")),
    ("outage", _("Outage or bug report")),
    ("spam", _("Spam or irrelevant")),
]
SENTIMENTS = [("negative", _("negative")), ("neutral", _("neutral")), ("positive", _("positive"))]


class Analysis(models.Model):
    """What the engine read in one inbound message or public post (exactly one of the two), in one shape,
    so dashboards, rules and trends count messages and posts alike; ``result`` keeps the whole answer."""

    message = models.OneToOneField("inbox.Message", null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="analysis")
    post = models.OneToOneField("listening.Post", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="analysis")
    # sha1 of the text that was read: a post changed at its source is read again
    text_hash = models.CharField(max_length=40, blank=True)
    language = models.CharField(max_length=8, db_index=True)
    sentiment = models.CharField(max_length=10, choices=SENTIMENTS, db_index=True)
    sentiment_score = models.FloatField()
    sentiment_confidence = models.FloatField()
    # ",complaint,legal_threat," so a substring filter works on SQLite and PostgreSQL alike.
    intent_labels = models.CharField(max_length=300, blank=True, db_index=True)
    urgency = models.FloatField()
    complexity = models.CharField(max_length=10)
    bot_answerable = models.BooleanField(default=False)
    relevance = models.FloatField()
    result = models.JSONField()
    model_version = models.CharField(max_length=80)
    analyzed_at = models.DateTimeField(auto_now=True)
    corrected = models.BooleanField(default=False)

    class Meta:
        verbose_name_plural = "analyses"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(message__isnull=False, post__isnull=True)
                | models.Q(message__isnull=True, post__isnull=False),
                name="analysis_of_message_or_post"),
        ]
        indexes = [models.Index(fields=["analyzed_at"], name="analysis_time")]

    def __str__(self) -> str:
        return f"analysis of message {self.message_id}" if self.message_id else f"analysis of post {self.post_id}"

    @property
    def intents(self) -> list[str]:
        return [i for i in self.intent_labels.split(",") if i]

    @property
    def intent_probabilities(self) -> list[tuple[str, float]]:
        probs = self.result.get("intents", {}).get("probabilities", {})
        return sorted(((k, v) for k, v in probs.items() if k in self.intents), key=lambda kv: -kv[1])

    @property
    def entities(self) -> list[dict]:
        return self.result.get("entities", [])


class Correction(models.Model):
    """An agent's fix of a label: the training data the next model version learns from."""

    message = models.ForeignKey("inbox.Message", on_delete=models.CASCADE, related_name="corrections")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    field = models.CharField(max_length=20)  # sentiment, intents or language
    old_value = models.JSONField(null=True)
    new_value = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    trained_in = models.CharField(max_length=80, blank=True, help_text="model version that learnt it")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.field} of message {self.message_id}"


class CatalogEntry(models.Model):
    """A product, brand, competitor or the company itself, with the names people use for it."""

    class Kind(models.TextChoices):
        COMPANY = "company", _("Our company")
        PRODUCT = "product", _("Product")
        BRAND = "brand", _("Brand")
        COMPETITOR = "competitor", _("Competitor")

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.PRODUCT)
    aliases = models.TextField(_("aliases"), blank=True, help_text=_("One per line: other spellings and nicknames."))

    class Meta:
        ordering = ["kind", "name"]
        constraints = [models.UniqueConstraint(fields=["kind", "name"], name="catalog_unique_kind_name")]

    def __str__(self) -> str:
        return self.name

    @property
    def alias_list(self) -> list[str]:
        return [a.strip() for a in self.aliases.splitlines() if a.strip()]
