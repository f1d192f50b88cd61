"""The Bluesky channel (AT Protocol): an account on a PDS, signed in with an app password.

Settings: ``service_url`` (the account's PDS, https://bsky.social for most), ``identifier`` (the handle),
``listen`` (keywords and #hashtags for the listening stream), ``long_replies`` ("split" or "refuse"),
``ignore`` (handles), ``direct_messages`` (true: read the account's chats), and for other networks than
bsky.app ``chat_proxy`` and ``web_url``. Credentials (encrypted): ``app_password``.

Mentions, replies and quotes come from the account's notifications (cursor: the newest indexedAt), chats
from the chat log (its own cursor), listening from post search. A reply names its thread's root, so a
customer's answer to our reply joins the conversation of the post that started it, and a person's posts in one
thread are one public conversation whatever order they arrive in (``InboundMessage.thread`` is the root, or the
post itself when it starts the thread); the root post (``getPosts``) is the conversation's context. Our replies are records
with record keys made from the message, the same on every attempt: a retry finds the stored post instead
of posting it again.
"""

from __future__ import annotations

import hashlib
import threading
import time
from functools import partial
from urllib.parse import quote

from django.utils.translation import gettext_lazy as _

from resonanz.connectors.drivers import register
from resonanz.connectors.drivers.base import ConnectField, DriverError, SourceChange
from resonanz.connectors.drivers.social_common import (
    IGNORE_FIELD,
    LISTEN_FIELD,
    LONG_REPLIES_FIELD,
    SocialDriver,
    query_list,
)
from resonanz.connectors.social.bluesky import CHAT_PROXY, BlueskyClient, tid_at
from resonanz.connectors.social.errors import AuthenticationFailed, NotFound, RateLimited, SocialError
from resonanz.connectors.social.models import Post, Profile
from resonanz.core import outbound

_clients: dict[tuple, BlueskyClient] = {}
_lock = threading.Lock()
CHAT_LIMIT = 1000  # graphemes per chat message
MAX_PROFILE_LOOKUPS = 25  # per listening query and poll: the follower counts of new authors
RECHECK_DAYS = 7  # how long stored posts are looked at again for deletions and edits
RECHECK_PER_POLL = 100  # posts looked up again per poll (4 getPosts calls)
RECHECK_KEEP = 2000  # posts watched at most per channel (kept in the source's cursor, written each poll)


@register("bluesky")
class BlueskyDriver(SocialDriver):
    label = _("Bluesky")
    identity_kind = "bluesky"
    network = "bluesky"
    default_limit = 300
    connect_fields = (
        ConnectField("service_url", _("PDS address"), _("The account's server: https://bsky.social for most "
                                                        "accounts.")),
        ConnectField("identifier", _("Handle"), _("The account's handle, e.g. yourbrand.bsky.social")),
        ConnectField("app_password", _("App password"), _("In the Bluesky app: Settings → Privacy and security → "
                                                          "App passwords; allow access to direct messages."),
                     secret=True),
        LISTEN_FIELD, LONG_REPLIES_FIELD, IGNORE_FIELD,
    )
    settings_help = _('Settings JSON: {"service_url": "https://bsky.social", "identifier": "yourbrand.bsky.social", '
                      '"listen": ["#yourbrand", "your brand"], "long_replies": "split" or "refuse", '
                      '"direct_messages": true, "ignore": ["spammer.bsky.social"]}')

    def client(self) -> BlueskyClient:
        """The channel's client, kept per process while its settings stay the same: a PDS allows only 30
        logins in five minutes per account, so polls and replies reuse the session (refreshed when it ends)."""
        identifier = str(self.settings.get("identifier") or "").strip().lstrip("@")
        if not identifier:
            raise DriverError("The channel has no handle yet; enter it in the channel settings.")
        url, password = self.server_url("service_url"), self.secret("app_password")
        chat_proxy = str(self.settings.get("chat_proxy") or CHAT_PROXY)
        web_url = str(self.settings.get("web_url") or "https://bsky.app")
        timeout = float(self.settings.get("timeout") or 15)
        key = (self.channel.pk, url, identifier, hashlib.sha256(password.encode()).hexdigest(), chat_proxy,
               web_url, timeout)
        with _lock:
            client = _clients.get(key)
            if client is None:
                for stale in [k for k in _clients if k[0] == self.channel.pk]:
                    del _clients[stale]  # the settings or the app password changed
                client = BlueskyClient(url, identifier, password, chat_proxy=chat_proxy, web_url=web_url,
                                       timeout=timeout, session=outbound.session())
                _clients[key] = client
        return client

    def verify(self, client: BlueskyClient) -> Profile:
        return client.verify_credentials()

    def sources(self, client: BlueskyClient):
        found = [("mentions", "Mentions, replies and quotes", partial(self._mentions, client))]
        if self.settings.get("direct_messages", True):
            found.append(("chat", "Direct messages", partial(self._chat, client)))
        for query in query_list(self.settings):
            found.append((f"listen:{query}", query, partial(self._listen, client, query)))
        found.append(("recheck", "Deleted and edited posts", partial(self._recheck, client)))
        return found

    def _watch(self, posts: list[Post]) -> None:
        """Posts handed over in this poll, to be looked at again by ``_recheck``."""
        seen = self.__dict__.setdefault("_seen", {})
        for post in posts:
            if post.external_id.startswith("at://"):
                seen[post.external_id] = _digest(post.text)

    def _recheck(self, client: BlueskyClient, since):
        """Deletions and edits of posts Resonanz stored. Bluesky tells nobody when an author deletes (or
        rewrites) a post, so the posts of the last RECHECK_DAYS are looked up again, RECHECK_PER_POLL a poll
        in turn (``getPosts``, 25 at a time): one that is gone becomes a "deleted" change, one whose text
        changed an "edited" one; both reach the stored message or post through the intake."""
        state = since if isinstance(since, dict) else {}
        now = time.time()
        watched = {uri: entry for uri, entry in (state.get("posts") or {}).items()
                   if isinstance(entry, list) and len(entry) == 2 and now - float(entry[0]) < RECHECK_DAYS * 86400}
        for uri, digest in self.__dict__.get("_seen", {}).items():
            watched.setdefault(uri, [now, digest])
        if len(watched) > RECHECK_KEEP:  # the newest are kept
            watched = dict(sorted(watched.items(), key=lambda item: item[1][0])[-RECHECK_KEEP:])
        uris = sorted(watched)
        offset = int(state.get("next") or 0) % max(len(uris), 1)
        turn = (uris[offset:] + uris[:offset])[:RECHECK_PER_POLL]
        changes = []
        for start in range(0, len(turn), 25):
            part = turn[start:start + 25]
            current = {post.external_id: post for post in client.get_posts(part)}
            for uri in part:
                post = current.get(uri)
                if post is None:
                    changes.append(SourceChange(uri, "deleted"))
                    del watched[uri]
                elif _digest(post.text) != watched[uri][1]:
                    changes.append(SourceChange(uri, "edited", text=post.text, html=post.html))
                    watched[uri][1] = _digest(post.text)
        return changes, {"posts": watched, "next": offset + len(turn) - sum(c.change == "deleted" for c in changes)}

    def _mentions(self, client: BlueskyClient, since: str | None):
        own = self.account(client)["id"]
        page = client.fetch_mentions(since)
        kept = [post for post in page.items if self.keep(post.author, own)]
        self._watch(kept)
        roots = self._roots(client, {p.root_id for p in kept if p.root_id})
        return [self.message_item(post, references=[post.root_id], meta=self._post_meta(post),
                                  thread=post.root_id or post.external_id,
                                  context=self.context_of(roots[post.root_id]) if post.root_id in roots else None)
                for post in kept], page.cursor

    def _roots(self, client: BlueskyClient, uris: set[str]) -> dict[str, Post]:
        """The thread roots replies name, read 25 at a time, for the conversations' context; a root that is gone
        (or a failing read) leaves the context empty, never the reply unstored."""
        found: dict[str, Post] = {}
        wanted = sorted(u for u in uris if u.startswith("at://"))[:100]
        for start in range(0, len(wanted), 25):
            try:
                found.update((p.external_id, p) for p in client.get_posts(wanted[start:start + 25]))
            except (RateLimited, AuthenticationFailed):
                raise
            except (SocialError, ValueError):
                continue
        return found

    @staticmethod
    def _post_meta(post: Post) -> dict:
        return {"uri": post.external_id, "cid": post.cid, "did": post.author.external_id,
                "mention": post.author.handle}

    def _chat(self, client: BlueskyClient, since: str | None):
        own = self.account(client)["id"]
        page = client.fetch_direct_messages(since)
        items = [self.message_item(post, meta={"convo_id": post.conversation_id, "did": post.author.external_id,
                                               "mention": ""})
                 for post in page.items if self.keep(post.author, own)]
        return items, page.cursor

    def _listen(self, client: BlueskyClient, query: str, since: str | None):
        account = self.account(client)
        page = client.search_posts(query, since)
        items, reach = [], {}
        for post in page.items:
            if not self.keep(post.author, account["id"]) or account["id"] in post.mentions:
                continue  # our own, ignored, or addressed to us (that comes in as a mention)
            did = post.author.external_id
            if did not in reach and len(reach) < MAX_PROFILE_LOOKUPS:
                try:  # search results carry no follower count; the profile does
                    reach[did] = client.get_profile(did).followers
                except NotFound:
                    reach[did] = None
            items.append(self.post_item(post, query, reach=reach.get(did)))
            self._watch([post])
        return items, page.cursor

    def media_of(self, post: Post) -> list[dict]:
        """Images (and a video) of the post's record: the AppView's copy where the view names one, else the
        blob from the PDS (which serves the blobs of the accounts it hosts)."""
        record = post.raw.get("record") if isinstance(post.raw.get("record"), dict) else {}
        embed, view = _media_part(record.get("embed")), _media_part(post.raw.get("embed"))
        did = post.author.external_id
        service = str(self.settings.get("service_url") or "").rstrip("/")

        def blob_urls(blob) -> tuple[list[str], str]:
            blob = blob if isinstance(blob, dict) else {}
            cid = str((blob.get("ref") or {}).get("$link") or "") if isinstance(blob.get("ref"), dict) else ""
            urls = [f"{service}/xrpc/com.atproto.sync.getBlob?did={quote(did)}&cid={quote(cid)}"] \
                if cid and did and service else []
            return urls, str(blob.get("mimeType") or "")

        found = []
        if embed.get("$type") == "app.bsky.embed.images":
            views = view.get("images") if isinstance(view.get("images"), list) else []
            for index, image in enumerate(i for i in embed.get("images") or [] if isinstance(i, dict)):
                urls, mime = blob_urls(image.get("image"))
                shown = views[index] if index < len(views) and isinstance(views[index], dict) else {}
                if isinstance(shown.get("fullsize"), str):
                    urls.insert(0, shown["fullsize"])
                found.append({"urls": urls, "kind": "image", "alt": str(image.get("alt") or ""), "type": mime})
        elif embed.get("$type") == "app.bsky.embed.video":
            urls, mime = blob_urls(embed.get("video"))
            if isinstance(view.get("playlist"), str):
                urls.insert(0, view["playlist"])
            found.append({"urls": urls, "kind": "video", "alt": str(embed.get("alt") or ""), "type": mime})
        return found

    def deliver(self, client: BlueskyClient, message, parent, body: str, signature: str) -> list[Post]:
        meta = parent.meta or {}
        if meta.get("convo_id") or not message.is_public:
            convo = meta.get("convo_id") or client.convo_with(str(meta.get("did") or ""))
            return [client.send_direct_message(convo, text)
                    for text in self.parts(body, signature, "", limit=CHAT_LIMIT)]
        post = client.get_post(str(meta.get("uri") or parent.external_id))
        mention = self.mention_for(meta)
        start = int(message.sent_at.timestamp() * 1_000_000) if message.sent_at else message.pk
        posted: list[Post] = []
        parts = self.parts(body, signature, mention)
        images = [client.upload_image(data, mime, alt) for data, mime, alt, _name in self.images_of(message)[:4]]
        for index, text in enumerate(parts):
            post = client.reply(text, post, mention=parent_profile(meta), images=images if index == 0 else [],
                                rkey=tid_at(start + index, message.pk))
            posted.append(post)
        return posted


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _media_part(embed) -> dict:
    """The media of an embed (a quote with media carries them one level down)."""
    embed = embed if isinstance(embed, dict) else {}
    if str(embed.get("$type", "")).startswith("app.bsky.embed.recordWithMedia"):
        embed = embed.get("media") if isinstance(embed.get("media"), dict) else {}
    return embed


def parent_profile(meta: dict) -> Profile | None:
    """The customer to mention (a facet needs the DID beside the handle)."""
    if meta.get("did") and meta.get("mention"):
        return Profile(external_id=str(meta["did"]), handle=str(meta["mention"]))
    return None
