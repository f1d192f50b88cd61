"""A Mastodon client API client (Mastodon, GoToSocial, Akkoma, ... speak it) for the channel driver.

Plain `requests` rather than Mastodon.py: the driver needs every response's raw JSON (to store it), its
rate-limit headers (to show the channel's status and back off) and its Link header cursors, plus typed errors
and an Idempotency-Key on every post; Mastodon.py converts payloads into its own objects and keeps headers
and paging cursors to itself.

Cursors are Mastodon's own ids: each read asks for what is newer than the last one seen (`min_id`) and
follows the `rel="prev"` Link header until nothing newer is left.
"""

from __future__ import annotations

import html
import json
import re
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from resonanz.core import outbound

from .errors import AuthenticationFailed, InvalidResponse, NotFound, RateLimited, Rejected, Unavailable
from .http import expect_dict, json_body, perform
from .models import Media, Page, Post, Profile, RateLimit

VISIBILITIES = ("public", "unlisted", "private", "direct")
DEFAULT_MAX_CHARACTERS = 500
_TAG = re.compile(r"<[^>]+>")
_BREAK = re.compile(r"<br\s*/?>|</p>\s*<p[^>]*>", re.IGNORECASE)
_LINK = re.compile(r'<(?P<url>[^>]+)>;\s*rel="(?P<rel>\w+)"')


def html_to_text(value: str) -> str:
    """Plain text of a status: paragraphs and line breaks kept, tags dropped, entities decoded."""
    return html.unescape(_TAG.sub("", _BREAK.sub("\n", value or ""))).strip()


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class MastodonClient:
    """One account on one server; `access_token` comes from the server's OAuth app settings."""

    def __init__(self, base_url: str, access_token: str, *, timeout: float = 15.0, write_attempts: int = 3,
                 session: requests.Session | None = None) -> None:
        if not base_url.startswith(("https://", "http://")):
            raise ValueError("the server address must start with https://")
        self.base_url = base_url.rstrip("/")
        self.token = access_token
        self.timeout = timeout
        self.write_attempts = write_attempts
        self.http = session or outbound.session()
        self.rate_limit = RateLimit(None, None, None)

    # --- transport -----------------------------------------------------------------------------------------
    def _request(self, method: str, path: str, *, params: Any = None, data: Any = None, files: Any = None,
                 headers: dict | None = None, url: str = "") -> tuple[Any, requests.Response]:
        all_headers = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        response = perform(self.http, method, url or f"{self.base_url}{path}", timeout=self.timeout,
                           params=params, data=data, files=files, headers=all_headers)
        self._note_rate_limit(response)
        write = method != "GET"
        if response.status_code in (200, 202, 206):
            return json_body(response, write=write), response
        self._raise(response, write=write)
        raise AssertionError("unreachable")

    def _note_rate_limit(self, response: requests.Response) -> None:
        headers = response.headers
        if "X-RateLimit-Limit" in headers or "X-RateLimit-Remaining" in headers:
            self.rate_limit = RateLimit(_int(headers.get("X-RateLimit-Limit")),
                                        _int(headers.get("X-RateLimit-Remaining")),
                                        parse_time(headers.get("X-RateLimit-Reset")))

    def _raise(self, response: requests.Response, *, write: bool) -> None:
        try:
            payload = response.json()
            message = payload.get("error", "") if isinstance(payload, dict) else ""
        except ValueError:
            message = ""
        message = message or response.reason or f"HTTP {response.status_code}"
        status, body = response.status_code, response.text
        if status == 429:
            reset_at = self.rate_limit.reset_at or datetime.fromtimestamp(time.time() + 300, UTC)
            raise RateLimited(f"Mastodon rate limit reached; try again after {reset_at:%H:%M:%S} UTC",
                              reset_at=reset_at, limit=self.rate_limit.limit, remaining=self.rate_limit.remaining,
                              body=body)
        if status == 401:
            raise AuthenticationFailed(f"Mastodon refused the access token: {message}", status=status, body=body)
        if status == 404:
            raise NotFound(message, status=status, body=body)
        if status >= 500:
            raise Unavailable(f"Mastodon server error {status}: {message}", status=status, body=body,
                              may_have_posted=write)
        raise Rejected(f"Mastodon refused the request: {message}", status=status, body=body)

    def _get(self, path: str, params: Any = None) -> Any:
        return self._request("GET", path, params=params)[0]

    # --- parsing -------------------------------------------------------------------------------------------
    def _profile(self, raw: Any) -> Profile:
        raw = raw if isinstance(raw, dict) else {}
        acct = str(raw.get("acct", ""))
        if acct and "@" not in acct:  # a local account: give the handle its server, like Mastodon's UI does
            acct = f"{acct}@{urlsplit(str(raw.get('url') or self.base_url)).hostname}"
        return Profile(external_id=str(raw.get("id", "")), handle=acct,
                       display_name=str(raw.get("display_name") or ""), avatar_url=str(raw.get("avatar") or ""),
                       bio=html_to_text(str(raw.get("note") or "")), bio_html=str(raw.get("note") or ""),
                       followers=_int(raw.get("followers_count")), following=_int(raw.get("following_count")),
                       posts=_int(raw.get("statuses_count")), url=str(raw.get("url") or ""),
                       is_bot=bool(raw.get("bot")), raw=raw)

    def _post(self, raw: Any, *, reason: str = "", cursor: str = "", conversation_id: str = "") -> Post:
        if not isinstance(raw, dict) or not raw.get("id"):
            raise InvalidResponse("a status without an id")
        content = str(raw.get("content") or "")
        visibility = str(raw.get("visibility") or "public")
        mentions = tuple(str(m.get("acct", "")) for m in raw.get("mentions") or [] if isinstance(m, dict))
        tags = tuple(str(t.get("name", "")) for t in raw.get("tags") or [] if isinstance(t, dict))
        return Post(external_id=str(raw["id"]), author=self._profile(raw.get("account")), text=html_to_text(content),
                    html=content, url=str(raw.get("url") or raw.get("uri") or ""),
                    created_at=parse_time(raw.get("created_at")), language=str(raw.get("language") or ""),
                    reply_to_id=str(raw.get("in_reply_to_id") or ""), visibility=visibility,
                    is_direct=visibility == "direct", conversation_id=conversation_id, mentions=mentions,
                    tags=tags, media=tuple(m for m in raw.get("media_attachments") or [] if isinstance(m, dict)),
                    reason=reason, cursor=cursor, raw=raw)

    def _newer(self, path: str, params: dict, since: str | None, max_pages: int,
               key=lambda item: item.get("id")) -> tuple[list[Any], str | None]:
        """Everything newer than `since`, oldest first, and the cursor for next time (the newest id).

        `key` is the id the server pages by, for servers that leave out the Link header."""
        collected: list[Any] = []
        cursor = since
        query = {**params, **({"min_id": since} if since else {})}
        url = ""
        for _ in range(max_pages):
            batch, response = self._request("GET", path, params=None if url else query, url=url)
            if not isinstance(batch, list):
                raise InvalidResponse(f"{path} answered with {type(batch).__name__}, expected a list")
            if not batch:
                break
            collected = batch + collected  # each page is newest first; later pages are newer
            links = {m["rel"]: m["url"] for m in _LINK.finditer(response.headers.get("Link", ""))}
            prev = links.get("prev", "")
            if prev:
                cursor = (parse_qs(urlsplit(prev).query).get("min_id") or [cursor])[0]
            else:
                ids = [int(k) for k in (key(i) if isinstance(i, dict) else None for i in batch)
                       if str(k or "").isdigit()]
                cursor = str(max(ids)) if ids else cursor
            if not since or not prev:  # first run: only the latest page, no back-fill of all history
                break
            url = prev
        collected.reverse()
        return collected, cursor

    # --- reading -------------------------------------------------------------------------------------------
    def verify_credentials(self) -> Profile:
        return self._profile(expect_dict(self._get("/api/v1/accounts/verify_credentials"), "verify_credentials"))

    def max_characters(self) -> int:
        """The server's post length limit (Instance v2 `configuration.statuses.max_characters`)."""
        try:
            instance = self._get("/api/v2/instance")
            return int(instance["configuration"]["statuses"]["max_characters"])
        except (NotFound, KeyError, TypeError, ValueError):
            return DEFAULT_MAX_CHARACTERS

    def get_profile(self, account_id: str) -> Profile:
        return self._profile(self._get(f"/api/v1/accounts/{account_id}"))

    def lookup(self, acct: str) -> Profile:
        return self._profile(self._get("/api/v1/accounts/lookup", {"acct": acct.lstrip("@")}))

    def fetch_mentions(self, since: str | None = None, *, limit: int = 40, max_pages: int = 20) -> Page[Post]:
        """Mentions (public ones and direct messages) since the notification id `since`."""
        items, cursor = self._newer("/api/v1/notifications", {"types[]": ["mention"], "limit": limit}, since,
                                    max_pages)
        posts = [self._post(n.get("status"), reason="direct" if (n.get("status") or {}).get("visibility")
                            == "direct" else "mention", cursor=str(n.get("id", "")))
                 for n in items if isinstance(n, dict) and n.get("type") == "mention" and n.get("status")]
        return Page(posts, cursor)

    def fetch_direct_messages(self, since: str | None = None, *, limit: int = 40,
                              max_pages: int = 20) -> Page[Post]:
        """The latest message of each direct conversation that changed since `since`."""
        items, cursor = self._newer("/api/v1/conversations", {"limit": limit}, since, max_pages,
                                    key=lambda c: (c.get("last_status") or {}).get("id"))
        posts = [self._post(c["last_status"], reason="direct", conversation_id=str(c.get("id", "")),
                            cursor=str(c["last_status"].get("id", "")))
                 for c in items if isinstance(c, dict) and isinstance(c.get("last_status"), dict)]
        return Page(posts, cursor)

    def hashtag_timeline(self, tag: str, since: str | None = None, *, limit: int = 40,
                         max_pages: int = 20) -> Page[Post]:
        tag = tag.lstrip("#")
        if not re.fullmatch(r"\w+", tag):
            raise ValueError(f"not a hashtag: {tag!r}")
        items, cursor = self._newer(f"/api/v1/timelines/tag/{tag}", {"limit": limit}, since, max_pages)
        return Page([self._post(s, reason="hashtag", cursor=str(s.get("id", ""))) for s in items], cursor)

    def search(self, query: str, since: str | None = None, *, limit: int = 40) -> Page[Post]:
        """Keyword search over statuses (the server decides what it indexes)."""
        if not query.strip():
            raise ValueError("a search needs a keyword")
        params = {"q": query, "type": "statuses", "limit": limit, "resolve": "false"}
        if since:
            params["min_id"] = since
        result = expect_dict(self._get("/api/v2/search", params), "search")
        statuses = sorted((s for s in result.get("statuses") or [] if isinstance(s, dict) and s.get("id")),
                          key=lambda s: int(s["id"]))
        posts = [self._post(s, reason="search", cursor=str(s["id"])) for s in statuses]
        return Page(posts, posts[-1].cursor if posts else since)

    def blocked_and_muted(self, *, max_pages: int = 10) -> list[Profile]:
        """The accounts this account blocks or mutes (``/api/v1/blocks``, ``/api/v1/mutes``, following the Link
        header's "next" page): their posts are ignored as the account's owner chose on the network."""
        found: list[Profile] = []
        for path in ("/api/v1/blocks", "/api/v1/mutes"):
            url = ""
            for _ in range(max_pages):
                batch, response = self._request("GET", path, params=None if url else {"limit": 80}, url=url)
                if not isinstance(batch, list):
                    raise InvalidResponse(f"{path} answered with {type(batch).__name__}, expected a list")
                found += [self._profile(account) for account in batch if isinstance(account, dict)]
                links = {m["rel"]: m["url"] for m in _LINK.finditer(response.headers.get("Link", ""))}
                url = links.get("next", "")
                if not batch or not url:
                    break
        return found

    def ancestors(self, status_id: str) -> list[str]:
        """The ids of the posts a status answers, nearest first (from its thread context)."""
        return [post.external_id for post in self.ancestor_posts(status_id)]

    def ancestor_posts(self, status_id: str) -> list[Post]:
        """The posts a status answers, nearest first: the last is the root of its thread (as far as this account
        may see it)."""
        context = expect_dict(self._get(f"/api/v1/statuses/{status_id}/context"), "context")
        return [self._post(s) for s in (context.get("ancestors") or [])[::-1] if isinstance(s, dict) and s.get("id")]

    def get_status(self, status_id: str) -> Post:
        return self._post(self._get(f"/api/v1/statuses/{status_id}"))

    def stream(self, kind: str = "user", tag: str = "") -> Iterator[tuple[str, Any]]:
        """Events of the streaming API: ("update"|"status.update", Post), ("notification", Post),
        ("delete", status id), ("conversation", Post). Heartbeats are skipped; the caller closes it."""
        path = "/api/v1/streaming/user" if kind == "user" else "/api/v1/streaming/hashtag"
        try:
            response = self.http.get(f"{self.base_url}{path}", params={"tag": tag} if tag else None, stream=True,
                                     timeout=self.timeout, headers={"Authorization": f"Bearer {self.token}",
                                                                    "Accept": "text/event-stream"})
        except requests.RequestException as exc:
            raise Unavailable(f"could not open the stream: {exc}") from exc
        if response.status_code != 200:
            self._raise(response, write=False)
        try:
            event, data = "", []
            for line in response.iter_lines(decode_unicode=True):
                if line.startswith(":"):
                    continue
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].strip())
                elif line == "" and event:
                    yield self._stream_event(event, "\n".join(data))
                    event, data = "", []
        except requests.RequestException as exc:
            raise Unavailable(f"the stream broke off: {exc}") from exc
        finally:
            response.close()

    def _stream_event(self, event: str, data: str) -> tuple[str, Any]:
        if event == "delete":
            return event, data
        try:
            payload = json.loads(data)
        except ValueError as exc:
            raise InvalidResponse(f"a {event} event that is not JSON") from exc
        if event in ("update", "status.update"):
            return event, self._post(payload, reason="stream")
        if event == "notification" and isinstance(payload, dict) and payload.get("status"):
            return event, self._post(payload["status"], reason=str(payload.get("type", "")),
                                     cursor=str(payload.get("id", "")))
        if event == "conversation" and isinstance(payload, dict) and payload.get("last_status"):
            return event, self._post(payload["last_status"], reason="direct",
                                     conversation_id=str(payload.get("id", "")))
        return event, payload

    # --- writing -------------------------------------------------------------------------------------------
    def upload_image(self, data: bytes, mime_type: str, alt: str, *, filename: str = "image",
                     wait: float = 30.0) -> Media:
        """Upload with alt text (`description`); waits while the server still processes it (202/206)."""
        if not mime_type.startswith("image/"):
            raise ValueError(f"not an image: {mime_type}")
        raw, response = self._request("POST", "/api/v2/media", files={"file": (filename, data, mime_type)},
                                      data={"description": alt})
        deadline = time.monotonic() + wait
        while isinstance(raw, dict) and not raw.get("url") and time.monotonic() < deadline:
            time.sleep(0.2)
            raw, response = self._request("GET", f"/api/v1/media/{raw['id']}")
        raw = expect_dict(raw, "media")
        if not raw.get("url"):
            raise Unavailable("the server is still processing the image")
        return Media(external_id=str(raw["id"]), url=str(raw["url"]), description=str(raw.get("description") or ""),
                     mime_type=mime_type, raw=raw)

    def reply(self, text: str, parent: Post, *, visibility: str = "", mention: bool = True,
              media: list[Media] = (), language: str = "", idempotency_key: str = "") -> Post:
        """A reply threaded under `parent`, mentioning its author, never more open than `parent` was."""
        visibility = visibility or parent.visibility
        if visibility not in VISIBILITIES:
            raise ValueError(f"unknown visibility {visibility!r}")
        if VISIBILITIES.index(visibility) < VISIBILITIES.index(parent.visibility):
            visibility = parent.visibility  # answering a DM publicly would leak it
        acct = str(parent.author.raw.get("acct") or "")  # "name" on this server, "name@domain" elsewhere
        if mention and acct and not re.search(rf"(?<![\w@])@{re.escape(acct)}(?![\w@.-])", text):
            text = f"@{acct} {text}"
        return self.post(text, visibility=visibility, in_reply_to_id=parent.external_id, media=media,
                         language=language, idempotency_key=idempotency_key)

    def post(self, text: str, *, visibility: str = "public", in_reply_to_id: str = "", media: list[Media] = (),
             language: str = "", idempotency_key: str = "") -> Post:
        """Post a status. The same Idempotency-Key goes with every retry, so the server posts it once."""
        key = idempotency_key or str(uuid.uuid4())
        form: list[tuple[str, str]] = [("status", text), ("visibility", visibility)]
        if in_reply_to_id:
            form.append(("in_reply_to_id", in_reply_to_id))
        if language:
            form.append(("language", language))
        form += [("media_ids[]", m.external_id) for m in media]
        last: Unavailable | None = None
        for attempt in range(self.write_attempts):
            try:
                raw, _ = self._request("POST", "/api/v1/statuses", data=form, headers={"Idempotency-Key": key})
                return self._post(raw)
            except Unavailable as exc:
                last = exc
                time.sleep(min(0.2 * 2 ** attempt, 2.0))
        raise last  # type: ignore[misc]

    def delete(self, status_id: str) -> None:
        self._request("DELETE", f"/api/v1/statuses/{status_id}")


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
