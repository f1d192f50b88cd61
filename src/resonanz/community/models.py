"""The brand community: members (CRM contacts), questions and answers, ideas, reputation and moderation.

Counters (score, answer count, votes, reputation) are denormalised on their rows and only ever changed by
``community.actions`` inside the transaction that writes the vote or answer, with ``F()`` updates, so the
start page and question page read one row each and concurrent voters never lose or double a vote (the unique
constraints on the vote tables decide who voted).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Member(models.Model):
    """A person in the community. Customers are CRM contacts; agents take part through their user account."""

    contact = models.OneToOneField("crm.Contact", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="community_member")
    user = models.OneToOneField(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="community_member")
    display_name = models.CharField(_("display name"), max_length=80)
    about = models.TextField(_("about"), blank=True, max_length=2000)
    language = models.CharField(_("language"), max_length=8, blank=True)
    reputation = models.IntegerField(default=0)
    is_moderator = models.BooleanField(default=False)
    #: a moderator took back the rights this member's reputation level would give
    privileges_revoked = models.BooleanField(default=False)
    is_deleted = models.BooleanField(default=False)
    keep_posts_on_erasure = models.BooleanField(default=False)
    #: 0 = no picture (an initials avatar is drawn); otherwise bumped on every upload so its URL changes
    avatar_version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["display_name"]
        indexes = [models.Index(fields=["-reputation"])]

    def __str__(self) -> str:
        return self.display_name

    @property
    def is_staff(self) -> bool:
        return self.user_id is not None

    @property
    def name(self) -> str:
        return str(_("Deleted member")) if self.is_deleted else self.display_name

    @property
    def initials(self) -> str:
        """Up to two letters for the drawn avatar: first letters of the first and last word."""
        words = [w for w in self.display_name.split() if w[:1].isalnum()] or ["?"]
        return (words[0][0] + (words[-1][0] if len(words) > 1 else "")).upper()

    @property
    def avatar_colour(self) -> int:
        """One of eight colour classes, fixed per member (CSS classes: the CSP forbids inline styles)."""
        return self.pk % 8 if self.pk else 0


class Avatar(models.Model):
    """A member's picture as we re-encoded it (never the uploaded bytes), kept apart so member rows stay small."""

    member = models.OneToOneField(Member, primary_key=True, on_delete=models.CASCADE, related_name="avatar")
    image = models.BinaryField()
    content_type = models.CharField(max_length=40, default="image/webp")
    updated_at = models.DateTimeField(auto_now=True)


class LoginToken(models.Model):
    """A one-time login link: only its hash is stored; it expires and works once."""

    email = models.EmailField()
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    remote_addr = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [models.Index(fields=["email", "created_at"])]


class Tag(models.Model):
    name = models.SlugField(max_length=40, unique=True, allow_unicode=True)
    description = models.TextField(_("description"), blank=True, max_length=1000)
    question_count = models.IntegerField(default=0)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Visibility(models.TextChoices):
    VISIBLE = "visible", _("Visible")
    HELD = "held", _("Held for moderation")
    REMOVED = "removed", _("Removed")


class Question(models.Model):
    author = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="questions")
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), max_length=20000)
    body_html = models.TextField(blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="questions")
    product = models.CharField(_("product"), max_length=100, blank=True)
    language = models.CharField(max_length=8, blank=True)
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.VISIBLE)
    locked = models.BooleanField(default=False)
    score = models.IntegerField(default=0)
    answer_count = models.IntegerField(default=0)
    accepted_answer = models.ForeignKey("Answer", null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+")
    escalated_at = models.DateTimeField(null=True, blank=True)
    #: a moderator merged this question into another: its URL redirects there
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_activity_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["visibility", "-score", "-created_at"]),
            models.Index(fields=["visibility", "-created_at"]),
            models.Index(fields=["visibility", "answer_count", "-created_at"]),
        ]

    def __str__(self) -> str:
        return self.title


class Answer(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    author = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="answers")
    body = models.TextField(_("text"), max_length=20000)
    body_html = models.TextField(blank=True)
    by_staff = models.BooleanField(default=False)
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.VISIBLE)
    score = models.IntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["question", "visibility"])]


class Idea(models.Model):
    class Status(models.TextChoices):
        NEW = "new", _("New")
        UNDER_REVIEW = "under_review", _("Under review")
        PLANNED = "planned", _("Planned")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        DECLINED = "declined", _("Declined")

    author = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="ideas")
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), max_length=20000)
    description_html = models.TextField(blank=True)
    product = models.CharField(_("product"), max_length=100, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    status_note = models.TextField(blank=True)
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.VISIBLE)
    votes = models.IntegerField(default=0)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="merged")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-votes", "-created_at"]
        indexes = [models.Index(fields=["visibility", "status", "-votes"])]

    def __str__(self) -> str:
        return self.title


class Comment(models.Model):
    """A short remark under a question, an answer or an idea (exactly one of them)."""

    author = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="comments")
    question = models.ForeignKey(Question, null=True, blank=True, on_delete=models.CASCADE, related_name="comments")
    answer = models.ForeignKey(Answer, null=True, blank=True, on_delete=models.CASCADE, related_name="comments")
    idea = models.ForeignKey(Idea, null=True, blank=True, on_delete=models.CASCADE, related_name="comments")
    text = models.TextField(max_length=2000)
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.VISIBLE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]


class Vote(models.Model):
    """An upvote on a question or an answer; one per member and post."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="votes")
    question = models.ForeignKey(Question, null=True, blank=True, on_delete=models.CASCADE, related_name="votes")
    answer = models.ForeignKey(Answer, null=True, blank=True, on_delete=models.CASCADE, related_name="votes")
    recipient = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="votes_received")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "question"], condition=models.Q(answer__isnull=True),
                                    name="community_vote_one_per_question"),
            models.UniqueConstraint(fields=["member", "answer"], condition=models.Q(answer__isnull=False),
                                    name="community_vote_one_per_answer"),
        ]


class IdeaVote(models.Model):
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="idea_votes")
    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="idea_votes")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "idea"], name="community_ideavote_unique")]


class IdeaStatusChange(models.Model):
    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="status_changes")
    status = models.CharField(max_length=20, choices=Idea.Status.choices)
    note = models.TextField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class IdeaLink(models.Model):
    """Evidence for an idea: a support conversation or a listening post that asks for it."""

    class Kind(models.TextChoices):
        CONVERSATION = "conversation", _("Conversation")
        POST = "post", _("Public post")

    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="links")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    object_id = models.PositiveBigIntegerField()
    label = models.CharField(max_length=300, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["idea", "kind", "object_id"], name="community_idealink_unique")]


class ReputationEvent(models.Model):
    """Points a member got (or would have got) for a helpful act; revocable by a moderator with a reason."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="reputation_events")
    points = models.IntegerField()
    reason = models.CharField(max_length=40)
    question = models.ForeignKey(Question, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    answer = models.ForeignKey(Answer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    idea = models.ForeignKey(Idea, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    source = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    revoked_reason = models.TextField(blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class BadgeAward(models.Model):
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="badges")
    badge = models.CharField(max_length=40)
    #: what a scoped badge is for: the product of "helpful in a product"; empty for the others
    scope = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [models.UniqueConstraint(fields=["member", "badge", "scope"],
                                               name="community_badge_once_per_scope")]


class ModerationAction(models.Model):
    """The audit log of moderation; the reason is shown to the author of the content."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    actor_member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=30)
    target_kind = models.CharField(max_length=20)
    target_id = models.PositiveBigIntegerField()
    target_title = models.CharField(max_length=200, blank=True)
    author = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="moderated")
    reason = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class Report(models.Model):
    """A member's report of a post; open until a moderator handles it."""

    reporter = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="reports")
    target_kind = models.CharField(max_length=20)
    target_id = models.PositiveBigIntegerField()
    reason = models.CharField(max_length=500)
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["reporter", "target_kind", "target_id"],
                                               name="community_report_once")]


class Follow(models.Model):
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="follows")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="followers")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "question"], name="community_follow_once")]
