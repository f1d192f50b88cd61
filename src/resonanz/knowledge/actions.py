"""Every change to the knowledge base goes through here: articles, versions, feedback, proposals."""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.text import slugify

from resonanz.core.errors import ActionError
from resonanz.core.events import publish
from resonanz.crm.actions import get_tags
from resonanz.knowledge.models import Article, ArticleFeedback, ArticleVersion, Category
from resonanz.knowledge.search import PUBLIC_SOURCES, articles

FIELDS = {"title", "body", "language", "category", "status", "visibility", "example_questions", "source",
          "proposal", "is_demo"}


def _validate(values: dict) -> None:
    if "title" in values and not (values["title"] or "").strip():
        raise ActionError("An article needs a title.", "title")
    if "body" in values and not (values["body"] or "").strip():
        raise ActionError("An article needs a text.", "body")
    if "language" in values and values["language"] not in Article.Language.values:
        raise ActionError("Language must be de or en.", "language")
    if "status" in values and values["status"] not in Article.Status.values:
        raise ActionError(f"Status must be one of {', '.join(Article.Status.values)}.", "status")
    if "visibility" in values and values["visibility"] not in Article.Visibility.values:
        raise ActionError("Visibility must be public or internal.", "visibility")


def _snapshot(article: Article, editor, note: str) -> None:
    number = (article.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    ArticleVersion.objects.create(article=article, number=number, title=article.title, body=article.body,
                                  status=article.status, editor=editor, note=note[:300])


@transaction.atomic
def create_article(editor, *, tags: list[str] | None = None, translation_of: Article | None = None,
                   note: str = "created", **values) -> Article:
    unknown = set(values) - FIELDS
    if unknown:
        raise ActionError(f"Unknown article fields: {', '.join(sorted(unknown))}.")
    values.setdefault("title", "")
    values.setdefault("body", "")
    _validate(values)
    article = Article(created_by=editor, updated_by=editor, slug=slugify(values["title"])[:250] or "article",
                      **values)
    if article.status == Article.Status.PUBLISHED:
        article.published_at = timezone.now()
    article.save()
    if translation_of is not None:
        link_translation(article, translation_of)
    if tags:
        article.tags.set(get_tags(tags))
    _snapshot(article, editor, note)
    publish("article.changed", article_id=article.pk)
    return article


@transaction.atomic
def update_article(article: Article, editor, *, tags: list[str] | None = None, note: str = "",
                   **values) -> Article:
    unknown = set(values) - FIELDS
    if unknown:
        raise ActionError(f"Unknown article fields: {', '.join(sorted(unknown))}.")
    _validate(values)
    article = Article.objects.select_for_update().get(pk=article.pk)
    changed = {k for k, v in values.items() if getattr(article, k) != v}
    for key, value in values.items():
        setattr(article, key, value)
    if "title" in changed:
        article.slug = slugify(article.title)[:250] or "article"
    if values.get("status") == Article.Status.PUBLISHED and not article.published_at:
        article.published_at = timezone.now()
    article.updated_by = editor
    article.save()
    if tags is not None:
        article.tags.set(get_tags(tags))
    if changed or tags is not None:
        _snapshot(article, editor, note or "changed " + ", ".join(sorted(changed or {"tags"})))
    publish("article.changed", article_id=article.pk)
    return article


def set_status(article: Article, editor, status: str) -> Article:
    return update_article(article, editor, status=status, note=f"status {status}")


def restore_version(article: Article, version: ArticleVersion, editor) -> Article:
    return update_article(article, editor, title=version.title, body=version.body,
                          note=f"restored version {version.number}")


def link_translation(article: Article, other: Article) -> None:
    if article.pk == other.pk:
        raise ActionError("An article cannot translate itself.", "translation_of")
    if article.language == other.language:
        raise ActionError("A translation must be in the other language.", "translation_of")
    group = other.translation_group or other.pk
    Article.objects.filter(pk__in=[other.pk, article.pk]).update(translation_group=group)
    article.translation_group = group


def unlink_translation(article: Article) -> None:
    """The article no longer translates the others of its group."""
    if not article.translation_group:
        return
    group = article.translation_group
    Article.objects.filter(pk=article.pk).update(translation_group=None)
    article.translation_group = None
    rest = Article.objects.filter(translation_group=group)
    if rest.count() == 1:
        rest.update(translation_group=None)


def create_category(name: str, name_de: str = "", description: str = "") -> Category:
    if not name.strip():
        raise ActionError("A category needs a name.", "name")
    base = slugify(name) or "category"
    slug, n = base, 2
    while Category.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return Category.objects.create(name=name.strip(), name_de=name_de.strip(), slug=slug, description=description)


def update_category(category: Category, *, name: str, name_de: str = "", description: str = "",
                    position: int | None = None) -> Category:
    """Rename or describe a category; its slug (and so its help center address) stays."""
    if not (name or "").strip():
        raise ActionError("A category needs a name.", "name")
    category.name, category.name_de, category.description = name.strip(), (name_de or "").strip(), description
    if position is not None:
        category.position = max(0, int(position))
    category.save()
    return category


def voter_of(address: str) -> str:
    """A keyed hash of a voter's address: enough to tell two addresses apart, useless to find one."""
    return hmac.new(settings.SECRET_KEY.encode(), f"voter:{address}".encode(), hashlib.sha256).hexdigest()[:24]


def record_feedback(article: Article, helpful: bool, *, query: str = "", source: str = "help_center",
                    agent=None, voter: str = "") -> ArticleFeedback:
    """A vote or an agent's use/dismissal, counted at once. The ranking learns it in the worker
    (``knowledge.tasks.learn_feedback`` after the commit), so a vote never embeds its query in a web request."""
    query = (query or "").strip()[:500]
    with transaction.atomic():
        feedback = ArticleFeedback.objects.create(article=article, helpful=helpful, query=query, source=source,
                                                  agent=agent, voter=voter)
        counter = "helpful_count" if helpful else "unhelpful_count"
        Article.objects.filter(pk=article.pk).update(**{counter: F(counter) + 1})
        if query:
            from resonanz.knowledge.tasks import learn_feedback

            transaction.on_commit(lambda: learn_feedback.delay(feedback.pk))
    return feedback


def counts_for_ranking(feedback: ArticleFeedback) -> bool:
    """Agents' feedback always; an anonymous vote only when a vote from another address on the article agrees
    (its own address voting again, from another browser, does not), so no one address moves the ranking."""
    if feedback.source not in PUBLIC_SOURCES or not feedback.voter:
        return True
    return ArticleFeedback.objects.filter(article_id=feedback.article_id, source__in=PUBLIC_SOURCES,
                                          helpful=feedback.helpful).exclude(voter__in=["", feedback.voter]).exists()


def learn_feedback(feedback: ArticleFeedback) -> bool:
    """Teach the ranking one piece of feedback (in the worker). Touching ``updated_at`` makes every other
    process re-read the article with its new history; the query's embedding is then in the shared cache."""
    if not feedback.query or not counts_for_ranking(feedback):
        return False
    Article.objects.filter(pk=feedback.article_id).update(updated_at=timezone.now())
    articles().feedback(feedback.article, feedback.query, feedback.helpful)
    return True
