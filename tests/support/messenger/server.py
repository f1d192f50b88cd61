"""A local Graph API server for Messenger and Instagram messaging tests, answering in the documented shapes.

Every body is built from the documented example in payloads/<name>.json (each names its documentation page);
`notification()` fills the example's placeholders (<PAGE_ID>, <PSID>, …) and chosen values. Serves the page
(connection check), ``POST /<PAGE_ID or IG_ID>/messages`` (the Send API: recipient, messaging_type, HUMAN_AGENT
tag checked; ``recipient.comment_id`` for a private reply to a comment, once per comment), attachment files under
/cdn/, and the comment endpoints: ``POST /<COMMENT_ID>/comments`` (Facebook) and ``POST /<IG_COMMENT_ID>/replies``
(Instagram) answering ``{"id"}``, ``POST /<COMMENT_ID>?is_hidden=true`` / ``?hide=true`` and ``DELETE
/<COMMENT_ID>`` answering ``{"success": true}``, ``GET /<POST_ID>`` and ``GET /<MEDIA_ID>`` for the context.
`comment()` builds the feed/comments notifications and registers the comment. `revoke()` makes the token expire
(error 190).
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tests.support import multipart

PAYLOADS = Path(__file__).parent / "payloads"
PAGE_ID, IG_ID = "204685166189", "17841400000000001"
POST_ID, MEDIA_ID = "1029384756", "17895695668004550"


def documented(name: str) -> dict:
    return copy.deepcopy(json.loads((PAYLOADS / f"{name}.json").read_text())["example"])


class MessengerServer:
    def __init__(self, token: str = "EAAPage-test", app_secret: str = "meta-app-secret") -> None:
        self.token, self.app_secret, self.revoked = token, app_secret, False
        self.ids = itertools.count(1)
        self.sent: list[dict] = []
        self.files: dict[str, tuple[bytes, str]] = {}
        self.downloads: list[str] = []  # every file fetched from the CDN, by name
        #: comment id -> {"platform", "hidden", "deleted", "replies": [texts], "private_replied"}
        self.comments: dict[str, dict] = {}
        self.uploads: list[dict] = []
        #: the page's posts that ``GET /<PAGE_ID>_<POST_ID>`` answers for: post id -> its message
        self.posts: dict[str, str] = {POST_ID: "Unser neues Trekkingrad ist da!"}
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.api = f"{self.url}/v21.0"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> MessengerServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def revoke(self) -> None:
        self.revoked = True

    def add_file(self, name: str, content: bytes, mime: str) -> str:
        self.files[name] = (content, mime)
        return f"{self.url}/cdn/{name}"

    def notification(self, name: str, *, sender: str = "1254477777772919", mid: str = "", text: str = "",
                     image_url: str = "", mids: list[str] | None = None, timestamp: int | None = None) -> dict:
        raw = json.dumps(documented(name))
        for placeholder, value in (("<PAGE_ID>", PAGE_ID), ("<PSID>", sender), ("<INSTAGRAM_SCOPED_USER_ID>", sender),
                                   ("<YOUR_APP_USERS_INSTAGRAM_ACCOUNT_ID>", IG_ID), ("<IMAGE_URL>", image_url)):
            raw = raw.replace(placeholder, value)
        body = json.loads(raw)
        event = body["entry"][0]["messaging"][0]
        if "message" in event:
            if mid:
                event["message"]["mid"] = mid
            if text and "text" in event["message"]:
                event["message"]["text"] = text
        if mids is not None:
            event["delivery"]["mids"] = mids
        if timestamp is not None and "timestamp" in event:
            event["timestamp"] = timestamp
        return body

    def add_post(self, post_id: str, message: str) -> str:
        """Another post of the page (its comments name it); returns the post id as comments carry it."""
        self.posts[post_id] = message
        return f"{PAGE_ID}_{post_id}"

    def comment(self, platform: str = "page", *, comment_id: str = "", sender: str = "1181818181818181",
                name: str = "Kim Kundin", text: str = "", parent_id: str = "", verb: str = "add",
                post_id: str = POST_ID) -> dict:
        """A feed (Page) or comments (Instagram) notification about a comment under ``post_id`` (a Page post),
        from the documented example."""
        comment_id = comment_id or (f"{post_id}_{next(self.ids):06d}" if platform == "page" else
                                    f"1790000{next(self.ids):010d}")
        if platform == "page":
            raw = json.dumps(documented("page_feed_comment"))
            post = f"{PAGE_ID}_{post_id}"
            for placeholder, value in (("<PAGE_ID>_<POST_ID>", post), ("<PAGE_ID>", PAGE_ID), ("<POST_ID>", post_id),
                                       ("<USER_ID>", sender), ("<COMMENT_ID>", comment_id),
                                       ("<PARENT_ID>", parent_id or post)):
                raw = raw.replace(placeholder, value)
            body = json.loads(raw)
            value = body["entry"][0]["changes"][0]["value"]
            value["from"]["name"] = name
            value["verb"] = verb
            value["created_time"] = int(time.time())  # the documented example is from 2018
            if text:
                value["message"] = text
        else:
            raw = json.dumps(documented("instagram_comment"))
            for placeholder, value in (("<IG_ID>", IG_ID), ("<IGSID>", sender), ("<USERNAME>", name),
                                       ("<MEDIA_ID>", MEDIA_ID), ("<COMMENT_ID>", comment_id),
                                       ("<PARENT_ID>", parent_id or MEDIA_ID)):
                raw = raw.replace(placeholder, value)
            body = json.loads(raw)
            if text:
                body["entry"][0]["changes"][0]["value"]["text"] = text
            if not parent_id:
                del body["entry"][0]["changes"][0]["value"]["parent_id"]
        self.comments.setdefault(comment_id, {"platform": platform, "hidden": False, "deleted": False,
                                              "replies": [], "private_replied": False})
        return body

    def _comment_call(self, method: str, parts: list[str], query: dict, request: dict) -> tuple[int, dict] | None:
        """The comment endpoints, or None when ``parts`` names no known comment."""
        found = self.comments.get(parts[0]) if parts else None
        if found is None:
            return None
        if found["deleted"]:
            error = documented("error")
            error["error"].update(code=100, error_subcode=33, message="Object does not exist")
            return 400, error
        if method == "DELETE" and len(parts) == 1:
            found["deleted"] = True
            return 200, documented("success")
        if method == "POST" and len(parts) == 1:
            flag = query.get("is_hidden") if found["platform"] == "page" else query.get("hide")
            if flag not in ("true", "false"):
                error = documented("error")
                error["error"].update(code=100, error_subcode=None, message="(#100) Invalid parameter")
                return 400, error
            found["hidden"] = flag == "true"
            return 200, documented("success")
        edge = "comments" if found["platform"] == "page" else "replies"
        if method == "POST" and parts[1:] == [edge] and str(request.get("message") or "").strip():
            reply_id = f"{parts[0]}_r{next(self.ids):04d}"
            found["replies"].append(request["message"])
            self.comments[reply_id] = {"platform": found["platform"], "hidden": False, "deleted": False,
                                       "replies": [], "private_replied": False, "ours": True}
            return 200, documented("comment_created") | {"id": reply_id}
        error = documented("error")
        error["error"].update(code=100, error_subcode=None, message="(#100) Invalid parameter")
        return 400, error

    @staticmethod
    def _attachment_ok(attachment: dict, request: dict) -> bool:
        """An attachment upload: a documented type, the file as ``filedata``, at most 25 MB."""
        upload = (request.get("_files") or {}).get("filedata")
        kind = attachment.get("type") if isinstance(attachment, dict) else None
        return kind in ("image", "file", "audio", "video") and upload is not None and len(upload[1]) <= 25 * 1024 * 1024

    def sign(self, body: bytes) -> str:
        return "sha256=" + hmac.new(self.app_secret.encode(), body, hashlib.sha256).hexdigest()

    def handle(self, method: str, path: str, headers, body: bytes, query: dict | None = None
               ) -> tuple[int, dict | bytes, str]:
        if path.startswith("/cdn/"):
            self.downloads.append(path[len("/cdn/"):])
            found = self.files.get(path[len("/cdn/"):])
            return (200, found[0], found[1]) if found else (404, b"gone", "text/plain")
        if headers.get("Authorization") != f"Bearer {self.token}" or self.revoked:
            return 401, documented("error"), "application/json"
        parts = [p for p in path.split("/") if p][1:]
        query = query or {}
        if method == "GET" and parts == [PAGE_ID]:
            return 200, documented("page") | {"id": PAGE_ID, "name": "Fahrradladen Köln"}, "application/json"
        post_id = parts[0].removeprefix(f"{PAGE_ID}_") if len(parts) == 1 else ""
        if method == "GET" and post_id in self.posts and parts[0] == f"{PAGE_ID}_{post_id}":
            answer = json.loads(json.dumps(documented("post")).replace("<PAGE_ID>", PAGE_ID)
                                .replace("<POST_ID>", post_id))
            return 200, answer | {"message": self.posts[post_id]}, "application/json"
        if method == "GET" and parts == [MEDIA_ID]:
            return 200, json.loads(json.dumps(documented("media")).replace("<MEDIA_ID>", MEDIA_ID)
                                   .replace("<SHORTCODE>", "C0ffee")), "application/json"
        request = _decode(body, headers)
        answer = self._comment_call(method, parts, query, request)
        if answer is not None:
            return answer[0], answer[1], "application/json"
        if method == "POST" and len(parts) == 2 and parts[0] in (PAGE_ID, IG_ID) and parts[1] == "messages":
            kind = request.get("messaging_type")
            recipient = request.get("recipient") or {}
            message = request.get("message") or {}
            problem = ""
            if not (recipient.get("id") or recipient.get("comment_id")) or not (
                    message.get("text") or message.get("attachment")):
                problem = "(#100) The parameter recipient is required"
            elif message.get("attachment") and not self._attachment_ok(message["attachment"], request):
                problem = "(#100) Upload attachment failure: filedata of the declared type is required (25 MB)"
            elif recipient.get("comment_id"):
                comment = self.comments.get(str(recipient["comment_id"]))
                if comment is None or comment["private_replied"]:
                    problem = "(#10900) Activity already replied to" if comment else "(#100) No matching comment"
                else:
                    comment["private_replied"] = True
            elif kind not in ("RESPONSE", "UPDATE", "MESSAGE_TAG") or (kind == "MESSAGE_TAG" and not request.get("tag")):
                problem = "(#100) messaging_type is invalid"
            if problem:
                error = documented("error")
                error["error"].update(code=100, error_subcode=None, message=problem)
                return 400, error, "application/json"
            answer = documented("send_response")
            answer.update(recipient_id=str(recipient.get("id") or "1254477777772919"),
                          message_id=f"m_TEST{next(self.ids):06d}")
            self.sent.append({**request, "_account": parts[0]})
            return 200, answer, "application/json"
        error = documented("error")
        error["error"].update(code=100, error_subcode=33, message="Unsupported request.")
        return 400, error, "application/json"


def _handler(server: MessengerServer):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def _answer(self, method: str) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            status, answer, content_type = server.handle(method, parts.path, self.headers, body, query)
            data = json.dumps(answer).encode() if isinstance(answer, dict) else answer
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802
            self._answer("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._answer("POST")

        def do_DELETE(self) -> None:  # noqa: N802
            self._answer("DELETE")

    return Handler


def _decode(body: bytes, headers) -> dict:
    """A Graph API request body: JSON, form fields or a multipart upload (the Graph API takes all three); the
    JSON-valued fields of a form (recipient, message) decoded, an uploaded file under ``_files``."""
    if not body:
        return {}
    content_type = headers.get("Content-Type") or ""
    if content_type.startswith("multipart/form-data"):
        fields, files = multipart.parse(content_type, body)
        decoded: dict = {"_files": files}
        for key, value in fields.items():
            try:
                decoded[key] = json.loads(value) if value[:1] in "{[" else value
            except ValueError:
                decoded[key] = value
        return decoded
    if "json" in content_type:
        try:
            decoded = json.loads(body)
        except ValueError:
            return {}
        return decoded if isinstance(decoded, dict) else {}
    return {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
