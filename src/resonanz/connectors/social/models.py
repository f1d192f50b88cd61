"""What the social clients return: plain dataclasses, the network's raw JSON always kept in `raw`.

Text fields are exactly what the network sent (including script tags, zero-width or bidi control
characters): the driver sanitizes `html` before anyone sees it and stores `text` as data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Profile:
    external_id: str  # Mastodon account id, Bluesky DID
    handle: str  # "kunde@social.example" (Mastodon acct), "kunde.bsky.social" (Bluesky)
    display_name: str = ""
    avatar_url: str = ""
    bio: str = ""  # plain text; Mastodon's note is HTML, see bio_html
    bio_html: str = ""
    followers: int | None = None  # None when the server does not say
    following: int | None = None
    posts: int | None = None
    url: str = ""
    is_bot: bool = False
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Post:
    external_id: str  # Mastodon status id, Bluesky at:// URI
    author: Profile
    text: str  # plain text (Mastodon: derived from the HTML; Bluesky: the record's text)
    html: str  # HTML to sanitize before display (Mastodon: the server's; Bluesky: rendered from facets)
    url: str
    created_at: datetime | None
    language: str = ""
    reply_to_id: str = ""  # the post this answers
    root_id: str = ""  # the first post of the thread ("" when this post starts it)
    visibility: str = "public"  # public, unlisted, private, direct (Bluesky: public or direct)
    is_direct: bool = False
    conversation_id: str = ""  # Mastodon conversation / Bluesky chat convo, for private messages
    mentions: tuple[str, ...] = ()  # handles (Mastodon acct) or DIDs (Bluesky) mentioned
    tags: tuple[str, ...] = ()
    cid: str = ""  # Bluesky content id (needed to reply); "" on Mastodon
    media: tuple[dict, ...] = ()
    reason: str = ""  # why it came: mention, reply, quote, search, hashtag, direct
    cursor: str = ""  # the position of this item in the stream it came from
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Media:
    external_id: str  # Mastodon media id; Bluesky blob CID
    url: str
    description: str
    mime_type: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Page(Generic[T]):
    """Items oldest first, and the cursor to pass next time to get only what is newer."""

    items: list[T]
    cursor: str | None


@dataclass(frozen=True)
class RateLimit:
    """The budget the server reported with its last answer."""

    limit: int | None
    remaining: int | None
    reset_at: datetime | None
