"""Every change in the community goes through here: validate → one transaction → audit → event after commit.

Views, the API, the desk, the community channel driver and the tasks call these functions; none writes the
models. Counters are changed with ``F()`` in the transaction that writes the row they count, and the unique
constraints on votes decide races, so concurrent voters can neither lose nor double a vote.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.text import slugify

from resonanz.community import notify, queries, rules, support
from resonanz.community.models import (
    Answer,
    Avatar,
    BadgeAward,
    Comment,
    Follow,
    Idea,
    IdeaLink,
    IdeaStatusChange,
    IdeaVote,
    LoginToken,
    Member,
    ModerationAction,
    Question,
    Report,
    ReputationEvent,
    Tag,
    Visibility,
    Vote,
)
from resonanz.core.errors import ActionError
from resonanz.core.events import publish
from resonanz.core.sanitize import clean_text
from resonanz.crm.actions import resolve_contact
from resonanz.crm.models import Identity
from resonanz.inbox.models import Conversation
from resonanz.knowledge.actions import create_article
from resonanz.knowledge.rendering import render_markdown
from resonanz.listening.models import Post

LOGIN_TOKEN_MINUTES = 30
LOGIN_LINKS_PER_HOUR = 5
POSTS_PER_10_MINUTES = 10
NEW_MEMBER_POSTS_PER_10_MINUTES = 3
MAX_TAGS = 5
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LINK = re.compile(r"https?://|www\.", re.IGNORECASE)


# --- members -------------------------------------------------------------------------------------------


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def request_login_link(email: str, *, base_url: str, language: str = "en", next_url: str = "",
                       remote_addr: str = "") -> LoginToken:
    """Email a one-time login link. The same answer whether the address is known or not (no member probing)."""
    email = clean_text(email, 320).strip().lower()
    if not EMAIL.match(email):
        raise ActionError("Please enter a valid email address.", "email")
    hour_ago = timezone.now() - timedelta(hours=1)
    recent = LoginToken.objects.filter(created_at__gte=hour_ago)
    if recent.filter(email=email).count() >= LOGIN_LINKS_PER_HOUR or (
            remote_addr and recent.filter(remote_addr=remote_addr).count() >= LOGIN_LINKS_PER_HOUR * 4):
        raise ActionError("Too many login links were requested. Please try again in an hour.", "email")
    raw = secrets.token_urlsafe(32)
    token = LoginToken.objects.create(email=email, token_hash=_hash(raw), remote_addr=remote_addr[:64],
                                      expires_at=timezone.now() + timedelta(minutes=LOGIN_TOKEN_MINUTES))
    link = f"{base_url.rstrip('/')}/community/login/{raw}/"
    if next_url.startswith("/") and not next_url.startswith("//"):
        link += "?" + _urlencode({"next": next_url})
    notify.login_link(email, link, language)
    return token


def _urlencode(d: dict) -> str:
    from urllib.parse import urlencode

    return urlencode(d)


@transaction.atomic
def redeem_login_link(raw: str, *, language: str = "") -> Member:
    """The member behind a valid, unused, unexpired link; the link is spent. Creates contact and member.

    A new member keeps the language they joined in (``language``) for the emails they get."""
    token = LoginToken.objects.select_for_update().filter(token_hash=_hash(raw or "")).first()
    if token is None or token.used_at or token.expires_at < timezone.now():
        raise ActionError("This login link is invalid or has expired. Please request a new one.")
    token.used_at = timezone.now()
    token.save(update_fields=["used_at"])
    contact, _created = resolve_contact("email", token.email)
    member = Member.objects.filter(contact=contact).first()
    if member is None:
        name = contact.name or token.email.split("@")[0]
        member = Member.objects.create(contact=contact, display_name=name[:80],
                                       language=contact.preferred_language or (
                                           language if language in ("de", "en") else ""))
        publish("community.member_joined", member_id=member.pk, contact_id=contact.pk)
    return member


def staff_member(user) -> Member:
    """The community face of an agent: created on first use, shown with the staff badge."""
    member = Member.objects.filter(user=user).first()
    if member:
        return member
    agent = getattr(user, "agent", None)
    name = getattr(agent, "display_name", "") or user.get_full_name() or user.get_username()
    try:
        with transaction.atomic():
            return Member.objects.create(user=user, display_name=name[:80], is_moderator=True)
    except IntegrityError:
        return Member.objects.get(user=user)


@transaction.atomic
def update_profile(member: Member, *, display_name: str, about: str = "", language: str = "") -> Member:
    display_name = clean_text(display_name, 80).strip()
    if len(display_name) < 2:
        raise ActionError("A display name needs at least 2 characters.", "display_name")
    if language not in ("", "de", "en"):
        raise ActionError("Choose German or English.", "language")
    member.display_name = display_name
    member.about = clean_text(about, 2000).strip()
    member.language = language
    member.save(update_fields=["display_name", "about", "language"])
    return member


def member_email(member: Member) -> str:
    if member.contact_id is None:
        return member.user.email if member.user_id else ""
    identity = Identity.objects.filter(contact_id=member.contact_id, kind="email").first()
    return identity.handle if identity else ""


# --- content checks ------------------------------------------------------------------------------------


def is_new_member(member: Member) -> bool:
    if member.is_staff or member.is_moderator or member.reputation >= rules.NEW_MEMBER_REPUTATION:
        return False
    posts = Question.objects.filter(author=member, visibility=Visibility.VISIBLE).count() + \
        Answer.objects.filter(author=member, visibility=Visibility.VISIBLE).count()
    return posts < rules.NEW_MEMBER_POSTS


def _rate_limit(member: Member) -> None:
    if member.is_staff:
        return
    since = timezone.now() - timedelta(minutes=10)
    posts = (Question.objects.filter(author=member, created_at__gte=since).count()
             + Answer.objects.filter(author=member, created_at__gte=since).count()
             + Comment.objects.filter(author=member, created_at__gte=since).count()
             + Idea.objects.filter(author=member, created_at__gte=since).count())
    limit = NEW_MEMBER_POSTS_PER_10_MINUTES if is_new_member(member) else POSTS_PER_10_MINUTES
    if posts >= limit:
        raise ActionError("You are posting very fast. Please wait a few minutes and try again.")


def _check_author(member: Member) -> None:
    if member.is_deleted:
        raise ActionError("This member was deleted.")
    _rate_limit(member)


def _initial_visibility(member: Member, text: str) -> str:
    """A new member's post with several links waits for a moderator; the engine screens it after commit."""
    if is_new_member(member) and len(LINK.findall(text)) >= 2:
        return Visibility.HELD
    return Visibility.VISIBLE


def _text(value: str, field: str, minimum: int, maximum: int, label: str) -> str:
    value = clean_text(value, maximum + 1).strip()
    if len(value) < minimum:
        raise ActionError(f"{label} needs at least {minimum} characters.", field)
    if len(value) > maximum:
        raise ActionError(f"{label} can have at most {maximum} characters.", field)
    return value


def _tags(names) -> list[Tag]:
    if isinstance(names, str):
        names = re.split(r"[,\s]+", names)
    slugs = []
    for name in names or []:
        slug = slugify(str(name)[:40], allow_unicode=True)[:40].strip("-_")
        if not slug and str(name).strip(" ,"):
            raise ActionError("A tag name needs letters or digits.", "tags")
        if slug and slug not in slugs:
            slugs.append(slug)
    if len(slugs) > MAX_TAGS:
        raise ActionError(f"Use at most {MAX_TAGS} tags.", "tags")
    tags = []
    for slug in slugs:
        tag, _ = Tag.objects.get_or_create(name=slug)
        tags.append(tag)
    return tags


# --- questions and answers -----------------------------------------------------------------------------


@transaction.atomic
def ask_question(member: Member, *, title: str, body: str, tags=(), product: str = "",
                 language: str = "") -> Question:
    _check_author(member)
    title = _text(title, "title", 10, 200, "The title")
    body = _text(body, "body", 20, 20000, "The question")
    tag_rows = _tags(tags)
    question = Question.objects.create(
        author=member, title=title, body=body, body_html=render_markdown(body), product=clean_text(product, 100),
        language=language if language in ("de", "en") else "", visibility=_initial_visibility(member, body))
    if tag_rows:
        question.tags.set(tag_rows)
        Tag.objects.filter(pk__in=[t.pk for t in tag_rows]).update(question_count=F("question_count") + 1)
    Follow.objects.get_or_create(member=member, question=question)
    _award_badges(member)
    publish("community.question_asked", question_id=question.pk, member_id=member.pk)
    _screen_after_commit("question", question.pk, member)
    return question


@transaction.atomic
def answer_question(member: Member, question: Question, *, body: str) -> Answer:
    _check_author(member)
    question = Question.objects.select_for_update().get(pk=question.pk)
    if question.locked:
        raise ActionError("This question is locked; it takes no new answers.")
    if question.visibility != Visibility.VISIBLE:
        raise ActionError("This question is not public.")
    body = _text(body, "body", 5, 20000, "The answer")
    visibility = _initial_visibility(member, body)
    answer = Answer.objects.create(question=question, author=member, body=body, body_html=render_markdown(body),
                                   by_staff=member.is_staff, visibility=visibility)
    if visibility == Visibility.VISIBLE:
        Question.objects.filter(pk=question.pk).update(answer_count=F("answer_count") + 1,
                                                       last_activity_at=timezone.now())
        _notify_followers(question, answer)
    Follow.objects.get_or_create(member=member, question=question)
    _award_badges(member)
    publish("community.answer_posted", question_id=question.pk, answer_id=answer.pk, member_id=member.pk)
    _screen_after_commit("answer", answer.pk, member)
    return answer


def post_staff_answer(question_id: int, user, text: str) -> Answer:
    """An agent's reply in the support conversation of an escalated question, posted as a staff answer."""
    question = Question.objects.filter(pk=question_id).first()
    if question is None:
        raise ActionError(f"Community question #{question_id} does not exist.")
    return answer_question(staff_member(user), question, body=text)


def _notify_followers(question: Question, answer: Answer) -> None:
    recipients = [f.member for f in Follow.objects.filter(question=question).exclude(member=answer.author)
                  .select_related("member", "member__user")]
    emails = [(e, m.language) for m in recipients if not m.is_deleted and (e := member_email(m))]
    if emails:
        transaction.on_commit(lambda: notify.new_answer(emails, question, answer))


@transaction.atomic
def add_comment(member: Member, *, text: str, question: Question | None = None, answer: Answer | None = None,
                idea: Idea | None = None) -> Comment:
    _check_author(member)
    if sum(x is not None for x in (question, answer, idea)) != 1:
        raise ActionError("A comment belongs to exactly one question, answer or idea.")
    target_question = question or (answer.question if answer else None)
    if target_question is not None and target_question.locked:
        raise ActionError("This question is locked; it takes no new comments.")
    text = _text(text, "text", 2, 2000, "The comment")
    return Comment.objects.create(author=member, question=question, answer=answer, idea=idea, text=text,
                                  visibility=_initial_visibility(member, text))


@transaction.atomic
def follow(member: Member, question: Question, on: bool = True) -> None:
    if on:
        Follow.objects.get_or_create(member=member, question=question)
    else:
        Follow.objects.filter(member=member, question=question).delete()


def _vote_target(question: Question | None, answer: Answer | None):
    if (question is None) == (answer is None):
        raise ActionError("Vote on a question or on an answer.")
    model = Answer if answer is not None else Question
    target = model.objects.select_for_update().get(pk=(answer or question).pk)
    if target.visibility != Visibility.VISIBLE:
        raise ActionError("This post is not public.")
    return model, target


@transaction.atomic
def vote(member: Member, *, question: Question | None = None, answer: Answer | None = None,
         up: bool = True) -> int:
    """Upvote (or withdraw the upvote of) a question or answer; returns its new score. Never one's own post."""
    if member.is_deleted:
        raise ActionError("This member was deleted.")
    model, target = _vote_target(question, answer)
    if target.author_id == member.pk:
        raise ActionError("You cannot vote for your own post.")
    key = {"answer": target} if model is Answer else {"question": target, "answer": None}
    existing = Vote.objects.filter(member=member, **key).first()
    if up and existing is None:
        try:
            with transaction.atomic():
                Vote.objects.create(member=member, recipient_id=target.author_id, **key)
        except IntegrityError:
            return model.objects.get(pk=target.pk).score  # a concurrent click of the same member counted it
        model.objects.filter(pk=target.pk).update(score=F("score") + 1)
        reason = "answer_upvoted" if model is Answer else "question_upvoted"
        _grant(target.author, reason, source=member, **{model.__name__.lower(): target})
    elif not up and existing is not None:
        existing.delete()
        model.objects.filter(pk=target.pk).update(score=F("score") - 1)
        reason = "answer_upvoted" if model is Answer else "question_upvoted"
        _take_back(target.author, reason, source=member, **{model.__name__.lower(): target})
    return model.objects.get(pk=target.pk).score


def can_moderate(member: Member | None, right: str = "") -> bool:
    if member is None or member.is_deleted:
        return False
    if member.is_staff or member.is_moderator:
        return True
    return bool(right) and not member.privileges_revoked and right in rules.level_for(member.reputation).rights


@transaction.atomic
def accept_answer(member: Member, answer: Answer) -> Question:
    """The asker or a moderator accepts an answer (another accepted answer is replaced)."""
    question = Question.objects.select_for_update().get(pk=answer.question_id)
    if member.pk != question.author_id and not can_moderate(member):
        raise ActionError("Only the person who asked or a moderator can accept an answer.")
    if answer.visibility != Visibility.VISIBLE:
        raise ActionError("This answer is not public.")
    if question.accepted_answer_id == answer.pk:
        return question
    if question.accepted_answer_id:
        old = Answer.objects.get(pk=question.accepted_answer_id)
        _take_back(old.author, "answer_accepted", answer=old)
    question.accepted_answer = answer
    question.save(update_fields=["accepted_answer", "updated_at"])
    if answer.author_id != question.author_id:
        _grant(answer.author, "answer_accepted", answer=answer, question=question, source=member)
        if member.pk == question.author_id:
            _grant(member, "accepted_an_answer", question=question)
    publish("community.answer_accepted", question_id=question.pk, answer_id=answer.pk)
    return question


@transaction.atomic
def publish_from_conversation(*, actor, title: str, question: str, answer: str, tags=(),
                              language: str = "") -> Question:
    """An agent publishes a solved support case (already scrubbed and previewed) as an answered question."""
    staff = staff_member(actor)
    item = ask_question(staff, title=title, body=question, tags=tags, language=language)
    reply = answer_question(staff, item, body=answer)
    accept_answer(staff, reply)
    item.refresh_from_db()
    return item


def answer_to_article(answer: Answer, *, editor):
    """A helpful community answer becomes a draft knowledge article (an editor reviews and publishes it)."""
    if answer.visibility != Visibility.VISIBLE:
        raise ActionError("This answer is not public.")
    question = answer.question
    language = question.language if question.language in ("de", "en") else "de"
    return create_article(editor, title=question.title, body=answer.body, language=language, status="draft",
                          source="community", example_questions=question.title, note="from the community")


# --- reputation and badges -----------------------------------------------------------------------------


def _is_ring(a: Member, b: Member) -> bool:
    """Many mutual votes within a small set of members: ``a``'s votes for ``b`` stop earning points.

    A ring is ``a`` voting often for ``b`` while the votes come back to ``a``: directly (``b`` → ``a``, a pair)
    or through one more member (``b`` → ``c`` → ``a``, a ring of three), each link with at least
    ``rules.RING_VOTES`` votes. Two indexed aggregate queries; a member's outgoing votes are few.
    """
    n = rules.RING_VOTES
    if Vote.objects.filter(member=a, recipient=b).count() < n:
        return False
    heavy = {row["recipient"] for row in Vote.objects.filter(member=b).values("recipient")
             .annotate(n=Count("id")).filter(n__gte=n)}
    if a.pk in heavy:
        return True
    heavy.discard(b.pk)
    return bool(heavy) and Vote.objects.filter(member_id__in=heavy, recipient=a).values("member") \
        .annotate(n=Count("id")).filter(n__gte=n).exists()


def _grant(member: Member, reason: str, *, source: Member | None = None, question=None, answer=None,
           idea=None) -> ReputationEvent | None:
    points = rules.POINTS.get(reason, 0)
    if member.is_deleted or not points or (source is not None and source.pk == member.pk):
        return None
    if source is not None and reason.endswith("_upvoted") and _is_ring(source, member):
        reason, points = f"{reason}_ring", 0  # recorded for moderators, worth nothing
    event = ReputationEvent.objects.create(member=member, points=points, reason=reason, source=source,
                                           question=question, answer=answer, idea=idea)
    if points:
        Member.objects.filter(pk=member.pk).update(reputation=F("reputation") + points)
        _award_badges(member)
    return event


def _take_back(member: Member, reason: str, *, source: Member | None = None, **target) -> None:
    """Undo the points of an act that was undone (a withdrawn vote, another answer accepted)."""
    filters = {k: v for k, v in target.items() if v is not None}
    if source is not None:
        filters["source"] = source
    event = ReputationEvent.objects.filter(member=member, reason__in=(reason, f"{reason}_ring"),
                                           revoked_at__isnull=True, **filters).first()
    if event is None:
        return
    Member.objects.filter(pk=member.pk).update(reputation=F("reputation") - event.points)
    event.delete()


@transaction.atomic
def revoke_points(event: ReputationEvent, *, reason: str, actor) -> ReputationEvent:
    """A moderator takes points back; the member sees the reason on their profile."""
    reason = _text(reason, "reason", 3, 1000, "The reason")
    event = ReputationEvent.objects.select_for_update().get(pk=event.pk)
    if event.revoked_at:
        raise ActionError("These points were already revoked.", status=409)
    event.revoked_at, event.revoked_reason = timezone.now(), reason
    event.save(update_fields=["revoked_at", "revoked_reason"])
    Member.objects.filter(pk=event.member_id).update(reputation=F("reputation") - event.points)
    _log(actor, "revoke_points", "member", event.member_id, event.member.display_name, event.member, reason)
    return event


def member_stats(member: Member) -> dict[str, int]:
    visible = Visibility.VISIBLE
    return {
        "questions": Question.objects.filter(author=member, visibility=visible).count(),
        "answers": Answer.objects.filter(author=member, visibility=visible).count(),
        "accepted": Question.objects.filter(accepted_answer__author=member).count(),
        "ideas": Idea.objects.filter(author=member, visibility=visible).count(),
        "planned_ideas": Idea.objects.filter(author=member, status__in=(
            Idea.Status.PLANNED, Idea.Status.IN_PROGRESS, Idea.Status.DONE)).count(),
    }


def _award_badges(member: Member) -> None:
    have = set(BadgeAward.objects.filter(member=member).values_list("badge", "scope"))
    wanted = {(code, "") for code in rules.earned_badges(member_stats(member))}
    by_product = dict(Question.objects.filter(accepted_answer__author=member).exclude(author=member)
                      .exclude(product="").values("product").annotate(n=Count("id")).values_list("product", "n"))
    wanted |= {("product_helper", product) for product in rules.product_badges(by_product)}
    for code, scope in sorted(wanted - have):
        BadgeAward.objects.get_or_create(member=member, badge=code, scope=scope)


@transaction.atomic
def set_privileges(member: Member, *, revoked: bool, reason: str, actor) -> Member:
    reason = _text(reason, "reason", 3, 1000, "The reason")
    member.privileges_revoked = revoked
    member.save(update_fields=["privileges_revoked"])
    _log(actor, "revoke_rights" if revoked else "restore_rights", "member", member.pk, member.display_name,
         member, reason)
    return member


@transaction.atomic
def set_moderator(member: Member, *, on: bool, actor) -> Member:
    member.is_moderator = on
    member.save(update_fields=["is_moderator"])
    _log(actor, "promote" if on else "demote", "member", member.pk, member.display_name, member,
         "moderator" if on else "member")
    return member


# --- ideas ---------------------------------------------------------------------------------------------


@transaction.atomic
def submit_idea(member: Member, *, title: str, description: str, product: str = "") -> Idea:
    _check_author(member)
    title = _text(title, "title", 10, 200, "The title")
    description = _text(description, "description", 20, 20000, "The description")
    idea = Idea.objects.create(author=member, title=title, description=description,
                               description_html=render_markdown(description), product=clean_text(product, 100),
                               visibility=_initial_visibility(member, description))
    IdeaVote.objects.create(member=member, idea=idea)
    Idea.objects.filter(pk=idea.pk).update(votes=F("votes") + 1)
    _award_badges(member)
    publish("community.idea_submitted", idea_id=idea.pk, member_id=member.pk)
    _screen_after_commit("idea", idea.pk, member)
    idea.refresh_from_db()
    return idea


@transaction.atomic
def vote_idea(member: Member, idea: Idea, *, up: bool = True) -> int:
    """One vote per member, withdrawable; a merged idea's votes live on the idea it was merged into."""
    if member.is_deleted:
        raise ActionError("This member was deleted.")
    idea = Idea.objects.select_for_update().get(pk=idea.pk)
    if idea.merged_into_id:
        idea = Idea.objects.select_for_update().get(pk=idea.merged_into_id)
    if idea.visibility != Visibility.VISIBLE:
        raise ActionError("This idea is not public.")
    if up:
        try:
            with transaction.atomic():
                IdeaVote.objects.create(member=member, idea=idea)
        except IntegrityError:
            return Idea.objects.get(pk=idea.pk).votes
        Idea.objects.filter(pk=idea.pk).update(votes=F("votes") + 1)
    elif IdeaVote.objects.filter(member=member, idea=idea).delete()[0]:
        Idea.objects.filter(pk=idea.pk).update(votes=F("votes") - 1)
    return Idea.objects.get(pk=idea.pk).votes


@transaction.atomic
def set_idea_status(idea: Idea, *, status: str, note: str, actor) -> Idea:
    """Staff move an idea along with a public note; voters are told by email, linked conversations by reply."""
    if status not in Idea.Status.values:
        raise ActionError(f"Unknown status {status!r}; use one of {', '.join(Idea.Status.values)}.", "status")
    note = _text(note, "note", 3, 5000, "The note")
    idea = Idea.objects.select_for_update().get(pk=idea.pk)
    if idea.merged_into_id:
        raise ActionError("This idea was merged into another one; change that one instead.")
    was = idea.status
    idea.status, idea.status_note = status, note
    idea.save(update_fields=["status", "status_note", "updated_at"])
    IdeaStatusChange.objects.create(idea=idea, status=status, note=note, actor=actor)
    if status in (Idea.Status.PLANNED, Idea.Status.DONE) and was not in (
            Idea.Status.PLANNED, Idea.Status.IN_PROGRESS, Idea.Status.DONE):
        if not ReputationEvent.objects.filter(member=idea.author, reason="idea_planned", idea=idea).exists():
            _grant(idea.author, "idea_planned", idea=idea)
    conversations = list(IdeaLink.objects.filter(idea=idea, kind=IdeaLink.Kind.CONVERSATION)
                         .values_list("object_id", flat=True))
    # a voter who also asked for it in support hears it once, in their conversation
    answered = set(Conversation.objects.filter(pk__in=conversations).values_list("contact_id", flat=True))
    voters = [(e, m.language) for m in Member.objects.filter(idea_votes__idea=idea, is_deleted=False)
              .select_related("user") if m.contact_id not in answered and (e := member_email(m))]
    transaction.on_commit(lambda: notify.idea_status(idea, voters, conversations, actor))
    publish("community.idea_status", idea_id=idea.pk, status=status)
    return idea


@transaction.atomic
def link_idea(idea: Idea, *, kind: str, object_id: int, label: str = "", actor=None) -> IdeaLink:
    """Confirm that a conversation or a listening post asks for this idea (counted on the idea)."""
    if kind not in IdeaLink.Kind.values:
        raise ActionError(f"Link a conversation or a post, not {kind!r}.", "kind")
    if not isinstance(object_id, int) or object_id <= 0:
        raise ActionError("Give the id of the conversation or post.", "object_id")
    link, _ = IdeaLink.objects.get_or_create(idea=idea, kind=kind, object_id=object_id,
                                             defaults={"label": clean_text(label, 300), "actor": actor})
    return link


@transaction.atomic
def unlink_idea(link: IdeaLink, actor=None) -> None:
    link.delete()


@transaction.atomic
def merge_ideas(keep: Idea, drop: Idea, *, reason: str, actor) -> Idea:
    """Votes of ``drop`` move to ``keep``; a member who voted for both counts once."""
    if keep.pk == drop.pk:
        raise ActionError("An idea cannot be merged with itself.")
    reason = _text(reason, "reason", 3, 1000, "The reason")
    keep = Idea.objects.select_for_update().get(pk=keep.pk)
    drop = Idea.objects.select_for_update().get(pk=drop.pk)
    if drop.merged_into_id:
        raise ActionError("That idea was already merged.", status=409)
    if keep.merged_into_id:
        raise ActionError(f"The idea to keep was itself merged into #{keep.merged_into_id}; merge into that one.",
                          status=409)
    voters = set(IdeaVote.objects.filter(idea=keep).values_list("member_id", flat=True))
    IdeaVote.objects.filter(idea=drop, member_id__in=voters).delete()
    IdeaVote.objects.filter(idea=drop).update(idea=keep)
    for link in IdeaLink.objects.filter(idea=drop):
        IdeaLink.objects.get_or_create(idea=keep, kind=link.kind, object_id=link.object_id,
                                       defaults={"label": link.label, "actor": link.actor})
    Idea.objects.filter(pk=keep.pk).update(votes=IdeaVote.objects.filter(idea=keep).count())
    drop.merged_into, drop.votes = keep, 0
    drop.save(update_fields=["merged_into", "votes", "updated_at"])
    _log(actor, "merge", "idea", drop.pk, drop.title, drop.author, reason)
    keep.refresh_from_db()
    return keep


# --- moderation ----------------------------------------------------------------------------------------

MODELS = {"question": Question, "answer": Answer, "comment": Comment, "idea": Idea}
ACTIONS = ("remove", "restore", "approve", "lock", "unlock", "edit")


def _log(actor, action: str, kind: str, target_id: int, title: str, author: Member | None, reason: str,
         actor_member: Member | None = None) -> ModerationAction:
    user = actor if getattr(actor, "is_authenticated", False) else None
    return ModerationAction.objects.create(actor=user, actor_member=actor_member, action=action,
                                           target_kind=kind, target_id=target_id, target_title=title[:200],
                                           author=author, reason=reason)


post_title = queries.thread_title


@transaction.atomic
def moderate(kind: str, target_id: int, action: str, *, reason: str, actor=None, actor_member: Member | None = None,
             body: str = "") -> ModerationAction:
    """Remove, restore, approve, lock, unlock or edit a post; the reason is logged and shown to its author."""
    if kind not in MODELS:
        raise ActionError(f"Unknown content kind {kind!r}.", "kind")
    if action not in ACTIONS:
        raise ActionError(f"Unknown moderation action {action!r}; use one of {', '.join(ACTIONS)}.", "action")
    reason = _text(reason, "reason", 3, 1000, "The reason")
    model = MODELS[kind]
    obj = model.objects.select_for_update().filter(pk=target_id).first()
    if obj is None:
        raise ActionError(f"There is no {kind} #{target_id}.", "id")
    if actor_member is not None and not actor_member.is_staff and not actor_member.is_moderator:
        # mentors may only handle new members' held posts
        if not (can_moderate(actor_member, "moderate_new_posts") and action in ("approve", "remove")
                and getattr(obj, "visibility", "") == Visibility.HELD):
            raise ActionError("You are not allowed to moderate this.")
    was_visible = getattr(obj, "visibility", None) == Visibility.VISIBLE
    if action in ("restore", "approve") and getattr(obj, "merged_into_id", None):
        # a merged duplicate stays hidden: its answers and votes live on the question it was merged into
        raise ActionError(f"This {kind} was merged into #{obj.merged_into_id}; it cannot be shown again.",
                          status=409)
    if action in ("remove", "restore", "approve"):
        obj.visibility = Visibility.REMOVED if action == "remove" else Visibility.VISIBLE
        obj.save(update_fields=["visibility"])
    elif action in ("lock", "unlock"):
        if kind != "question":
            raise ActionError("Only questions can be locked.", "action")
        obj.locked = action == "lock"
        obj.save(update_fields=["locked"])
    else:
        field = {"question": "body", "answer": "body", "idea": "description", "comment": "text"}[kind]
        setattr(obj, field, _text(body, "body", 2, 20000, "The text"))
        fields = [field]
        if kind != "comment":
            setattr(obj, f"{field}_html", render_markdown(getattr(obj, field)))
            fields.append(f"{field}_html")
        obj.save(update_fields=fields)
    if kind == "answer" and action in ("remove", "restore", "approve"):
        now_visible = obj.visibility == Visibility.VISIBLE
        if now_visible != was_visible:
            Question.objects.filter(pk=obj.question_id).update(
                answer_count=F("answer_count") + (1 if now_visible else -1))
            if not now_visible:
                Question.objects.filter(pk=obj.question_id, accepted_answer=obj).update(accepted_answer=None)
    entry = _log(actor, action, kind, obj.pk, post_title(kind, obj), obj.author, reason, actor_member)
    if action in ("remove", "resolve"):
        Report.objects.filter(target_kind=kind, target_id=obj.pk, resolved_at__isnull=True) \
            .update(resolved_at=timezone.now())
    publish("community.moderated", kind=kind, target_id=obj.pk, action=action)
    return entry


@transaction.atomic
def report(member: Member, kind: str, target_id: int, *, reason: str) -> Report:
    if kind not in MODELS:
        raise ActionError(f"Unknown content kind {kind!r}.", "kind")
    if not MODELS[kind].objects.filter(pk=target_id).exists():
        raise ActionError(f"There is no {kind} #{target_id}.", "id")
    reason = _text(reason, "reason", 3, 500, "The reason")
    found, _ = Report.objects.get_or_create(reporter=member, target_kind=kind, target_id=target_id,
                                            defaults={"reason": reason})
    return found


@transaction.atomic
def dismiss_report(item: Report, actor=None) -> None:
    item.resolved_at = timezone.now()
    item.save(update_fields=["resolved_at"])


def hold_if_spam(kind: str, target_id: int, labels: list[str]) -> bool:
    """The engine's verdict on a new member's post: spam or abuse is held for a moderator (logged as the
    system, with the reason the author sees)."""
    if "spam" in labels:
        why = "Held for review: looks like spam."
    elif "abusive" in labels:
        why = "Held for review: the wording looks abusive."
    else:
        return False
    obj = MODELS[kind].objects.filter(pk=target_id, visibility=Visibility.VISIBLE).first()
    if obj is None:
        return False
    with transaction.atomic():
        obj.visibility = Visibility.HELD
        obj.save(update_fields=["visibility"])
        if kind == "answer":
            Question.objects.filter(pk=obj.question_id).update(answer_count=F("answer_count") - 1)
        _log(None, "hold", kind, obj.pk, post_title(kind, obj), obj.author, why)
    return True


def _screen_after_commit(kind: str, target_id: int, member: Member) -> None:
    """New members' posts are read by the engine in the worker (subscribed in apps.py), never in the request."""
    if is_new_member(member):
        publish("community.screen_post", kind=kind, target_id=target_id)


# --- support -------------------------------------------------------------------------------------------


def escalate_unanswered(*, now=None) -> list[Question]:
    """Questions without an answer after the configured hours become conversations for support."""
    now = now or timezone.now()
    hours = float(getattr(settings, "RESONANZ_COMMUNITY_ESCALATE_HOURS", 24))
    due = list(Question.objects.filter(visibility=Visibility.VISIBLE, answer_count=0, escalated_at__isnull=True,
                                       created_at__lte=now - timedelta(hours=hours))
               .select_related("author").order_by("created_at")[:200])
    done = []
    for question in due:
        with transaction.atomic():
            claimed = Question.objects.filter(pk=question.pk, escalated_at__isnull=True).update(escalated_at=now)
            if not claimed:
                continue
            support.hand_to_support(question, member_email(question.author))
        done.append(question)
    return done


# --- CRM hooks -----------------------------------------------------------------------------------------


def move_contact_rows(keep, drop, actor=None) -> None:
    """crm merged two contacts: their two members become one (the kept contact's, or the dropped one moved)."""
    dropped = Member.objects.filter(contact=drop).first()
    if dropped is None:
        return
    kept = Member.objects.filter(contact=keep).first()
    if kept is None:
        dropped.contact = keep
        dropped.save(update_fields=["contact"])
        return
    for model in (Question, Answer, Comment, Idea):
        model.objects.filter(author=dropped).update(author=kept)
    for m in (ReputationEvent,):
        m.objects.filter(member=dropped).update(member=kept)
    for vote_row in Vote.objects.filter(member=dropped):
        if Vote.objects.filter(member=kept, question_id=vote_row.question_id, answer_id=vote_row.answer_id).exists():
            vote_row.delete()
        else:
            Vote.objects.filter(pk=vote_row.pk).update(member=kept)
    Vote.objects.filter(recipient=dropped).update(recipient=kept)
    for iv in IdeaVote.objects.filter(member=dropped):
        if IdeaVote.objects.filter(member=kept, idea_id=iv.idea_id).exists():
            Idea.objects.filter(pk=iv.idea_id).update(votes=F("votes") - 1)
            iv.delete()
        else:
            IdeaVote.objects.filter(pk=iv.pk).update(member=kept)
    Follow.objects.filter(member=dropped).exclude(question__followers__member=kept).update(member=kept)
    Member.objects.filter(pk=kept.pk).update(reputation=F("reputation") + dropped.reputation)
    dropped.delete()


def erase_contact(contact, actor=None) -> None:
    """GDPR erasure: personal data goes; posts stay as "deleted member" only if the member agreed."""
    member = Member.objects.filter(contact=contact).first()
    if member is not None:
        erase_member(member, actor=actor)


@transaction.atomic
def erase_member(member: Member, *, actor=None) -> None:
    """Without the member's consent to keep their posts, they go with the member, and so do their votes:
    the counters on other members' posts, ideas and tags and the points those votes gave are taken back
    first (the rows would otherwise vanish by cascade and leave the counts too high)."""
    email = member_email(member)
    if email:
        LoginToken.objects.filter(email=email).delete()  # the address is personal data too
    if not member.keep_posts_on_erasure:
        _forget_contributions(member)
        member.delete()
        return
    member.display_name, member.about, member.language = "", "", ""
    member.contact, member.is_deleted, member.reputation, member.avatar_version = None, True, 0, 0
    member.save()
    Avatar.objects.filter(member=member).delete()  # a photo is personal data
    Follow.objects.filter(member=member).delete()
    BadgeAward.objects.filter(member=member).delete()


def _hand_idea_on(idea: Idea, member: Member) -> None:
    """Other members' ideas were merged into this one, which goes: the oldest of them takes its place with
    the others' votes and the evidence, so nobody's vote is lost with the erased member's idea."""
    heir = Idea.objects.filter(merged_into=idea).exclude(author=member).order_by("created_at", "pk").first()
    if heir is None:
        return
    Idea.objects.filter(merged_into=idea).exclude(pk=heir.pk).update(merged_into=heir)
    IdeaVote.objects.filter(idea=idea).exclude(member=member).update(idea=heir)
    for link in IdeaLink.objects.filter(idea=idea):
        IdeaLink.objects.get_or_create(idea=heir, kind=link.kind, object_id=link.object_id,
                                       defaults={"label": link.label, "actor": link.actor})
    Idea.objects.filter(pk=heir.pk).update(merged_into=None, votes=IdeaVote.objects.filter(idea=heir).count())


def _forget_contributions(member: Member) -> None:
    """Undo the counters the member's rows add to what stays: votes, idea votes, answers, tags, points."""
    for vote_row in Vote.objects.filter(member=member).exclude(recipient=member):
        if vote_row.answer_id:
            Answer.objects.filter(pk=vote_row.answer_id).update(score=F("score") - 1)
        else:
            Question.objects.filter(pk=vote_row.question_id).update(score=F("score") - 1)
    for event in ReputationEvent.objects.filter(source=member, revoked_at__isnull=True).exclude(member=member):
        Member.objects.filter(pk=event.member_id).update(reputation=F("reputation") - event.points)
        event.delete()
    own_ideas = Idea.objects.filter(author=member)
    for idea_id in IdeaVote.objects.filter(member=member).exclude(idea__in=own_ideas) \
            .values_list("idea_id", flat=True):
        Idea.objects.filter(pk=idea_id).update(votes=F("votes") - 1)
    for idea in own_ideas.filter(merged_into__isnull=True):
        _hand_idea_on(idea, member)
    own_questions = Question.objects.filter(author=member)
    for row in Answer.objects.filter(author=member, visibility=Visibility.VISIBLE) \
            .exclude(question__in=own_questions).values("question_id").annotate(n=Count("id")):
        Question.objects.filter(pk=row["question_id"]).update(answer_count=F("answer_count") - row["n"])
    through = Question.tags.through
    for row in through.objects.filter(question__author=member).values("tag_id").annotate(n=Count("id")):
        Tag.objects.filter(pk=row["tag_id"]).update(question_count=F("question_count") - row["n"])
    if through.objects.filter(question__author=member).exists():
        queries.forget_tags()


@transaction.atomic
def set_keep_posts(member: Member, keep: bool) -> Member:
    member.keep_posts_on_erasure = keep
    member.save(update_fields=["keep_posts_on_erasure"])
    return member


def visible_q() -> Q:
    return Q(visibility=Visibility.VISIBLE)


# --- avatars -------------------------------------------------------------------------------------------


@transaction.atomic
def set_avatar(member: Member, data: bytes) -> Member:
    """Store a picture re-encoded by us (``avatars.normalise``); the URL changes so browsers fetch it anew."""
    from resonanz.community import avatars

    image = avatars.normalise(data)
    Avatar.objects.update_or_create(member=member, defaults={"image": image, "content_type": "image/webp"})
    Member.objects.filter(pk=member.pk).update(avatar_version=F("avatar_version") + 1)
    member.refresh_from_db(fields=["avatar_version"])
    return member


@transaction.atomic
def remove_avatar(member: Member) -> Member:
    Avatar.objects.filter(member=member).delete()
    Member.objects.filter(pk=member.pk).update(avatar_version=0)
    member.avatar_version = 0
    return member


# --- moving and merging questions, editing tags ----------------------------------------------------------


def _require(member: Member | None, actor, right: str) -> None:
    """A desk user with the moderation permission, a moderator, or a member whose level gives ``right``."""
    if member is None and getattr(actor, "is_authenticated", False):
        return
    if not can_moderate(member, right):
        raise ActionError("You are not allowed to do this.")


def _set_tags(question: Question, rows: list[Tag]) -> None:
    before = set(question.tags.values_list("pk", flat=True))
    after = {t.pk for t in rows}
    Tag.objects.filter(pk__in=before - after).update(question_count=F("question_count") - 1)
    Tag.objects.filter(pk__in=after - before).update(question_count=F("question_count") + 1)
    question.tags.set(rows)


@transaction.atomic
def move_question(question: Question, *, tags=None, product: str | None = None, reason: str, actor=None,
                  actor_member: Member | None = None) -> Question:
    """Put a question under other tags or another product; the reason is logged and shown to its author."""
    _require(actor_member, actor, "")
    if tags is None and product is None:
        raise ActionError("Give the tags or the product to move the question to.", "tags")
    reason = _text(reason, "reason", 3, 1000, "The reason")
    question = Question.objects.select_for_update().get(pk=question.pk)
    if question.merged_into_id:
        raise ActionError(f"This question was merged into #{question.merged_into_id}; move that one instead.",
                          status=409)
    if tags is not None:
        _set_tags(question, _tags(tags))
    if product is not None:
        question.product = clean_text(product, 100)
        question.save(update_fields=["product", "updated_at"])
    _log(actor, "move", "question", question.pk, question.title, question.author, reason, actor_member)
    queries.forget_tags()
    publish("community.question_moved", question_id=question.pk)
    return question


@transaction.atomic
def merge_questions(keep: Question, drop: Question, *, reason: str, actor=None,
                    actor_member: Member | None = None) -> Question:
    """``drop`` is a duplicate of ``keep``: its answers, comments, votes and followers move to ``keep``.

    A member who voted for or followed both counts once. ``drop`` stays as a row that redirects to ``keep``
    (old links keep working) and is hidden from lists; the reason is shown to its author.
    """
    _require(actor_member, actor, "close_duplicates")
    if keep.pk == drop.pk:
        raise ActionError("A question cannot be merged with itself.")
    reason = _text(reason, "reason", 3, 1000, "The reason")
    first, second = sorted([keep.pk, drop.pk])
    locked = {q.pk: q for q in Question.objects.select_for_update().filter(pk__in=[first, second])}
    keep, drop = locked[keep.pk], locked[drop.pk]
    if drop.merged_into_id or keep.merged_into_id:
        raise ActionError("One of these questions was already merged into another.", status=409)
    Answer.objects.filter(question=drop).update(question=keep)
    Comment.objects.filter(question=drop).update(question=keep)
    voters = set(Vote.objects.filter(question=keep, answer__isnull=True).values_list("member_id", flat=True))
    Vote.objects.filter(question=drop, answer__isnull=True, member_id__in=voters).delete()
    Vote.objects.filter(question=drop).update(question=keep)
    followers = set(Follow.objects.filter(question=keep).values_list("member_id", flat=True))
    Follow.objects.filter(question=drop, member_id__in=followers).delete()
    Follow.objects.filter(question=drop).update(question=keep)
    _set_tags(keep, list({t.pk: t for t in [*keep.tags.all(), *drop.tags.all()]}.values())[:MAX_TAGS])
    _set_tags(drop, [])
    keep.score = Vote.objects.filter(question=keep, answer__isnull=True).count()
    keep.answer_count = Answer.objects.filter(question=keep, visibility=Visibility.VISIBLE).count()
    if keep.accepted_answer_id is None and drop.accepted_answer_id is not None:
        keep.accepted_answer_id = drop.accepted_answer_id
    keep.last_activity_at = timezone.now()
    keep.save(update_fields=["score", "answer_count", "accepted_answer", "last_activity_at", "updated_at"])
    drop.merged_into, drop.visibility, drop.score, drop.answer_count, drop.accepted_answer = \
        keep, Visibility.REMOVED, 0, 0, None
    drop.save(update_fields=["merged_into", "visibility", "score", "answer_count", "accepted_answer", "updated_at"])
    _log(actor, "merge", "question", drop.pk, drop.title, drop.author, reason, actor_member)
    queries.forget_tags()
    publish("community.questions_merged", keep_id=keep.pk, drop_id=drop.pk)
    return keep


def tag_slug(name: str, field: str = "name") -> str:
    """A tag's name as stored: a lower-case slug of at most 40 characters (NFKC can make "㍿" four)."""
    slug = slugify(str(name)[:40], allow_unicode=True)[:40].strip("-_")
    if not slug:
        raise ActionError("A tag name needs letters or digits.", field)
    return slug


@transaction.atomic
def rename_tag(tag: Tag, new_name: str, *, actor=None, actor_member: Member | None = None,
               merge_if_taken: bool = True) -> Tag:
    """Rename a tag; if the new name is taken the two tags are merged instead (their questions combined).

    The API asks for a plain rename (``merge_if_taken=False``): a taken name is a 409 there, because a PATCH
    that deletes the tag it was sent to would surprise a client; it merges with its own endpoint."""
    _require(actor_member, actor, "edit_tags")
    slug = tag_slug(new_name)
    other = Tag.objects.filter(name=slug).exclude(pk=tag.pk).first()
    if other is not None:
        if not merge_if_taken:
            raise ActionError(f"The tag “{slug}” exists already; merge into it instead.", "name", status=409)
        return merge_tags(other, tag, actor=actor, actor_member=actor_member)
    if slug == tag.name:
        return tag
    old = tag.name
    tag.name = slug
    tag.save(update_fields=["name"])
    _log(actor, "rename", "tag", tag.pk, slug, None, f"{old} → {slug}", actor_member)
    queries.forget_tags()
    return tag


@transaction.atomic
def merge_tags(keep: Tag, drop: Tag, *, actor=None, actor_member: Member | None = None) -> Tag:
    """Every question tagged ``drop`` gets ``keep`` (once); ``drop`` is deleted."""
    _require(actor_member, actor, "edit_tags")
    if keep.pk == drop.pk:
        raise ActionError("A tag cannot be merged with itself.")
    through = Question.tags.through
    already = set(through.objects.filter(tag=keep).values_list("question_id", flat=True))
    through.objects.filter(tag=drop, question_id__in=already).delete()
    through.objects.filter(tag=drop).update(tag=keep)
    Tag.objects.filter(pk=keep.pk).update(question_count=through.objects.filter(tag=keep).count())
    if not keep.description and drop.description:
        Tag.objects.filter(pk=keep.pk).update(description=drop.description)
    _log(actor, "merge", "tag", keep.pk, keep.name, None, f"{drop.name} → {keep.name}", actor_member)
    drop.delete()
    queries.forget_tags()
    keep.refresh_from_db()
    return keep


@transaction.atomic
def describe_tag(tag: Tag, description: str, *, actor=None, actor_member: Member | None = None) -> Tag:
    _require(actor_member, actor, "edit_tags")
    text = clean_text(description, 1001).strip()
    if len(text) > 1000:
        raise ActionError("A tag description can have at most 1000 characters.", "description")
    tag.description = text
    tag.save(update_fields=["description"])
    _log(actor, "describe", "tag", tag.pk, tag.name, None, text or "—", actor_member)
    queries.forget_tags()
    return tag


@transaction.atomic
def edit_tag(tag: Tag, *, name: str | None = None, description: str | None = None, actor=None,
             actor_member: Member | None = None) -> Tag:
    """Rename and/or describe a tag in one step (the API's PATCH); a taken name is refused, not merged."""
    if name is None and description is None:
        raise ActionError("Give a new name or a description for the tag.", "name")
    if name is not None:
        tag = rename_tag(tag, name, actor=actor, actor_member=actor_member, merge_if_taken=False)
    if description is not None:
        tag = describe_tag(tag, description, actor=actor, actor_member=actor_member)
    return tag


# --- ideas from clusters -------------------------------------------------------------------------------


@transaction.atomic
def idea_from_cluster(*, actor, title: str, description: str, product: str = "",
                      conversations=(), posts=()) -> Idea:
    """A product manager turns a cluster into an idea: posted as their staff member, with its evidence linked."""
    idea = submit_idea(staff_member(actor), title=title, description=description, product=product)
    for object_id in conversations:
        link_idea(idea, kind=IdeaLink.Kind.CONVERSATION, object_id=int(object_id), actor=actor)
    labels = {pk: " ".join(f"{t} {x}".split())[:300] for pk, t, x in
              Post.objects.filter(pk__in=[int(p) for p in posts]).values_list("pk", "title", "text")}
    for object_id in posts:
        link_idea(idea, kind=IdeaLink.Kind.POST, object_id=int(object_id), label=labels.get(int(object_id), ""),
                  actor=actor)
    return idea
def export_contact(contact):
    """The contact's community activity for the GDPR export: profile, questions, answers, comments, ideas, votes."""
    from resonanz.crm.privacy import ExportPart, rows

    member = Member.objects.filter(contact=contact).first()
    if member is None:
        return ExportPart(sections={"community": {}})
    activity = {
        "member": rows([member]),
        "questions": rows(Question.objects.filter(author=member).order_by("id")),
        "answers": rows(Answer.objects.filter(author=member).order_by("id")),
        "comments": rows(Comment.objects.filter(author=member).order_by("id")),
        "ideas": rows(Idea.objects.filter(author=member).order_by("id")),
        "votes": rows(Vote.objects.filter(member=member).order_by("id")),
        "idea_votes": rows(IdeaVote.objects.filter(member=member).order_by("id")),
        "reputation_events": rows(ReputationEvent.objects.filter(member=member).order_by("id")),
    }
    posts = sum(len(activity[k]) for k in ("questions", "answers", "comments", "ideas"))
    return ExportPart(sections={"community": activity}, counts={"community_posts": posts})
