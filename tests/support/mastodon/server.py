"""A local Mastodon API server for tests: the endpoints a channel driver uses, answered in documented shapes.

No Mastodon-compatible server is installable from the package registries here. Every entity this server
returns is built from the documented example in payloads/<entity>.json (which names its documentation
page): `entity()` copies the example and only replaces fields the example has, so a response can never
carry a field the documentation does not show or miss one it does.

Test controls (Python methods, not HTTP): add accounts and tokens, revoke tokens, post/edit/delete as a
customer, and make chosen requests fail (status codes, slowness, truncated bodies, answers lost after the
work was done) or run into the rate limit.
"""

from __future__ import annotations

import copy
import html
import itertools
import json
import queue
import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import regex

PAYLOADS = Path(__file__).parent / "payloads"
URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]}]", re.IGNORECASE)
MENTION = re.compile(r"(?<![\w/])@([a-z0-9_]+)(?:@([a-z0-9.-]+\.[a-z]+))?", re.IGNORECASE)
HASHTAG = re.compile(r"(?<![\w/#])#(\w+)")
RATE_LIMIT = 300


def documented(name: str) -> dict:
    return json.loads((PAYLOADS / f"{name}.json").read_text())["example"]


def entity(kind: str, /, **fields) -> dict:
    """The documented example of `kind` with `fields` replaced; unknown fields are a bug in the server."""
    value = copy.deepcopy(documented(kind))
    unknown = set(fields) - set(value)
    if unknown:
        raise KeyError(f"{kind} has no documented field(s) {sorted(unknown)}")
    value.update(fields)
    return value


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def countable_length(text: str) -> int:
    """Mastodon's count: URLs as 23, remote mentions by their local part, grapheme clusters."""
    text = URL.sub("x" * 23, text)
    text = MENTION.sub(lambda m: "@" + m.group(1), text)
    return len(regex.findall(r"\X", text))


@dataclass
class Fault:
    path: str
    action: str  # "status", "slow", "truncate", "drop-after"
    times: int = 1
    status: int = 500
    seconds: float = 0.0


class MastodonServer:
    def __init__(self, domain: str = "social.example", max_characters: int = 500) -> None:
        self.domain = domain
        self.max_characters = max_characters
        self.lock = threading.RLock()
        self.ids = itertools.count(110_000_000_000_000_000, 7919)
        self.accounts: dict[str, dict] = {}
        self.tokens: dict[str, str] = {}  # token -> account id
        self.revoked: set[str] = set()
        self.statuses: dict[str, dict] = {}
        self.deleted: set[str] = set()
        self.notifications: dict[str, list[dict]] = {}
        self.conversations: dict[str, dict[str, dict]] = {}  # account id -> conversation id -> entity
        self.media: dict[str, dict] = {}
        self.files: dict[str, tuple[bytes, str]] = {}  # path -> (content, content type): the media server
        self.relations: dict[str, dict[str, list[tuple[str, str]]]] = {}  # account -> blocks|mutes -> (id, target)
        self.media_processing = False
        self.link_headers = True  # some fediverse servers send no Link header; tests can switch it off
        self._processing_polls: dict[str, int] = {}
        self.idempotency: dict[tuple[str, str], str] = {}
        self.streams: list[tuple[str, str, queue.Queue]] = []  # (account id, "user" or "hashtag:<tag>", events)
        self.faults: list[Fault] = []
        self.remaining: dict[str, int] = {}
        self.rate_reset = datetime.now(UTC) + timedelta(minutes=5)
        self.log: list[tuple[str, str, dict]] = []
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    # --- lifecycle -----------------------------------------------------------------------------------------
    def start(self) -> MastodonServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        for _, _, events in self.streams:
            events.put(None)
        self.httpd.shutdown()
        self.httpd.server_close()

    def _id(self) -> str:
        return str(next(self.ids))

    # --- test controls -------------------------------------------------------------------------------------
    def add_account(self, username: str, display_name: str = "", note: str = "", followers: int = 0,
                    bot: bool = False) -> tuple[dict, str]:
        with self.lock:
            account_id = self._id()
            account = entity(
                "account", id=account_id, username=username, acct=username, display_name=display_name,
                bot=bot, created_at=now_iso(), note=note or "<p></p>", url=f"https://{self.domain}/@{username}",
                uri=f"https://{self.domain}/users/{username}",
                avatar=f"https://{self.domain}/system/accounts/avatars/{account_id}/original/avatar.png",
                avatar_static=f"https://{self.domain}/system/accounts/avatars/{account_id}/original/avatar.png",
                header=f"https://{self.domain}/headers/original/missing.png",
                header_static=f"https://{self.domain}/headers/original/missing.png",
                followers_count=followers, following_count=0, statuses_count=0, last_status_at=None, fields=[])
            self.accounts[account_id] = account
            token = f"token-{username}-{account_id}"
            self.tokens[token] = account_id
            self.notifications[account_id] = []
            self.conversations[account_id] = {}
            return account, token

    def add_media(self, data: bytes, content_type: str, description: str | None = None, kind: str = "image",
                  filename: str = "bild.png", url: str = "") -> dict:
        """A MediaAttachment a customer's app uploaded (pass its id as ``media_ids`` to ``post``); the file is
        served at its ``url`` on this server, as a Mastodon server serves media from its own host."""
        with self.lock:
            media_id = self._id()
            path = f"/system/media_attachments/files/{media_id}/original/{filename}"
            self.files[path] = (data, content_type)
            media = entity("media_attachment", id=media_id, type=kind, url=url or f"{self.url}{path}",
                           preview_url=url or f"{self.url}{path}", remote_url=None, description=description)
            self.media[media_id] = media
            return media

    def block(self, token: str, account_id: str, relation: str = "blocks") -> None:
        """The token's owner blocks (or, with relation="mutes", mutes) an account in their app."""
        with self.lock:
            owner = self.tokens[token]
            self.relations.setdefault(owner, {}).setdefault(relation, []).append((self._id(), account_id))

    def revoke(self, token: str) -> None:
        self.revoked.add(token)

    def fail(self, path: str, action: str = "status", **kwargs) -> Fault:
        fault = Fault(path, action, **kwargs)
        self.faults.append(fault)
        return fault

    def set_rate_limit(self, token: str, remaining: int, reset_in: float = 300.0) -> None:
        self.remaining[token] = remaining
        self.rate_reset = datetime.now(UTC) + timedelta(seconds=reset_in)

    def account_by_username(self, username: str) -> dict:
        return next(a for a in self.accounts.values() if a["username"] == username)

    def post(self, token: str, text: str = "", *, html_content: str | None = None, visibility: str = "public",
             in_reply_to_id: str | None = None, language: str | None = "de", media_ids: list[str] = (),
             spoiler_text: str = "") -> dict:
        """A status as the token's owner writes it (from any app): notifications, conversations, streams."""
        with self.lock:
            author = self.accounts[self.tokens[token]]
            status_id = self._id()
            mentions = []
            for match in MENTION.finditer(text):
                local = match.group(2) in (None, self.domain)
                target = next((a for a in self.accounts.values() if a["username"] == match.group(1)), None)
                if local and target:
                    mentions.append(entity("mention", id=target["id"], username=target["username"],
                                           url=target["url"], acct=target["acct"]))
            tags = [entity("tag", name=t.lower(), url=f"https://{self.domain}/tags/{t.lower()}")
                    for t in dict.fromkeys(HASHTAG.findall(text))]
            parent = self.statuses.get(in_reply_to_id or "")
            status = entity(
                "status", id=status_id, created_at=now_iso(), in_reply_to_id=parent["id"] if parent else None,
                in_reply_to_account_id=parent["account"]["id"] if parent else None, sensitive=False,
                spoiler_text=spoiler_text, visibility=visibility, language=language,
                uri=f"https://{self.domain}/users/{author['username']}/statuses/{status_id}",
                url=f"https://{self.domain}/@{author['username']}/{status_id}", replies_count=0, reblogs_count=0,
                favourites_count=0, content=html_content if html_content is not None else self.render(text),
                application={"name": "Web", "website": None}, account=copy.deepcopy(author),
                media_attachments=[self.media[m] for m in media_ids], mentions=mentions, tags=tags, card=None)
            self.statuses[status_id] = status
            author["statuses_count"] += 1
            author["last_status_at"] = now_iso()[:10]
            if parent:
                parent["replies_count"] += 1
            for mention in mentions:
                if mention["id"] != author["id"]:
                    self._notify(mention["id"], "mention", author, status)
            if visibility == "direct":
                self._converse(author, status, [self.accounts[m["id"]] for m in mentions])
            for tag in tags:
                if visibility == "public":
                    self._push(f"hashtag:{tag['name']}", None, "update", status)
            return status

    def edit(self, status_id: str, text: str) -> dict:
        with self.lock:
            status = self.statuses[status_id]
            status["content"] = self.render(text)
            status["edited_at"] = now_iso()
            self._fan_out(status, "status.update", status)
            return status

    def delete(self, status_id: str) -> None:
        with self.lock:
            status = self.statuses.pop(status_id)
            self.deleted.add(status_id)
            for items in self.notifications.values():
                items[:] = [n for n in items if n["status"]["id"] != status_id]
            self._fan_out(status, "delete", status_id)

    def render(self, text: str) -> str:
        """Status HTML as Mastodon renders a local post: paragraphs, linked URLs, mentions and hashtags."""
        def inline(chunk: str) -> str:
            out, position = [], 0
            tokens = sorted([(m.start(), m.end(), "url", m) for m in URL.finditer(chunk)]
                            + [(m.start(), m.end(), "mention", m) for m in MENTION.finditer(chunk)]
                            + [(m.start(), m.end(), "tag", m) for m in HASHTAG.finditer(chunk)])
            for start, end, kind, match in tokens:
                if start < position:
                    continue
                out.append(html.escape(chunk[position:start], quote=False))
                if kind == "url":
                    href = html.escape(match.group(), quote=True)
                    out.append(f'<a href="{href}" target="_blank" rel="nofollow noopener noreferrer">'
                               f'{html.escape(match.group(), quote=False)}</a>')
                elif kind == "mention":
                    user = match.group(1)
                    out.append(f'<span class="h-card" translate="no"><a href="https://{match.group(2) or self.domain}'
                               f'/@{user}" class="u-url mention">@<span>{html.escape(user)}</span></a></span>')
                else:
                    tag = match.group(1)
                    out.append(f'<a href="https://{self.domain}/tags/{html.escape(tag.lower())}" class="mention '
                               f'hashtag" rel="tag">#<span>{html.escape(tag)}</span></a>')
                position = end
            out.append(html.escape(chunk[position:], quote=False))
            return "".join(out).replace("\n", "<br />")

        paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
        return "".join(f"<p>{inline(p)}</p>" for p in paragraphs)

    # --- internal fan-out ----------------------------------------------------------------------------------
    def _notify(self, account_id: str, kind: str, from_account: dict, status: dict) -> None:
        notification = entity("notification", id=self._id(), type=kind, created_at=now_iso(),
                              account=copy.deepcopy(from_account), status=status)
        notification["group_key"] = f"ungrouped-{notification['id']}"
        self.notifications[account_id].insert(0, notification)
        self._push("user", account_id, "notification", notification)

    def _converse(self, author: dict, status: dict, recipients: list[dict]) -> None:
        members = {a["id"]: a for a in [author, *recipients]}
        for member_id in members:
            existing = next((c for c in self.conversations[member_id].values()
                             if {a["id"] for a in c["accounts"]} == set(members) - {member_id}), None)
            if existing:
                existing.update(last_status=status, unread=member_id != author["id"])
                conversation = existing
            else:
                conversation = entity("conversation", id=self._id(), unread=member_id != author["id"],
                                      accounts=[copy.deepcopy(a) for i, a in members.items() if i != member_id],
                                      last_status=status)
                self.conversations[member_id][conversation["id"]] = conversation
            self._push("user", member_id, "conversation", conversation)

    def _fan_out(self, status: dict, event: str, payload) -> None:
        interested = {m["id"] for m in status["mentions"]} | {status["account"]["id"]}
        for account_id in interested:
            self._push("user", account_id, event, payload)
        for tag in status["tags"]:
            self._push(f"hashtag:{tag['name']}", None, event, payload)

    def _push(self, stream: str, account_id: str | None, event: str, payload) -> None:
        for owner, kind, events in list(self.streams):
            if kind == stream and (account_id is None or owner == account_id):
                events.put((event, payload))


def _paginate(items: list[dict], params: dict, key=lambda item: item["id"]) -> tuple[list[dict], dict]:
    """Mastodon's max_id / since_id / min_id over a newest-first list; returns the page and its link ids."""
    limit = max(1, min(int(params.get("limit", 20)), 40))
    ordered = sorted(items, key=lambda i: int(key(i)), reverse=True)
    if params.get("max_id"):
        ordered = [i for i in ordered if int(key(i)) < int(params["max_id"])]
    if params.get("since_id"):
        ordered = [i for i in ordered if int(key(i)) > int(params["since_id"])]
    if params.get("min_id"):  # the results immediately newer than min_id
        ordered = [i for i in ordered if int(key(i)) > int(params["min_id"])][-limit:]
    page = ordered[:limit]
    links = {"next": key(page[-1]), "prev": key(page[0])} if page else {}
    return page, links


def _handler(server: MastodonServer):
    routes: list[tuple[str, re.Pattern, str]] = [
        ("GET", re.compile(r"/api/v2/instance"), "instance"),
        ("GET", re.compile(r"/api/v1/accounts/verify_credentials"), "verify_credentials"),
        ("GET", re.compile(r"/api/v1/accounts/lookup"), "lookup"),
        ("GET", re.compile(r"/api/v1/accounts/(\d+)"), "account"),
        ("GET", re.compile(r"/api/v1/notifications"), "notifications"),
        ("GET", re.compile(r"/api/v1/conversations"), "conversations"),
        ("GET", re.compile(r"/api/v1/timelines/tag/([^/]+)"), "tag_timeline"),
        ("GET", re.compile(r"/api/v2/search"), "search"),
        ("GET", re.compile(r"/api/v1/statuses/(\d+)/context"), "context"),
        ("GET", re.compile(r"/api/v1/statuses/(\d+)"), "status"),
        ("DELETE", re.compile(r"/api/v1/statuses/(\d+)"), "delete_status"),
        ("POST", re.compile(r"/api/v1/statuses"), "post_status"),
        ("POST", re.compile(r"/api/v2/media"), "upload"),
        ("GET", re.compile(r"/api/v1/media/(\d+)"), "media"),
        ("GET", re.compile(r"/api/v1/(blocks|mutes)"), "relations"),
        ("GET", re.compile(r"/api/v1/streaming/health"), "health"),
        ("GET", re.compile(r"/api/v1/streaming/(user|hashtag)"), "stream"),
    ]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # keep test output quiet
            pass

        # --- plumbing ----------------------------------------------------------------------------------
        def _send(self, status: int, body, headers: dict | None = None, truncate: bool = False) -> None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data[: len(data) // 2] if truncate else data)
            if truncate:
                self.close_connection = True

        def _error(self, status: int, message: str, headers: dict | None = None) -> None:
            self._send(status, entity("error", error=message), headers)

        def _rate_headers(self, token: str) -> dict:
            remaining = server.remaining.get(token, RATE_LIMIT)
            return {"X-RateLimit-Limit": str(RATE_LIMIT), "X-RateLimit-Remaining": str(max(remaining, 0)),
                    "X-RateLimit-Reset": server.rate_reset.isoformat(timespec="milliseconds").replace("+00:00", "Z")}

        def _body(self) -> dict:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            kind = self.headers.get("Content-Type", "")
            if kind.startswith("application/json"):
                try:
                    value = json.loads(raw or b"{}")
                except ValueError:
                    return {"__invalid__": True}
                return value if isinstance(value, dict) else {"__invalid__": True}
            if kind.startswith("multipart/form-data"):
                message = BytesParser(policy=HTTP).parsebytes(
                    f"Content-Type: {kind}\r\n\r\n".encode() + raw)
                fields: dict = {}
                for part in message.iter_parts():
                    name = part.get_param("name", header="content-disposition")
                    if part.get_filename():
                        fields[name] = {"filename": part.get_filename(), "type": part.get_content_type(),
                                        "data": part.get_payload(decode=True)}
                    else:
                        fields[name] = part.get_payload(decode=True).decode()
                return fields
            form = parse_qs(raw.decode(errors="replace"))
            return {k.removesuffix("[]"): (v if k.endswith("[]") else v[0]) for k, v in form.items()}

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            params = {k.removesuffix("[]"): (v if k.endswith("[]") else v[0]) for k, v in
                      parse_qs(parts.query).items()}
            body = self._body() if self.command in ("POST", "PUT", "PATCH") else {}
            server.log.append((self.command, self.path, dict(self.headers)))
            fault = next((f for f in server.faults if f.path in parts.path and f.times > 0), None)
            if fault:
                fault.times -= 1
                if fault.action == "status":
                    self._error(fault.status, "Internal Server Error" if fault.status >= 500 else "injected")
                    return
                if fault.action == "slow":
                    time.sleep(fault.seconds)
            if self.command == "GET" and parts.path in server.files:  # media files need no token
                data, content_type = server.files[parts.path]
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            route = next(((name, match) for method, pattern, name in routes
                          if method == self.command and (match := pattern.fullmatch(parts.path))), None)
            if route is None:
                self._error(404, "Record not found")
                return
            name, match = route
            token = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip() \
                or params.get("access_token", "")
            public = name in ("instance", "health")
            if not public and (token not in server.tokens or token in server.revoked):
                self._error(401, "The access token is invalid")
                return
            headers = self._rate_headers(token) if token else {}
            if token:
                remaining = server.remaining.get(token, RATE_LIMIT)
                if remaining <= 0:
                    self._error(429, "Too many requests", headers)
                    return
                server.remaining[token] = remaining - 1
                headers = self._rate_headers(token)
            viewer = server.accounts.get(server.tokens.get(token, ""))
            if name == "stream":
                self._stream(match.group(1), viewer, params)
                return
            with server.lock:
                status, result, extra = getattr(self, f"_{name}")(viewer, params, body, *match.groups(),
                                                                  token=token)
            if fault and fault.action == "drop-after":
                self.close_connection = True  # the work is done, the answer is lost
                return
            self._send(status, result, {**headers, **extra}, truncate=bool(fault and fault.action == "truncate"))

        do_GET = do_POST = do_DELETE = _handle

        def _link(self, links: dict, params: dict) -> dict:
            if not links or not server.link_headers:
                return {}
            base = f"{server.url}{urlsplit(self.path).path}"
            keep = {k: v for k, v in params.items() if k not in ("max_id", "min_id", "since_id")}
            expanded = [(f"{k}[]" if isinstance(v, list) else k, v) for k, v in keep.items()]
            query = urlencode([(k, x) for k, v in expanded for x in (v if isinstance(v, list) else [v])])
            sep = "&" if query else ""
            return {"Link": f'<{base}?{query}{sep}max_id={links["next"]}>; rel="next", '
                            f'<{base}?{query}{sep}min_id={links["prev"]}>; rel="prev"'}

        # --- endpoints ---------------------------------------------------------------------------------
        def _instance(self, viewer, params, body, token=""):
            instance = entity("instance_v2", domain=server.domain, title="Testserver", version="4.3.0",
                              languages=["de", "en"])
            instance["configuration"]["statuses"]["max_characters"] = server.max_characters
            instance["configuration"]["urls"]["streaming"] = server.url.replace("http", "ws")
            instance["contact"]["account"] = next(iter(server.accounts.values()), documented("account"))
            return 200, instance, {}

        def _verify_credentials(self, viewer, params, body, token=""):
            credential = copy.deepcopy(viewer)
            credential["source"] = {"privacy": "public", "sensitive": False, "language": "de",
                                    "note": re.sub(r"<[^>]+>", "", viewer["note"]), "fields": [],
                                    "follow_requests_count": 0}
            return 200, credential, {}

        def _lookup(self, viewer, params, body, token=""):
            acct = params.get("acct", "").lstrip("@").removesuffix(f"@{server.domain}")
            found = next((a for a in server.accounts.values() if a["acct"] == acct), None)
            return (200, found, {}) if found else (404, entity("error", error="Record not found"), {})

        def _account(self, viewer, params, body, account_id, token=""):
            found = server.accounts.get(account_id)
            return (200, found, {}) if found else (404, entity("error", error="Record not found"), {})

        def _notifications(self, viewer, params, body, token=""):
            items = server.notifications[viewer["id"]]
            if params.get("types"):
                items = [n for n in items if n["type"] in params["types"]]
            if params.get("exclude_types"):
                items = [n for n in items if n["type"] not in params["exclude_types"]]
            page, links = _paginate(items, params)
            return 200, page, self._link(links, params)

        def _conversations(self, viewer, params, body, token=""):
            items = list(server.conversations[viewer["id"]].values())
            page, links = _paginate(items, params, key=lambda c: c["last_status"]["id"])
            return 200, page, self._link(links, params)

        def _visible(self, status: dict, viewer: dict) -> bool:
            if status["visibility"] in ("public", "unlisted"):
                return True
            return viewer["id"] == status["account"]["id"] or viewer["id"] in {m["id"] for m in status["mentions"]}

        def _tag_timeline(self, viewer, params, body, tag, token=""):
            items = [s for s in server.statuses.values() if s["visibility"] == "public"
                     and tag.lower() in {t["name"] for t in s["tags"]}]
            page, links = _paginate(items, params)
            return 200, page, self._link(links, params)

        def _search(self, viewer, params, body, token=""):
            q = params.get("q", "").strip().lower()
            if not q:
                return 400, entity("error", error="Validation failed: q is missing"), {}
            statuses = []
            if params.get("type") in (None, "statuses"):
                for status in server.statuses.values():
                    text = re.sub(r"<[^>]+>", "", status["content"]).lower()
                    tags = {"#" + t["name"] for t in status["tags"]}
                    if status["visibility"] == "public" and (q in text or q in tags):
                        statuses.append(status)
            page, _ = _paginate(statuses, params)
            return 200, {"accounts": [], "statuses": page, "hashtags": []}, {}

        def _status(self, viewer, params, body, status_id, token=""):
            status = server.statuses.get(status_id)
            if status is None or not self._visible(status, viewer):
                return 404, entity("error", error="Record not found"), {}
            return 200, status, {}

        def _context(self, viewer, params, body, status_id, token=""):
            status = server.statuses.get(status_id)
            if status is None:
                return 404, entity("error", error="Record not found"), {}
            ancestors, current = [], status
            while current["in_reply_to_id"] in server.statuses:
                current = server.statuses[current["in_reply_to_id"]]
                ancestors.insert(0, current)
            descendants, frontier = [], [status_id]
            while frontier:
                children = [s for s in server.statuses.values() if s["in_reply_to_id"] in frontier]
                descendants += children
                frontier = [c["id"] for c in children]
            return 200, {"ancestors": ancestors, "descendants": descendants}, {}

        def _delete_status(self, viewer, params, body, status_id, token=""):
            status = server.statuses.get(status_id)
            if status is None:
                return 404, entity("error", error="Record not found"), {}
            if status["account"]["id"] != viewer["id"]:
                return 403, entity("error", error="This action is not allowed"), {}
            server.delete(status_id)
            deleted = copy.deepcopy(status)
            deleted["text"] = re.sub(r"<[^>]+>", "", status["content"])  # DELETE returns the source text
            return 200, deleted, {}

        def _post_status(self, viewer, params, body, token=""):
            if body.get("__invalid__"):
                return 422, entity("error", error="Validation failed: body is not valid JSON"), {}
            key = self.headers.get("Idempotency-Key")
            if key and (token, key) in server.idempotency:
                return 200, server.statuses[server.idempotency[(token, key)]], {}
            text = body.get("status", "") or ""
            media_ids = body.get("media_ids") or []
            media_ids = [media_ids] if isinstance(media_ids, str) else media_ids
            if not text.strip() and not media_ids:
                return 422, entity("error", error="Validation failed: Text can't be blank"), {}
            if countable_length(text) > server.max_characters:
                return 422, entity("error", error=f"Validation failed: Text character limit of "
                                                  f"{server.max_characters} exceeded"), {}
            visibility = body.get("visibility") or "public"
            if visibility not in ("public", "unlisted", "private", "direct"):
                return 422, entity("error", error="Validation failed: Visibility is not included in the list"), {}
            reply_to = body.get("in_reply_to_id")
            if reply_to and reply_to not in server.statuses:
                return 404, entity("error", error="Record not found"), {}
            if any(m not in server.media for m in media_ids):
                return 422, entity("error", error="Validation failed: media not found"), {}
            status = server.post(token, text, visibility=visibility, in_reply_to_id=reply_to,
                                 language=body.get("language") or None, media_ids=media_ids,
                                 spoiler_text=body.get("spoiler_text") or "")
            if key:
                server.idempotency[(token, key)] = status["id"]
            return 200, status, {}

        def _upload(self, viewer, params, body, token=""):
            upload = body.get("file")
            if not isinstance(upload, dict) or not upload["data"]:
                return 422, entity("error", error="Validation failed: File can't be blank"), {}
            if not upload["type"].startswith("image/"):
                return 422, entity("error", error="Validation failed: File content type is invalid"), {}
            media_id = server._id()
            url = f"https://{server.domain}/system/media_attachments/files/{media_id}/original/{upload['filename']}"
            media = entity("media_attachment", id=media_id, type="image", url=url,
                           preview_url=url.replace("/original/", "/small/"), description=body.get("description"))
            server.media[media_id] = media
            if server.media_processing:
                server._processing_polls[media_id] = 1
                return 202, {**media, "url": None}, {}
            return 200, media, {}

        def _media(self, viewer, params, body, media_id, token=""):
            media = server.media.get(media_id)
            if media is None:
                return 404, entity("error", error="Record not found"), {}
            if server._processing_polls.get(media_id):
                server._processing_polls[media_id] -= 1
                return 206, {**media, "url": None}, {}
            return 200, media, {}

        def _relations(self, viewer, params, body, relation, token=""):
            """GET /api/v1/blocks, /api/v1/mutes: Account entities, paged by the block's (mute's) own id."""
            rows = [{"id": rid, "account": server.accounts[target]}
                    for rid, target in server.relations.get(viewer["id"], {}).get(relation, [])]
            page, links = _paginate(rows, params)
            return 200, [copy.deepcopy(r["account"]) for r in page], self._link(links, params)

        def _health(self, viewer, params, body, token=""):
            return 200, b"OK", {}

        def _stream(self, kind: str, viewer: dict, params: dict) -> None:
            name = "user" if kind == "user" else f"hashtag:{params.get('tag', '').lower()}"
            events: queue.Queue = queue.Queue()
            server.streams.append((viewer["id"], name, events))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()

            def chunk(text: str) -> None:
                data = text.encode()
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

            try:
                chunk(":)\n\n")
                while True:
                    try:
                        item = events.get(timeout=0.5)
                    except queue.Empty:
                        chunk(":thump\n\n")
                        continue
                    if item is None:
                        break
                    event, payload = item
                    data = payload if isinstance(payload, str) else json.dumps(payload)
                    chunk(f"event: {event}\ndata: {data}\n\n")
                self.wfile.write(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
            finally:
                server.streams.remove((viewer["id"], name, events))
                self.close_connection = True

    return Handler
