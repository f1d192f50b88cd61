"""The central knowledge base: articles in German and English, their versions, feedback and suggestions."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Category(models.Model):
    name = models.CharField(_("name"), max_length=120)
    name_de = models.CharField(_("German name"), max_length=120, blank=True)
    slug = models.SlugField(max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name

    def label(self, language: str) -> str:
        return self.name_de if language == "de" and self.name_de else self.name


class Article(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        ARCHIVED = "archived", _("Archived")

    class Visibility(models.TextChoices):
        PUBLIC = "public", _("Public (help center)")
        INTERNAL = "internal", _("Internal (agents only)")

    class Language(models.TextChoices):
        DE = "de", _("German")
        EN = "en", _("English")

    title = models.CharField(_("title"), max_length=250)
    slug = models.SlugField(max_length=250)
    body = models.TextField(_("body (Markdown)"))
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.EN)
    # Articles that translate each other share a group id (the id of the first of them).
    translation_group = models.PositiveBigIntegerField(null=True, blank=True, db_index=True)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="articles",
                                 verbose_name=_("category"))
    tags = models.ManyToManyField("crm.Tag", blank=True, related_name="articles")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT,
                              db_index=True)
    visibility = models.CharField(_("visibility"), max_length=10, choices=Visibility.choices,
                                  default=Visibility.PUBLIC)
    example_questions = models.TextField(
        _("example questions"), blank=True,
        help_text=_("One per line: how customers ask for this. They help search and automatic answers."))
    source = models.CharField(max_length=20, default="editor")  # editor, import, proposed
    proposal = models.JSONField(default=dict, blank=True)  # for proposed drafts: the conversations it came from
    helpful_count = models.PositiveIntegerField(default=0)
    unhelpful_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    published_at = models.DateTimeField(null=True, blank=True)
    is_demo = models.BooleanField(default=False)

    class Meta:
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["status", "visibility", "language"], name="article_listing")]

    def __str__(self) -> str:
        return self.title

    @property
    def questions(self) -> list[str]:
        return [q.strip() for q in self.example_questions.splitlines() if q.strip()]

    @property
    def is_live(self) -> bool:
        return self.status == self.Status.PUBLISHED

    def translations(self):
        if not self.translation_group:
            return Article.objects.none()
        return Article.objects.filter(translation_group=self.translation_group).exclude(pk=self.pk)


class ArticleVersion(models.Model):
    """Who changed what: every save of an article keeps the text it had."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=250)
    body = models.TextField()
    status = models.CharField(max_length=10)
    editor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["article", "number"], name="article_version_unique")]

    def __str__(self) -> str:
        return f"{self.article_id} v{self.number}"


class ArticleFeedback(models.Model):
    """A "was this helpful?" vote from the help center, or an agent's use or dismissal of a suggestion."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="feedback")
    helpful = models.BooleanField()
    query = models.CharField(max_length=500, blank=True)
    source = models.CharField(max_length=20)  # help_center, suggestion_used, suggestion_dismissed, bot_handover
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    #: who voted, for anonymous votes (help center, chat): a keyed hash of the address, never the address;
    #: votes from one address alone never move the ranking (knowledge.actions.counts_for_ranking)
    voter = models.CharField(max_length=24, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{'+' if self.helpful else '-'} {self.article_id}"


class Suggestion(models.Model):
    """What the worker found for one customer message: articles, earlier replies and the bot's verdict."""

    message = models.OneToOneField("inbox.Message", on_delete=models.CASCADE, related_name="suggestion")
    articles = models.JSONField(default=list)  # [{"id", "score"}]
    replies = models.JSONField(default=list)  # [{"message_id", "conversation_id", "score"}]
    answer_article = models.ForeignKey(Article, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    answer_confidence = models.FloatField(null=True, blank=True)
    bot_decision = models.CharField(max_length=40, blank=True)  # answered, or why not
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"suggestions for message {self.message_id}"
