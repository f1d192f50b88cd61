"""A local X API v2 server (and Account Activity event builder) for tests, answering in the documented shapes.

Every body comes from the documented example in payloads/<name>.json (each names its documentation page).
Serves ``POST /2/tweets`` (280-character limit as X counts it: URLs 23), ``POST
/2/dm_conversations/with/<id>/messages``, ``GET /2/users/me`` and ``GET /2/tweets/search/recent`` (posts added
with `publish()`, matched on the query's plain words, newest first, ``since_id``, ``max_results`` and
``next_token`` pages), ``GET /2/tweets/:id`` (posts added with `add_tweet()` and our own replies, with their
``conversation_id``: the root of their reply chain), with ``x-rate-limit-*`` headers; `remaining` lets that many more calls through before 429,
`revoke()` answers 401. Files added with `add_file()` are served as X's media hosts serve them: a post's photo
openly under ``/media/`` (pbs.twimg.com), a direct message's under ``/dm_media/`` only with the account's token
(ton.twitter.com); an unknown name answers 404, as an expired media URL does.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import itertools
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tests.support import multipart

PAYLOADS = Path(__file__).parent / "payloads"
URL = re.compile(r"https?://\S+")


def documented(name: str, part: str = "example") -> dict:
    return copy.deepcopy(json.loads((PAYLOADS / f"{name}.json").read_text())[part])


class XServer:
    def __init__(self, token: str = "x-user-token", consumer_secret: str = "x-consumer-secret") -> None:
        self.token, self.consumer_secret, self.revoked = token, consumer_secret, False
        self.ids = itertools.count(1445880548472328300)
        self.tweets: list[dict] = []
        self.dms: list[tuple[str, dict]] = []
        self.public: list[tuple[dict, dict]] = []
        self.media: dict[str, dict] = {}  # uploaded media id -> {"category", "mime", "size", "alt"}  # (post, author) that recent search finds
        self.searches: list[dict] = []
        #: every post the lookup knows: id -> {"id", "text", "author_id", "conversation_id", "username", "name"}
        self.known: dict[str, dict] = {}
        self.lookups: list[str] = []
        self.files: dict[str, tuple[bytes, str]] = {}
        self.downloads: list[str] = []  # every media file fetched, by name
        #: status the post lookup (GET /2/tweets/:id) answers instead, while set (429, 503: X cannot tell now)
        self.lookup_status: int | None = None
        self.remaining = 100
        self.reset = int(time.time()) + 900
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> XServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def revoke(self) -> None:
        """The account's token is revoked (or expired): every API call answers 401."""
        self.revoked = True

    def publish(self, text: str, *, username: str = "radfahrerin", name: str = "Rad Fahrerin",
                followers: int = 1234, lang: str = "de") -> str:
        """A public post by someone else that recent search can find; returns its id."""
        example = documented("search_recent")
        post, user = example["data"][0], example["includes"]["users"][0]
        post_id = str(next(self.ids))
        user_id = str(int(hashlib.sha256(username.encode()).hexdigest()[:10], 16))
        post.update(id=post_id, text=text, lang=lang, author_id=user_id, edit_history_tweet_ids=[post_id],
                    created_at=time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()))
        user.update(id=user_id, username=username, name=name)
        user["public_metrics"]["followers_count"] = followers
        self.public.append((post, user))
        return post_id

    def add_tweet(self, text: str, *, username: str = "TwitterAPI", user_id: str = "6253282", name: str = "",
                  in_reply_to: str = "") -> str:
        """A post on X (the company's, or a customer's); a reply belongs to the chain of the post it answers."""
        tweet_id = str(next(self.ids))
        parent = self.known.get(in_reply_to)
        self.known[tweet_id] = {"id": tweet_id, "text": text, "author_id": user_id, "username": username,
                                "name": name or username, "in_reply_to": in_reply_to,
                                "conversation_id": parent["conversation_id"] if parent else tweet_id}
        return tweet_id

    def mention_event(self, tweet_id: str, *, conversation_id: bool = False) -> dict:
        """The Account Activity event for a customer's post added with `add_tweet()` (the documented example with
        its id, text, author and ``in_reply_to_status_id_str``; ``conversation_id`` only when asked: the
        documented v1.1 shape carries none)."""
        known = self.known[tweet_id]
        event = documented("tweet_create_event")
        tweet = event["tweet_create_events"][0]
        tweet.update(id=int(tweet_id), id_str=tweet_id, text=known["text"],
                     in_reply_to_status_id_str=known["in_reply_to"] or None)
        tweet["user"].update(id=int(known["author_id"]), id_str=known["author_id"], screen_name=known["username"],
                             name=known["name"])
        if conversation_id:
            tweet["conversation_id"] = known["conversation_id"]
        return event

    def lookup(self, tweet_id: str) -> dict:
        self.lookups.append(tweet_id)
        known = self.known.get(tweet_id)
        if known is None:
            return json.loads(json.dumps(documented("tweet_lookup", "not_found")).replace("<ID>", tweet_id))
        answer = documented("tweet_lookup")
        answer["data"].update(id=tweet_id, text=known["text"], author_id=known["author_id"],
                              conversation_id=known["conversation_id"], edit_history_tweet_ids=[tweet_id])
        answer["includes"]["users"] = [{"id": known["author_id"], "name": known["name"], "username": known["username"]}]
        return answer

    def search(self, query: dict) -> dict:
        self.searches.append(query)
        words = [w.strip('"').lower() for w in (query.get("query") or "").split()
                 if w and not w.startswith("-") and ":" not in w and w.upper() not in ("OR", "AND")]
        since = int(query.get("since_id") or 0)
        found = sorted(((p, u) for p, u in self.public if int(p["id"]) > since
                        and all(w in p["text"].lower() for w in words)), key=lambda pu: -int(pu[0]["id"]))
        size = max(10, min(100, int(query.get("max_results") or 10)))
        start = int(query.get("next_token") or query.get("pagination_token") or 0)
        page = found[start:start + size]
        if not page:
            return {"meta": {"result_count": 0}}
        answer = documented("search_recent")
        answer["data"] = [p for p, _u in page]
        answer["includes"]["users"] = list({u["id"]: u for _p, u in page}.values())
        answer["meta"] = {"newest_id": page[0][0]["id"], "oldest_id": page[-1][0]["id"], "result_count": len(page)}
        if start + size < len(found):
            answer["meta"]["next_token"] = str(start + size)
        return answer

    def _upload(self, content_type: str, body: bytes, limits: dict) -> tuple[int, dict, dict]:
        """One-shot media upload: images (JPEG, PNG, WebP up to 5 MB, GIF 15 MB) for posts and DMs."""
        fields, files = multipart.parse(content_type, body)
        upload = files.get("media")
        category = fields.get("media_category", "")
        mime = upload[2] if upload else ""
        limit = 15 * 1024 * 1024 if mime == "image/gif" else 5 * 1024 * 1024
        if upload is None or category not in ("tweet_image", "dm_image", "tweet_gif", "dm_gif") or \
                mime not in ("image/jpeg", "image/png", "image/webp", "image/gif") or len(upload[1]) > limit:
            return 400, {"title": "Invalid Request", "detail": "media: an image of at most 5 MB with media_category",
                         "status": 400}, limits
        answer = documented("media_upload")
        media_id = str(next(self.ids))
        answer["data"].update(id=media_id, media_key=f"3_{media_id}", size=len(upload[1]))
        answer["data"]["image"]["image_type"] = mime
        self.media[media_id] = {"category": category, "mime": mime, "size": len(upload[1]), "alt": "",
                                "content": upload[1]}
        return 200, answer, limits

    def add_file(self, name: str, content: bytes, mime: str = "image/jpeg", *, direct: bool = False) -> str:
        """A media file to serve; returns its URL (a direct message's needs the account's token)."""
        self.files[name] = (content, mime)
        return f"{self.url}/{'dm_media' if direct else 'media'}/{name}"

    def sign(self, body: bytes) -> str:
        mac = hmac.new(self.consumer_secret.encode(), body, hashlib.sha256).digest()
        return "sha256=" + base64.b64encode(mac).decode()

    def handle(self, method: str, path: str, headers, body: bytes, query: dict | None = None
               ) -> tuple[int, dict | bytes, dict]:
        if path.startswith(("/media/", "/dm_media/")):
            self.downloads.append(path.split("/", 2)[2])
            if path.startswith("/dm_media/") and headers.get("Authorization") != f"Bearer {self.token}":
                return 401, documented("unauthorized"), {}
            found = self.files.get(path.split("/", 2)[2])
            return (200, found[0], {"Content-Type": found[1]}) if found else (404, b"gone", {"Content-Type": "text/plain"})
        if headers.get("Authorization") != f"Bearer {self.token}" or self.revoked:
            return 401, documented("unauthorized"), {}
        if self.remaining <= 0:
            return 429, documented("too_many"), {"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(self.reset)}
        self.remaining -= 1
        limits = {"x-rate-limit-limit": "100", "x-rate-limit-remaining": str(self.remaining),
                  "x-rate-limit-reset": str(self.reset)}
        if method == "POST" and path == "/2/media/upload":
            return self._upload(headers.get("Content-Type") or "", body, limits)
        request = json.loads(body or b"{}")
        if method == "POST" and path == "/2/media/metadata":
            found = self.media.get(str(request.get("id")))
            alt = ((request.get("metadata") or {}).get("alt_text") or {}).get("text")
            if found is None or not isinstance(alt, str) or len(alt) > 1000:
                return 400, {"title": "Invalid Request", "detail": "id and alt_text (1000) required", "status": 400}, limits
            found["alt"] = alt
            answer = documented("media_metadata")
            answer["data"].update(id=request["id"], associated_metadata={"alt_text": {"text": alt}})
            return 200, answer, limits
        if method == "GET" and path == "/2/users/me":
            return 200, documented("users_me"), limits
        if method == "GET" and path == "/2/tweets/search/recent":
            if not (query or {}).get("query") or len(query["query"]) > 512:
                return 400, {"title": "Invalid Request", "detail": "query: 1 to 512 characters", "status": 400}, limits
            return 200, self.search(query), limits
        if method == "POST" and path == "/2/tweets":
            text = request.get("text") or ""
            if len(URL.sub("x" * 23, text)) > 280:
                return 400, {"title": "Invalid Request", "detail": "text is too long", "status": 400}, limits
            media_ids = (request.get("media") or {}).get("media_ids") or []
            if len(media_ids) > 4 or any(str(m) not in self.media for m in media_ids):
                return 400, {"title": "Invalid Request", "detail": "media_ids: at most 4 uploaded media",
                             "status": 400}, limits
            answer = documented("post_tweet")
            answer["data"].update(id=str(next(self.ids)), text=text, edit_history_tweet_ids=[])
            self.tweets.append({**request, "_id": answer["data"]["id"]})
            parent = self.known.get(str((request.get("reply") or {}).get("in_reply_to_tweet_id") or ""))
            self.known[answer["data"]["id"]] = {
                "id": answer["data"]["id"], "text": text, "author_id": "2244994945", "username": "XDevelopers",
                "name": "Developers", "in_reply_to": parent["id"] if parent else "",
                "conversation_id": parent["conversation_id"] if parent else answer["data"]["id"]}
            return 201, answer, limits
        lookup = re.fullmatch(r"/2/tweets/(\d+)", path)
        if method == "GET" and lookup and self.lookup_status:
            self.lookups.append(lookup.group(1))
            if self.lookup_status == 429:
                return 429, documented("too_many"), {**limits, "x-rate-limit-remaining": "0"}
            return self.lookup_status, {"title": "Service Unavailable", "status": self.lookup_status}, limits
        if method == "GET" and lookup:
            return 200, self.lookup(lookup.group(1)), limits
        match = re.fullmatch(r"/2/dm_conversations/with/(\d+)/messages", path)
        if method == "POST" and match:
            attachments = request.get("attachments") or []
            if len(attachments) > 1 or any(str(a.get("media_id")) not in self.media for a in attachments):
                return 400, {"title": "Invalid Request", "detail": "attachments: one uploaded media_id",
                             "status": 400}, limits
            self.dms.append((match.group(1), request))
            answer = documented("post_dm")
            answer["data"]["dm_event_id"] = str(next(self.ids))
            return 201, answer, limits
        return 404, {"title": "Not Found", "status": 404}, limits


def _handler(server: XServer):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def _answer(self, method: str) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            status, answer, headers = server.handle(method, parts.path, self.headers, body, query)
            data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", headers.pop("Content-Type", "application/json"))
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802
            self._answer("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._answer("POST")

    return Handler
