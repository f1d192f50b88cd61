"""Idea clusters for product managers: open ideas, support conversations and public posts that ask for the
same thing, grouped by the engine (``analysis.clusters`` over the knowledge base's sentence embeddings, or
TF-IDF when embeddings are switched off).

A group that holds no idea yet can become one ("create idea from cluster", its conversations and posts
linked as evidence); a group that holds several ideas shows they are duplicates ("merge ideas"). The result
is cached for a few minutes: embedding hundreds of new texts takes seconds on a CPU, and the vectors
themselves are cached on disk by ``CachedEmbedder``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.core.cache import cache
from django.utils import timezone

from resonanz.analysis.clusters import cluster_texts
from resonanz.community.models import Idea, IdeaLink, Visibility
from resonanz.inbox.models import Message
from resonanz.knowledge.embedding import cached_embedder
from resonanz.listening.models import Post

CACHE_SECONDS = 600
SNIPPET = 240


@dataclass
class Item:
    kind: str            # "idea", "conversation" or "post"
    pk: int
    text: str
    idea: Idea | None = None
    linked_to: list[int] = field(default_factory=list)   # ideas this conversation or post is already linked to


@dataclass
class Group:
    number: int
    label: str
    size: int
    ideas: list[Item]
    conversations: list[Item]
    posts: list[Item]

    @property
    def suggested_title(self) -> str:
        return (self.conversations or self.posts or self.ideas)[0].text.split("\n")[0][:120]

    @property
    def suggested_description(self) -> str:
        lines = [f"- {i.text[:200]}" for i in (self.conversations + self.posts)[:5]]
        return "\n".join(lines)


def _items(days: int, limit: int) -> list[Item]:
    since = timezone.now() - timedelta(days=days)
    ideas = Idea.objects.filter(visibility=Visibility.VISIBLE, merged_into__isnull=True).exclude(
        status__in=(Idea.Status.DONE, Idea.Status.DECLINED)).order_by("-votes", "-pk")[:limit]
    out = [Item("idea", i.pk, f"{i.title}\n{i.description}"[:SNIPPET * 2], idea=i) for i in ideas]
    seen: set[int] = set()
    messages = (Message.objects.filter(direction=Message.Direction.INBOUND, created_at__gte=since)
                .order_by("-created_at").values_list("conversation_id", "subject", "text")[:limit * 4])
    for conversation_id, subject, text in messages:
        if conversation_id in seen or len(seen) >= limit:
            continue
        seen.add(conversation_id)
        body = " ".join(f"{subject}\n{text}".split()) if subject else " ".join(text.split())
        if len(body) >= 10:
            out.append(Item("conversation", conversation_id, body[:SNIPPET * 2]))
    posts = Post.objects.filter(fetched_at__gte=since).order_by("-pk").values_list("pk", "title", "text")[:limit]
    for pk, title, text in posts:
        body = " ".join(f"{title} {text}".split())
        if len(body) >= 10:
            out.append(Item("post", pk, body[:SNIPPET * 2]))
    links: dict[tuple[str, int], list[int]] = {}
    for kind, object_id, idea_id in IdeaLink.objects.filter(
            idea__merged_into__isnull=True).values_list("kind", "object_id", "idea_id"):
        links.setdefault((kind, object_id), []).append(idea_id)
    for item in out:
        item.linked_to = links.get((item.kind, item.pk), [])
    return out


def compute(*, days: int = 90, limit: int = 300) -> list[Group]:
    """Groups worth a product manager's look: at least two ideas, or evidence together with or without an idea."""
    items = _items(days, limit)
    if len(items) < 2:
        return []
    texts = [i.text for i in items]
    embedder = cached_embedder()
    vectors = embedder.embed_passages(texts) if embedder is not None else None
    groups = []
    for cluster in cluster_texts(texts, vectors, min_size=2):
        members = [items[k] for k in cluster.members]
        ideas = [m for m in members if m.kind == "idea"]
        if len(members) - len(ideas) == 0 and len(ideas) < 2:
            continue
        groups.append(Group(len(groups) + 1, cluster.label, cluster.size, ideas,
                            [m for m in members if m.kind == "conversation"],
                            [m for m in members if m.kind == "post"]))
    return groups


def cached(*, days: int = 90, limit: int = 300, fresh: bool = False) -> list[Group]:
    key = f"community:idea-clusters:{days}:{limit}"
    groups = None if fresh else cache.get(key)
    if groups is None:
        groups = compute(days=days, limit=limit)
        cache.set(key, groups, CACHE_SECONDS)
    return groups


def forget() -> None:
    cache.delete("community:idea-clusters:90:300")
