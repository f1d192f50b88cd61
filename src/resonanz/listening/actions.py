"""Every change to public posts goes through here.

``ingest_post`` stores a post once per (channel, external id). A post that the source changed
later (same id, different title or text) is updated in place and analysed again; it never
becomes a second post, and a conversation already made from it is left as it was.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from resonanz.connectors.intake import InboundMessage, InboundPost, SourceChange
from resonanz.connectors.mail.privacy import block_remote_images
from resonanz.core import pipeline
from resonanz.core.errors import ActionError
from resonanz.core.events import publish
from resonanz.core.fastsql import build, insert_many, paused_gc
from resonanz.core.sanitize import clean_label, clean_text, html_to_text, text_to_html
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
    """Store a batch of public posts (the intake's handler): results in the order of ``posts``.

    The same guarantees as one post at a time (stored once per channel and external id, a changed text
    updates the stored post and is read again, a refused post comes back as its ActionError and never stops
    the rest), in a few statements per batch on the model of the inbox's ``ingest_many``: one look-up of the
    stored ids, one multi-row insert of the new posts, an update only per post the source changed. A race with
    another writer (the unique constraint) rolls the batch's insert back and stores its posts one by one.
    """
    is_demo = is_demo or bool(channel.is_demo)
    now = timezone.now()
    results: list[PostResult | ActionError | None] = [None] * len(posts)
    latest: dict[str, tuple[int, dict, datetime | None]] = {}  # external id -> (first index, values, published)
    repeats: list[tuple[int, int]] = []
    with paused_gc():
        for index, inbound in enumerate(posts):
            try:
                external_id, values, published = _prepare(inbound, now)
            except ActionError as exc:
                results[index] = exc
                continue
            if external_id in latest:  # the same post twice in one batch: stored once, its last text wins
                first = latest[external_id][0]
                repeats.append((index, first))
                latest[external_id] = (first, values, published)
                continue
            latest[external_id] = (index, values, published)
        stored = _stored(channel, list(latest))
        same = {pk for ext, (pk, digest) in stored.items() if digest == latest[ext][1]["content_hash"]}
        loaded = Post.objects.in_bulk(same) if same else {}  # read again unchanged: one query for all of them
        fresh = []
        for external_id, (index, values, published) in latest.items():
            if external_id in stored:
                pk = stored[external_id][0]
                results[index] = _update_if_changed(channel, stored[external_id], values, now, loaded.get(pk))
            else:
                fresh.append((index, external_id, values, published))
        if fresh:
            for (index, *_rest), result in zip(fresh, _insert(channel, fresh, now, is_demo), strict=True):
                results[index] = result
    for index, first in repeats:
        earlier = results[first]
        results[index] = PostResult(earlier.post, "unchanged") if isinstance(earlier, PostResult) else earlier
    return results  # type: ignore[return-value]


def ingest_post(channel, inbound: InboundPost, *, is_demo: bool = False) -> PostResult:
    """One post (a batch of one): its result; raises the ActionError saying why it was refused."""
    result = ingest_posts(channel, [inbound], is_demo=is_demo)[0]
    if isinstance(result, ActionError):
        raise result
    return result


def _prepare(inbound: InboundPost, now: datetime) -> tuple[str, dict, datetime | None]:
    """Validate and clean one post (raises ActionError saying what is missing)."""
    external_id = clean_text(inbound.external_id, 500).strip()
    if not external_id:
        raise ActionError("Every post needs an external id, so a refetch is recognised.", "external_id")
    html = block_remote_images(inbound.html) if inbound.html else ""
    text = clean_text(inbound.text) or (html_to_text(html, sanitized=True) if html else "")
    title = clean_text(inbound.title, 500).strip()
    if not text.strip() and not title:
        raise ActionError("The post has neither title nor text.", "text")
    published, _flagged = clamp_sent_at(inbound.published_at, now)  # a post dated 2099 would top every stream
    link = inbound.link or ""
    values = dict(
        reach=inbound.reach if isinstance(inbound.reach, int) and inbound.reach >= 0 else None,
        pipeline_state=Post.Pipeline.PENDING,
        source=clean_text(inbound.source, 500), source_title=clean_text(inbound.source_title, 300),
        author=clean_text(inbound.author, 200), author_handle=clean_text(inbound.author_handle, 320),
        link=clean_text(link, 2000) if link.startswith(("http://", "https://")) else "",
        title=title, text=text, html=html or text_to_html(text), content_hash=_hash(title, text),
        media=clean_media(inbound.media),
    )
    return external_id, values, published


def clean_media(media) -> list[dict]:
    """What the stream shows of a post's images and videos: web links with their kind and alt text.

    Listening posts are not addressed to the company, so their media are linked, not downloaded (a
    conversation made from the post, or a mention, stores the files themselves)."""
    cleaned = []
    for item in media or []:
        if not isinstance(item, dict):
            continue
        url = clean_text(str(item.get("url") or ""), 2000)
        if not url.startswith(("https://", "http://")):
            continue
        kind = item.get("kind") if item.get("kind") in ("image", "video", "audio") else "link"
        cleaned.append({"url": url, "kind": kind, "alt": clean_label(str(item.get("alt") or ""))})
    return cleaned[:8]


def _stored(channel, external_ids: list[str]) -> dict[str, tuple[int, str]]:
    """Posts of this channel stored already under these ids: external id -> (id, content hash)."""
    found: dict[str, tuple[int, str]] = {}
    table = connection.ops.quote_name(Post._meta.db_table)
    with connection.cursor() as cursor:  # a plain query: the common answer is "none"
        for start in range(0, len(external_ids), 500):
            part = external_ids[start:start + 500]
            cursor.execute(f"SELECT external_id, id, content_hash FROM {table} WHERE channel_id = %s "
                           f"AND external_id IN ({', '.join(['%s'] * len(part))})", [channel.pk, *part])
            found.update((ext, (pk, digest)) for ext, pk, digest in cursor.fetchall())
    return found


def _insert(channel, fresh: list, now: datetime, is_demo: bool) -> list[PostResult]:
    posts = [build(Post, channel=channel, external_id=external_id, published_at=published, fetched_at=now,
                   is_demo=is_demo, **values) for _index, external_id, values, published in fresh]
    try:
        with transaction.atomic():
            insert_many(Post, posts)
    except IntegrityError:  # a concurrent poll stored some of them first: one by one, each idempotent
        return [_insert_one(channel, external_id, values, published, now, is_demo)
                for _index, external_id, values, published in fresh]
    for post in posts:
        publish("post.received", post_id=post.pk, channel_id=channel.pk)
    transaction.on_commit(pipeline.kick)
    return [PostResult(post, "created") for post in posts]


def _insert_one(channel, external_id: str, values: dict, published, now: datetime, is_demo: bool) -> PostResult:
    try:
        with transaction.atomic():
            post = Post.objects.create(channel=channel, external_id=external_id, published_at=published,
                                       fetched_at=now, is_demo=is_demo, **values)
    except IntegrityError:
        existing = Post.objects.get(channel=channel, external_id=external_id)
        return _update_if_changed(channel, (existing.pk, existing.content_hash), values, now, existing)
    publish("post.received", post_id=post.pk, channel_id=channel.pk)
    transaction.on_commit(pipeline.kick)
    return PostResult(post, "created")


def _update_if_changed(channel, stored: tuple[int, str], values: dict, now: datetime,
                       post: Post | None = None) -> PostResult:
    """A post read again: unchanged (the common case: no write), or its new text stored and read again."""
    pk, digest = stored
    if digest == values["content_hash"]:
        return PostResult(post or Post.objects.get(pk=pk), "unchanged")
    post = post or Post.objects.get(pk=pk)
    for key, value in values.items():
        setattr(post, key, value)
    post.updated_at = now
    post.save()  # pending again: the pipeline reads the new text and rules see it anew
    publish("post.updated", post_id=post.pk, channel_id=channel.pk)
    transaction.on_commit(pipeline.kick)
    return PostResult(post, "updated")


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
        thread=post.message_external_id,  # a conversation about this post, not joined by the author's others
    ), is_demo=post.is_demo)
    with transaction.atomic():
        updated = Post.objects.filter(pk=post.pk, conversation__isnull=True).update(conversation=result.conversation)
        if updated:
            record(result.conversation, "post_turned_into_conversation", actor=agent, post_id=post.pk,
                   link=post.link, reason="from the listening stream")
    post.conversation = result.conversation
    publish("post.converted", post_id=post.pk, conversation_id=result.conversation.pk)
    return result.conversation
