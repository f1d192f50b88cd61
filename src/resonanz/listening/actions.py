"""Every change to public posts goes through here.

``ingest_post`` stores a post once per (channel, external id). A post that the source changed
later (same id, different title or text) is updated in place and analysed again; it never
becomes a second post, and a conversation already made from it is left as it was.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from resonanz.connectors.intake import InboundMessage, InboundPost, SourceChange
from resonanz.connectors.mail.privacy import block_remote_images
from resonanz.core import pipeline
from resonanz.core.errors import ActionError
from resonanz.core.events import publish
from resonanz.core.sanitize import clean_text, html_to_text, text_to_html
from resonanz.core.timestamps import clamp_sent_at
from resonanz.inbox.actions import ingest
from resonanz.inbox.eventlog import record
from resonanz.listening.models import Post

log = logging.getLogger("resonanz.listening")
__all__ = ["InboundPost", "PostResult", "ingest_post", "ingest_posts", "turn_into_conversation"]


@dataclass
class PostResult:
    post: Post
    status: str  # "created", "updated" or "unchanged"

    @property
    def created(self) -> bool:
        return self.status == "created"


def _hash(title: str, text: str) -> str:
    return hashlib.sha256(f"{title}\x00{text}".encode()).hexdigest()


def ingest_posts(channel, posts: list[InboundPost], *, is_demo: bool = False) -> list[PostResult | ActionError]:
    """The intake's handler for public posts: each stored once, refused ones returned as their ActionError."""
    results: list[PostResult | ActionError] = []
    for inbound in posts:
        try:
            results.append(ingest_post(channel, inbound, is_demo=is_demo or bool(channel.is_demo)))
        except ActionError as exc:
            results.append(exc)
    return results


def ingest_post(channel, inbound: InboundPost, *, is_demo: bool = False) -> PostResult:
    external_id = clean_text(inbound.external_id, 500).strip()
    if not external_id:
        raise ActionError("Every post needs an external id, so a refetch is recognised.", "external_id")
    html = block_remote_images(inbound.html) if inbound.html else ""
    text = clean_text(inbound.text) or (html_to_text(html) if html else "")
    title = clean_text(inbound.title, 500).strip()
    if not text.strip() and not title:
        raise ActionError("The post has neither title nor text.", "text")
    now = timezone.now()
    published, _flagged = clamp_sent_at(inbound.published_at, now)  # a post dated 2099 would top every stream
    digest = _hash(title, text)
    values = dict(
        reach=inbound.reach if isinstance(inbound.reach, int) and inbound.reach >= 0 else None,
        pipeline_state=Post.Pipeline.PENDING,
        source=clean_text(inbound.source, 500), source_title=clean_text(inbound.source_title, 300),
        author=clean_text(inbound.author, 200), author_handle=clean_text(inbound.author_handle, 320),
        link=clean_text(inbound.link, 2000) if inbound.link.startswith(("http://", "https://")) else "",
        title=title, text=text, html=html or text_to_html(text), content_hash=digest,
    )
    existing = Post.objects.filter(channel=channel, external_id=external_id).first()
    if existing is None:
        try:
            with transaction.atomic():
                post = Post.objects.create(channel=channel, external_id=external_id, published_at=published,
                                           fetched_at=now, is_demo=is_demo, **values)
        except IntegrityError:  # a concurrent poll stored it first
            existing = Post.objects.get(channel=channel, external_id=external_id)
        else:
            publish("post.received", post_id=post.pk, channel_id=channel.pk)
            transaction.on_commit(pipeline.kick)
            return PostResult(post, "created")
    if existing.content_hash == digest:
        return PostResult(existing, "unchanged")
    for key, value in values.items():
        setattr(existing, key, value)
    existing.updated_at = now
    existing.save()  # pending again: the pipeline reads the new text and rules see it anew
    publish("post.updated", post_id=existing.pk, channel_id=channel.pk)
    transaction.on_commit(pipeline.kick)
    return PostResult(existing, "updated")


def apply_source_changes(channel, changes: list[SourceChange]) -> list[int]:
    """An author edited or deleted a public post: the intake's handler for the listening stream.

    An edited post takes its new text and is read again; a deleted one leaves the stream (its author took it
    back; a conversation made from it keeps its copy). Returns how many posts each change touched.
    """
    changed = []
    for change in changes:
        post = Post.objects.filter(channel=channel, external_id=clean_text(change.external_id, 500)).first()
        if post is None or change.change not in SourceChange.CHANGES:
            changed.append(0)
            continue
        if change.change == "deleted":
            post_id = post.pk
            post.delete()
            publish("post.deleted", post_id=post_id, channel_id=channel.pk)
            changed.append(1)
            continue
        html = block_remote_images(change.html) if change.html else ""
        text = clean_text(change.text) or (html_to_text(html) if html else "")
        digest = _hash(post.title, text)
        if not text.strip() or digest == post.content_hash:
            changed.append(0)
            continue
        post.text, post.html, post.content_hash = text, html or text_to_html(text), digest
        post.updated_at = timezone.now()
        post.pipeline_state = Post.Pipeline.PENDING
        post.save()
        publish("post.updated", post_id=post.pk, channel_id=channel.pk)
        transaction.on_commit(pipeline.kick)
        changed.append(1)
    return changed


def turn_into_conversation(post: Post, agent=None):
    """Make the post a public inbound message in the inbox (once); returns the conversation."""
    if post.conversation_id:
        return post.conversation
    handle = post.author_handle or post.author or post.link or post.source or f"post-{post.pk}"
    result = ingest(post.channel, InboundMessage(
        external_id=post.message_external_id, sender_handle=handle, sender_name=post.author,
        subject=post.title, text=post.text or post.title, html=post.html, sent_at=post.published_at,
        is_public=True, meta={"post_id": post.pk, "link": post.link, "source": post.source},
    ), is_demo=post.is_demo)
    with transaction.atomic():
        updated = Post.objects.filter(pk=post.pk, conversation__isnull=True).update(conversation=result.conversation)
        if updated:
            record(result.conversation, "post_turned_into_conversation", actor=agent, post_id=post.pk,
                   link=post.link, reason="from the listening stream")
    post.conversation = result.conversation
    publish("post.converted", post_id=post.pk, conversation_id=result.conversation.pk)
    return result.conversation
