"""A Bluesky (AT Protocol) client for the channel driver: plain XRPC over HTTP with `requests`.

Why not the `atproto` SDK: every call the driver needs is one JSON request to the account's PDS (which
proxies app.bsky.* to the AppView and chat.bsky.* to the chat service), and the driver needs the raw JSON,
the rate-limit headers and a typed error on every call; the SDK's generated models would sit in between.

Reading: mentions, replies and quotes come from `app.bsky.notification.listNotifications`, listening from
`app.bsky.feed.searchPosts`, direct messages from `chat.bsky.convo.getLog`. Writing: a reply is a record
with a client-made record key (a TID), so after a timeout we look the key up before writing again and a
reply is never posted twice.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime
from typing import Any

import requests

from resonanz.core import outbound

from . import richtext
from .errors import AuthenticationFailed, NotFound, RateLimited, Rejected, SocialError, Unavailable
from .http import expect_dict, json_body, perform
from .models import Media, Page, Post, Profile, RateLimit

CHAT_PROXY = "did:web:api.bsky.chat#bsky_chat"
POST = "app.bsky.feed.post"
MENTION_REASONS = ("mention", "reply", "quote")
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
_tid_lock = threading.Lock()
_last_tid_us = 0


def new_tid() -> str:
    """A record key in the TID format (13 sortable base32 characters: microseconds, 10-bit clock id)."""
    global _last_tid_us
    with _tid_lock:
        now = max(time.time_ns() // 1000, _last_tid_us + 1)
        _last_tid_us = now
    value = (now << 10) | int.from_bytes(os.urandom(2), "big") & 0x3FF
    return "".join(TID_ALPHABET[(value >> shift) & 31] for shift in range(60, -1, -5))


def tid_at(microseconds: int, clock_id: int) -> str:
    """A TID for a chosen moment and clock id: the same reply part gets the same record key on every try."""
    value = (microseconds << 10) | (clock_id & 0x3FF)
    return "".join(TID_ALPHABET[(value >> shift) & 31] for shift in range(60, -1, -5))


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def rkey_of(uri: str) -> str:
    return uri.rsplit("/", 1)[-1]


class BlueskyClient:
    """One account on one PDS. `identifier` is the handle or DID, `password` an app password."""

    def __init__(self, service_url: str, identifier: str, password: str, *, chat_proxy: str = CHAT_PROXY,
                 web_url: str = "https://bsky.app", timeout: float = 15.0, write_attempts: int = 3,
                 session: requests.Session | None = None) -> None:
        self.service_url = service_url.rstrip("/")
        self.identifier, self.password = identifier, password
        self.chat_proxy, self.web_url, self.timeout = chat_proxy, web_url.rstrip("/"), timeout
        self.write_attempts = write_attempts
        self.http = session or outbound.session()
        self.did = self.handle = ""
        self._access = self._refresh = ""
        self.rate_limit = RateLimit(None, None, None)
        self._handles: dict[str, Profile] = {}

    # --- transport -----------------------------------------------------------------------------------------
    def _request(self, nsid: str, *, params: dict | None = None, data: dict | None = None,
                 body: bytes | None = None, content_type: str = "", proxy: str = "", auth: str = "access",
                 post: bool = False) -> dict:
        headers: dict[str, str] = {}
        token = {"access": self._access, "refresh": self._refresh}.get(auth, "")
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if proxy:
            headers["atproto-proxy"] = proxy
        write = post or data is not None or body is not None
        url = f"{self.service_url}/xrpc/{nsid}"
        if write:
            if content_type:
                headers["Content-Type"] = content_type
            response = perform(self.http, "POST", url, timeout=self.timeout, params=params, json=data,
                               data=body, headers=headers)
        else:
            response = perform(self.http, "GET", url, timeout=self.timeout, params=params, headers=headers)
        self._note_rate_limit(response)
        if response.status_code == 200:
            return expect_dict(json_body(response, write=write) if response.content else {}, url)
        self._raise(response, write=write)
        raise AssertionError("unreachable")

    def _note_rate_limit(self, response: requests.Response) -> None:
        limit, remaining = response.headers.get("RateLimit-Limit"), response.headers.get("RateLimit-Remaining")
        reset = response.headers.get("RateLimit-Reset")
        if limit or remaining or reset:
            self.rate_limit = RateLimit(_int(limit), _int(remaining),
                                        datetime.fromtimestamp(int(reset), UTC) if _int(reset) else None)

    def _raise(self, response: requests.Response, *, write: bool) -> None:
        try:
            payload = response.json()
        except ValueError:
            payload = {}
        error = payload.get("error", "") if isinstance(payload, dict) else ""
        message = (payload.get("message") if isinstance(payload, dict) else "") or error or response.reason
        status, text = response.status_code, response.text
        if status == 429:
            reset_at = self.rate_limit.reset_at or datetime.fromtimestamp(time.time() + 60, UTC)
            raise RateLimited(f"Bluesky rate limit reached; try again after {reset_at:%H:%M:%S} UTC",
                              reset_at=reset_at, limit=self.rate_limit.limit, remaining=self.rate_limit.remaining,
                              body=text)
        if error in ("ExpiredToken", "InvalidToken") or status == 401:
            raise AuthenticationFailed(f"Bluesky refused the credentials: {message}", status=status, body=text)
        if status == 404 or error in ("RecordNotFound", "NotFound", "ProfileNotFound", "InvalidConvo"):
            raise NotFound(message, status=status, body=text)
        if status >= 500:
            raise Unavailable(f"Bluesky server error {status}: {message}", status=status, body=text,
                              may_have_posted=write)
        raise Rejected(f"Bluesky refused the request: {message}", status=status, body=text)

    def _call(self, nsid: str, **kwargs: Any) -> dict:
        """A call with a session: log in first, refresh an expired access token once."""
        if not self._access:
            self.login()
        try:
            return self._request(nsid, **kwargs)
        except AuthenticationFailed as exc:
            if '"ExpiredToken"' not in exc.body:
                raise
            self._refresh_session()
            return self._request(nsid, **kwargs)

    def login(self) -> None:
        session = self._request("com.atproto.server.createSession", auth="none",
                                data={"identifier": self.identifier, "password": self.password})
        self._take_session(session)

    def _refresh_session(self) -> None:
        try:
            session = self._request("com.atproto.server.refreshSession", post=True, auth="refresh")  # no body
        except AuthenticationFailed:
            self.login()
            return
        self._take_session(session)

    def _take_session(self, session: dict) -> None:
        self._access, self._refresh = session.get("accessJwt", ""), session.get("refreshJwt", "")
        self.did, self.handle = session.get("did", ""), session.get("handle", "")

    # --- reading -------------------------------------------------------------------------------------------
    def verify_credentials(self) -> Profile:
        """Log in and return the account's own profile (handle, display name, avatar)."""
        self.login()
        return self.get_profile(self.did)

    def get_profile(self, actor: str) -> Profile:
        """Handle or DID → profile with bio and follower count (from the AppView)."""
        try:
            raw = self._call("app.bsky.actor.getProfile", params={"actor": actor})
        except Rejected as exc:  # the AppView answers 400 "Profile not found"
            if "not found" in str(exc).lower():
                raise NotFound(f"no Bluesky profile {actor}", status=exc.status, body=exc.body) from exc
            raise
        return self._profile(raw)

    def _profile(self, raw: dict) -> Profile:
        profile = Profile(external_id=str(raw.get("did", "")), handle=str(raw.get("handle", "")),
                          display_name=str(raw.get("displayName") or ""), avatar_url=str(raw.get("avatar") or ""),
                          bio=str(raw.get("description") or ""), followers=_int(raw.get("followersCount")),
                          following=_int(raw.get("followsCount")), posts=_int(raw.get("postsCount")),
                          url=f"{self.web_url}/profile/{raw.get('handle') or raw.get('did')}", raw=raw)
        return profile

    def _post(self, raw: dict, *, reason: str = "", cursor: str = "") -> Post:
        record = raw.get("record") if isinstance(raw.get("record"), dict) else {}
        text = record.get("text") if isinstance(record.get("text"), str) else ""
        parsed = richtext.render(text, record.get("facets"), web_url=self.web_url)
        author = self._profile(raw.get("author") if isinstance(raw.get("author"), dict) else {})
        reply = record.get("reply") if isinstance(record.get("reply"), dict) else {}
        parent = reply.get("parent") if isinstance(reply.get("parent"), dict) else {}
        root = reply.get("root") if isinstance(reply.get("root"), dict) else {}
        langs = record.get("langs") if isinstance(record.get("langs"), list) else []
        embed = record.get("embed") if isinstance(record.get("embed"), dict) else {}
        if str(embed.get("$type", "")) == "app.bsky.embed.recordWithMedia":
            embed = embed.get("media") if isinstance(embed.get("media"), dict) else {}
        images = embed.get("images") if isinstance(embed.get("images"), list) else []
        if embed.get("$type") == "app.bsky.embed.video" and isinstance(embed.get("video"), dict):
            images = [embed]
        uri = str(raw.get("uri", ""))
        return Post(external_id=uri, author=author, text=text, html=parsed.html,
                    url=f"{self.web_url}/profile/{author.handle or author.external_id}/post/{rkey_of(uri)}",
                    created_at=parse_time(record.get("createdAt")) or parse_time(raw.get("indexedAt")),
                    language=str(langs[0]) if langs else "", reply_to_id=str(parent.get("uri", "")),
                    root_id=str(root.get("uri", "")), mentions=parsed.mentions, tags=parsed.tags,
                    cid=str(raw.get("cid", "")), media=tuple(i for i in images if isinstance(i, dict)),
                    reason=reason, cursor=cursor, raw=raw)

    def _newer(self, nsid: str, key: str, params: dict, since: str | None, max_pages: int,
               keep=lambda item: True, reason=lambda item: "") -> Page[Post]:
        """Page back through a newest-first list until items are older than `since` (their indexedAt).

        Items indexed exactly at `since` come again: ingestion is idempotent, and a missed mention is worse.
        """
        items, cursor = [], None
        for _ in range(max_pages):
            page = self._call(nsid, params={**params, **({"cursor": cursor} if cursor else {})})
            batch = page.get(key) if isinstance(page.get(key), list) else []
            older_reached = False
            for item in batch:
                if not isinstance(item, dict):
                    continue
                indexed = str(item.get("indexedAt", ""))
                if since and indexed < since:
                    older_reached = True
                    break
                if keep(item):
                    items.append(self._post(item, reason=reason(item), cursor=indexed))
            cursor = page.get("cursor")
            if older_reached or not since or not cursor or not batch:
                break
        items.reverse()
        newest = max((p.cursor for p in items), default=since)
        return Page(items, newest)

    def fetch_mentions(self, since: str | None = None, *, limit: int = 50, max_pages: int = 20) -> Page[Post]:
        """Mentions of the account, replies to it and quotes of it, newer than the cursor `since`."""
        return self._newer("app.bsky.notification.listNotifications", "notifications",
                           {"limit": limit, "reasons": list(MENTION_REASONS)}, since, max_pages,
                           keep=lambda n: n.get("reason") in MENTION_REASONS, reason=lambda n: n.get("reason", ""))

    def search_posts(self, query: str, since: str | None = None, *, limit: int = 25,
                     max_pages: int = 10) -> Page[Post]:
        """Public posts matching a keyword or #hashtag (listening), newer than the cursor `since`."""
        if not query.strip():
            raise ValueError("a search needs a keyword or hashtag")
        return self._newer("app.bsky.feed.searchPosts", "posts", {"q": query, "sort": "latest", "limit": limit},
                           since, max_pages, reason=lambda p: "search")

    def blocked_and_muted(self, *, max_pages: int = 10) -> list[Profile]:
        """The accounts this account blocks (``app.bsky.graph.getBlocks``) or mutes (``getMutes``)."""
        found: list[Profile] = []
        for nsid, key in (("app.bsky.graph.getBlocks", "blocks"), ("app.bsky.graph.getMutes", "mutes")):
            cursor = None
            for _ in range(max_pages):
                page = self._call(nsid, params={"limit": 100, **({"cursor": cursor} if cursor else {})})
                batch = page.get(key) if isinstance(page.get(key), list) else []
                found += [self._profile(actor) for actor in batch if isinstance(actor, dict)]
                cursor = page.get("cursor")
                if not batch or not cursor:
                    break
        return found

    def get_posts(self, uris: list[str]) -> list[Post]:
        """The posts that still exist among `uris` (at most 25): a deleted one is simply missing."""
        if not uris:
            return []
        if len(uris) > 25:
            raise ValueError("getPosts takes at most 25 posts at a time")
        posts = self._call("app.bsky.feed.getPosts", params={"uris": list(uris)}).get("posts") or []
        return [self._post(p) for p in posts if isinstance(p, dict)]

    def get_post(self, uri: str) -> Post:
        posts = self._call("app.bsky.feed.getPosts", params={"uris": [uri]}).get("posts") or []
        if not posts:
            raise NotFound(f"no Bluesky post {uri}")
        return self._post(posts[0])

    def fetch_direct_messages(self, cursor: str | None = None, *, max_pages: int = 20) -> Page[Post]:
        """Chat messages sent to the account since `cursor` (the chat log's own cursor)."""
        items: list[Post] = []
        for _ in range(max_pages):
            page = self._call("chat.bsky.convo.getLog", params={"cursor": cursor} if cursor else {},
                              proxy=self.chat_proxy)
            logs = page.get("logs") if isinstance(page.get("logs"), list) else []
            for log in logs:
                message = log.get("message") if isinstance(log, dict) else None
                if log.get("$type") != "chat.bsky.convo.defs#logCreateMessage" or not isinstance(message, dict) \
                        or message.get("$type") != "chat.bsky.convo.defs#messageView":
                    continue
                sender = str((message.get("sender") or {}).get("did", ""))
                if sender == self.did:
                    continue
                items.append(self._message(message, str(log.get("convoId", "")), sender))
            next_cursor = page.get("cursor")
            if not logs or not next_cursor or next_cursor == cursor:
                cursor = next_cursor or cursor
                break
            cursor = next_cursor
        return Page(items, cursor)

    def _message(self, message: dict, convo_id: str, sender: str) -> Post:
        text = message.get("text") if isinstance(message.get("text"), str) else ""
        parsed = richtext.render(text, message.get("facets"), web_url=self.web_url)
        if sender not in self._handles:
            try:
                self._handles[sender] = self.get_profile(sender)
            except NotFound:
                self._handles[sender] = Profile(external_id=sender, handle=sender)
        return Post(external_id=f"chat:{convo_id}:{message.get('id', '')}", author=self._handles[sender],
                    text=text, html=parsed.html, url="", created_at=parse_time(message.get("sentAt")),
                    visibility="direct", is_direct=True, conversation_id=convo_id, mentions=parsed.mentions,
                    reason="direct", cursor=str(message.get("rev", "")), raw=message)

    def convo_with(self, did: str) -> str:
        """The id of the chat conversation between the account and `did` (made if there is none yet)."""
        convo = self._call("chat.bsky.convo.getConvoForMembers", params={"members": [did]},
                           proxy=self.chat_proxy).get("convo")
        if not isinstance(convo, dict) or not convo.get("id"):
            raise SocialError("getConvoForMembers answered without a conversation")
        return str(convo["id"])

    # --- writing -------------------------------------------------------------------------------------------
    def send_direct_message(self, convo_id: str, text: str) -> Post:
        if not self._access:
            self.login()
        message = self._call("chat.bsky.convo.sendMessage", proxy=self.chat_proxy,
                             data={"convoId": convo_id, "message": {"text": text,
                                                                    "facets": richtext.build_facets(text, {})}})
        return self._message(message, convo_id, self.did)

    def upload_image(self, data: bytes, mime_type: str, alt: str) -> Media:
        """Store an image as a blob; `alt` travels with it into the post's image embed."""
        if not mime_type.startswith("image/"):
            raise ValueError(f"not an image: {mime_type}")
        blob = self._call("com.atproto.repo.uploadBlob", body=data, content_type=mime_type).get("blob")
        if not isinstance(blob, dict):
            raise SocialError("uploadBlob answered without a blob")
        cid = str((blob.get("ref") or {}).get("$link", ""))
        return Media(external_id=cid, url=f"{self.service_url}/xrpc/com.atproto.sync.getBlob?did={self.did}&cid={cid}",
                     description=alt, mime_type=mime_type, raw=blob)

    def reply(self, text: str, parent: Post, *, mention: Profile | None = None, images: list[Media] = (),
              language: str = "", rkey: str = "") -> Post:
        """A public reply threaded under `parent` (reply refs root + parent), mentioning `mention`."""
        if not parent.cid:
            raise ValueError("the post to answer has no CID; fetch it with get_post first")
        root = _strong_ref((parent.raw.get("record") or {}).get("reply")) or {"uri": parent.external_id,
                                                                                "cid": parent.cid}
        if mention and f"@{mention.handle}" not in text:
            text = f"@{mention.handle} {text}"
        record: dict = {"$type": POST, "text": text, "createdAt": _now(),
                        "reply": {"root": {"uri": root["uri"], "cid": root["cid"]},
                                  "parent": {"uri": parent.external_id, "cid": parent.cid}}}
        facets = richtext.build_facets(text, {mention.handle: mention.external_id} if mention else {})
        if facets:
            record["facets"] = facets
        if language:
            record["langs"] = [language]
        if images:
            record["embed"] = {"$type": "app.bsky.embed.images",
                               "images": [{"image": m.raw, "alt": m.description} for m in images]}
        return self._create_once(record, rkey=rkey)

    def post(self, text: str, *, language: str = "") -> Post:
        record: dict = {"$type": POST, "text": text, "createdAt": _now()}
        if facets := richtext.build_facets(text, {}):
            record["facets"] = facets
        if language:
            record["langs"] = [language]
        return self._create_once(record)

    def _create_once(self, record: dict, rkey: str = "") -> Post:
        """Write with our own record key; after a failure that may have reached the PDS, look before retrying.

        A caller that passes its own `rkey` (the same on every delivery attempt) gets the stored post back
        if an earlier attempt wrote it already."""
        if not self._access:
            self.login()
        if rkey and (existing := self._existing(rkey)):
            return self._own_post(existing, record)
        rkey = rkey or new_tid()
        last: Unavailable | None = None
        for attempt in range(self.write_attempts):
            if attempt and last and last.may_have_posted:
                existing = self._existing(rkey)
                if existing:
                    return self._own_post(existing, record)
            try:
                created = self._call("com.atproto.repo.createRecord", data={
                    "repo": self.did, "collection": POST, "rkey": rkey, "record": record})
                return self._own_post({"uri": created["uri"], "cid": created["cid"], "value": record}, record)
            except Unavailable as exc:
                last = exc
                time.sleep(min(0.2 * 2 ** attempt, 2.0))
        if last and last.may_have_posted and (existing := self._existing(rkey)):
            return self._own_post(existing, record)
        raise last or SocialError("createRecord failed")

    def _existing(self, rkey: str) -> dict | None:
        try:
            return self._call("com.atproto.repo.getRecord",
                              params={"repo": self.did, "collection": POST, "rkey": rkey})
        except NotFound:
            return None
        except Rejected as exc:  # the PDS says 400 RecordNotFound
            if "RecordNotFound" in exc.body or "not found" in str(exc).lower():
                return None
            raise

    def _own_post(self, stored: dict, record: dict) -> Post:
        return self._post({"uri": stored["uri"], "cid": stored.get("cid", ""), "author": {
            "did": self.did, "handle": self.handle}, "record": stored.get("value") or record})

    def delete(self, uri: str) -> None:
        """Delete one of the account's own posts by its at:// URI."""
        if not self._access:
            self.login()
        repo, collection, rkey = uri.removeprefix("at://").split("/", 2)
        if repo != self.did:
            raise ValueError("only the account's own posts can be deleted")
        self._call("com.atproto.repo.deleteRecord", data={"repo": repo, "collection": collection, "rkey": rkey})


def _strong_ref(reply: Any) -> dict | None:
    """The thread root a post names, if it names one properly (records are written by anyone)."""
    root = reply.get("root") if isinstance(reply, dict) else None
    if isinstance(root, dict) and isinstance(root.get("uri"), str) and isinstance(root.get("cid"), str) \
            and root["uri"].startswith("at://"):
        return {"uri": root["uri"], "cid": root["cid"]}
    return None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
