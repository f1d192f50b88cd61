"""The one intake every channel driver hands what it receives to.

A driver knows its platform, not Resonanz's models: it turns whatever arrives into one of the
items below and calls ``submit(channel, items)``. The apps that own the models register a handler
per item type at start-up (the inbox stores messages, listening stores public posts, the inbox
records delivery updates on outbound messages), so a driver never imports another app and a new
kind of item is one dataclass plus one registered handler.

Every handler is idempotent: redelivering the same item (same channel and external id) changes
nothing, so a driver may hand over an item again whenever it is unsure it was stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class InboundMessage:
    """A message to the company: a customer's mail, form, chat line, direct message, mention or reply.

    ``is_public`` says whether others can read it (a mention or comment) or not (mail, direct message).
    ``history`` marks imported history: stored as it happened (the conversation's state follows its last
    message, threads only by reply links). ``outbound`` marks a reply the company sent elsewhere: stored as
    sent, never delivered. ``analyze=False`` keeps it out of the pipeline (analysis, rules, automatic answers).
    """

    external_id: str
    sender_handle: str
    text: str
    sender_name: str = ""
    subject: str = ""
    html: str = ""
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    sent_at: datetime | None = None
    is_public: bool = False
    attachments: list[dict] = field(default_factory=list)
    meta: dict = field(default_factory=dict)
    #: the sender's public profile where the platform has one: display_name, avatar_url, bio, followers, url
    sender_profile: dict = field(default_factory=dict)
    #: overrides how the sender is recognised (email, phone, twitter, …); empty: the driver decides
    identity_kind: str = ""
    history: bool = False
    outbound: bool = False
    analyze: bool = True
    #: refuse it (ActionError on "in_reply_to") rather than start a conversation when its parent is unknown;
    #: an import holds such rows until their parent is stored
    requires_parent: bool = False
    #: a public item's post or thread root (the commented post, the first post of a reply chain): a person's
    #: public items join one conversation per thread, so comments under two posts are two conversations.
    #: Every item of a thread must name the same root whatever order they arrive in; "" for private items
    thread: str = ""
    #: what the thread is about, shown with the conversation: {"text", "link", "author", "media": [{"url",
    #: "kind"}]} of the post (the page's post a comment answers, the tweet a reply chain started with)
    post: dict = field(default_factory=dict)


@dataclass
class InboundPost:
    """A public post about the company that nobody addressed to it: it goes to the listening stream."""

    external_id: str
    text: str = ""
    html: str = ""
    title: str = ""
    author: str = ""
    author_handle: str = ""
    link: str = ""
    published_at: datetime | None = None
    source: str = ""
    source_title: str = ""
    language: str = ""
    #: the author's reach (followers), where the platform says
    reach: int | None = None
    meta: dict = field(default_factory=dict)
    #: images and videos of the post as links: {"url", "kind" (image, video, audio), "alt"}
    media: list[dict] = field(default_factory=list)


@dataclass
class DeliveryUpdate:
    """What a platform says about a message Resonanz sent: delivered, read, failed (a bounce) or an auto-reply.

    ``message_ids`` are the external ids our outbound messages got from the platform (the Message-ID of a
    mail, a status id); ``source_id`` identifies the notice itself, so reading it twice records it once.
    """

    message_ids: list[str]
    status: str  # "delivered", "read", "failed" or "auto_reply"
    detail: str = ""
    source_id: str = ""
    at: datetime | None = None

    STATUSES = ("delivered", "read", "failed", "auto_reply")


@dataclass
class IdentityClaim:
    """A verified statement that a sender is a known contact: a deep link Resonanz handed that contact (Telegram's
    ``/start <reference>``) came back from this identity. The identity joins that contact."""

    kind: str
    handle: str
    contact_id: int
    source: str = ""


@dataclass
class SourceChange:
    """A message or post changed where it was published: ``edited`` (its new text) or ``deleted`` by its author.

    Every app that stores items from channels applies it to what it holds (the inbox to messages, listening to
    posts); the result per change is how many stored items it changed, so applying it twice changes nothing.
    """

    external_id: str
    change: str  # "edited" or "deleted"
    text: str = ""
    html: str = ""
    at: datetime | None = None

    CHANGES = ("edited", "deleted")


Handler = Callable[[Any, list], list]
_handlers: dict[type, Handler] = {}
#: item types every owning app receives (each registers its own handler); results are summed per item
_broadcast: dict[type, dict[str, Handler]] = {SourceChange: {}}


def register(item_type: type, handler: Handler) -> None:
    """The owning app's handler for one item type: ``handler(channel, items) -> results`` in the same order.

    For a type several apps hold (``SourceChange``), each app registers its own handler and all are asked."""
    if item_type in _broadcast:
        _broadcast[item_type][f"{handler.__module__}.{handler.__qualname__}"] = handler
        return
    _handlers[item_type] = handler


def submit(channel, items: Iterable) -> list:
    """Hand received items to their handlers, in runs of one type, keeping the order of results.

    A result is whatever the handler returns per item: the stored object's result, or the ActionError
    that refused it (an item without an id, a message without text); one refused item never stops the rest.
    """
    results: list = []
    run: list = []
    for item in items:
        if run and type(item) is not type(run[0]):
            results.extend(_handle(channel, run))
            run = []
        run.append(item)
    if run:
        results.extend(_handle(channel, run))
    return results


def _handle(channel, items: list) -> list:
    if type(items[0]) in _broadcast:
        totals = [0] * len(items)
        for handler in _broadcast[type(items[0])].values():
            for index, changed in enumerate(handler(channel, items)):
                totals[index] += int(changed or 0)
        return totals
    try:
        handler = _handlers[type(items[0])]
    except KeyError:
        raise LookupError(f"no app handles {type(items[0]).__name__}; is its app installed?") from None
    return handler(channel, items)


StoredLookup = Callable[[Any, list[str]], dict[str, str]]
_stored: list[StoredLookup] = []


def register_stored(lookup: StoredLookup) -> None:
    """The app that stores messages answers which external ids a channel holds already (``stored``)."""
    _stored[:] = [lookup]


def stored(channel, external_ids: Iterable[str]) -> dict[str, str]:
    """The channel's messages stored already under these external ids: id -> the thread (post or root) of the
    conversation each is in ("" for none). A driver asks before costly work for an item: a platform that
    re-delivers a webhook must not make us download its media again, and a reply whose parent is stored can
    join the parent's thread when the platform cannot name the root."""
    ids = [i for i in dict.fromkeys(external_ids) if i]
    if not ids or not _stored:
        return {}
    return _stored[0](channel, ids)


def created(results: list) -> int:
    """How many of ``results`` are new (the count a poll reports)."""
    return sum(1 for r in results if getattr(r, "created", False))
