"""A local WhatsApp Cloud API (Graph API) server for tests, answering in the documented shapes.

Meta's API cannot be reached from here. Every body this server returns or signs is built from the documented
example in payloads/<name>.json (each names its documentation page): `documented()` copies the example and
tests replace only values the example has (ids, texts, timestamps).

It serves what the driver calls: the phone number (connection check), ``POST /<phone>/messages`` (text and
template sends, validated like the platform: messaging_product, recipient, type), media URLs that expire,
the media files themselves (bearer token required), media uploads (``POST /<phone>/media``, multipart, with the
documented types and sizes) and image/document messages naming an uploaded id, and the account's message
templates. Test controls:
`revoke()` the token, `fail(path, status, times)` for 429/5xx, `expire_media_urls()`. It also builds signed
webhook notifications (`notification()`, `sign()`) and can POST them to a running Resonanz (`deliver()`).
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests

from tests.support import multipart

PAYLOADS = Path(__file__).parent / "payloads"
PHONE_NUMBER_ID = "106540352242922"
WABA_ID = "102290129340398"


def documented(name: str) -> dict:
    return copy.deepcopy(json.loads((PAYLOADS / f"{name}.json").read_text())["example"])


@dataclass
class Fault:
    path: str
    status: int
    times: int


class WhatsAppServer:
    def __init__(self, token: str = "EAAG-test-token", app_secret: str = "app-secret-for-tests") -> None:
        self.token = token
        self.app_secret = app_secret
        self.revoked = False
        self.lock = threading.RLock()
        self.ids = itertools.count(1)
        self.sent: list[dict] = []
        self.media: dict[str, tuple[bytes, str]] = {}
        self.expired_urls: set[str] = set()
        self.expire_next = 0
        self.faults: list[Fault] = []
        self.templates = documented("message_templates")["data"]
        self.requests: list[tuple[str, str]] = []
        self.uploads: list[dict] = []
        self.downloads: list[str] = []  # every media file fetched, by media id
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.api = f"{self.url}/v21.0"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    # --- lifecycle -----------------------------------------------------------------------------------------
    def start(self) -> WhatsAppServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # --- test controls -------------------------------------------------------------------------------------
    def revoke(self) -> None:
        self.revoked = True

    def fail(self, path: str, status: int, times: int = 1) -> None:
        self.faults.append(Fault(path, status, times))

    def add_media(self, media_id: str, content: bytes, mime_type: str) -> None:
        self.media[media_id] = (content, mime_type)

    def expire_media_urls(self, count: int = 1) -> None:
        """The next `count` media URLs handed out are already expired when fetched (404)."""
        self.expire_next = count

    def add_template(self, name: str, language: str, body: str, status: str = "APPROVED") -> None:
        template = copy.deepcopy(documented("message_templates")["data"][0])
        template.update(name=name, language=language, status=status, id=str(next(self.ids)))
        template["components"] = [{"type": "BODY", "text": body}]
        self.templates.append(template)

    # --- webhooks ------------------------------------------------------------------------------------------
    def notification(self, name: str, **replace) -> dict:
        """A documented webhook body, sent now; `replace` sets values of its first message/status (and
        `profile_name` of the sender)."""
        body = documented(name)
        value = body["entry"][0]["changes"][0]["value"]
        items = value.get("messages") or value.get("statuses")
        profile_name = replace.pop("profile_name", None)
        replace.setdefault("timestamp", str(int(time.time())))  # the documented one is from 2025
        for key, new in replace.items():
            if key not in items[0] and key not in ("text", "caption"):
                raise KeyError(f"{name} has no documented field {key!r}")
            if key == "text":
                items[0]["text"]["body"] = new
            elif key == "caption":
                items[0][items[0]["type"]]["caption"] = new
            else:
                items[0][key] = new
        if "from" in replace and value.get("contacts"):
            value["contacts"][0]["wa_id"] = replace["from"]
        if profile_name is not None and value.get("contacts"):
            value["contacts"][0]["profile"]["name"] = profile_name
        return body

    def sign(self, body: bytes, secret: str | None = None) -> str:
        return "sha256=" + hmac.new((secret or self.app_secret).encode(), body, hashlib.sha256).hexdigest()

    def deliver(self, url: str, payload: dict) -> requests.Response:
        body = json.dumps(payload).encode()
        return requests.post(url, data=body, timeout=30, headers={
            "Content-Type": "application/json", "X-Hub-Signature-256": self.sign(body)})

    # --- the API -------------------------------------------------------------------------------------------
    def handle(self, method: str, path: str, query: dict, headers, body: bytes) -> tuple[int, dict | bytes, str]:
        with self.lock:
            self.requests.append((method, path))
            for fault in self.faults:
                if fault.times > 0 and path.startswith(fault.path):
                    fault.times -= 1
                    error = documented("error")
                    error["error"].update(code=130429 if fault.status == 429 else 2,
                                          message="Rate limit hit" if fault.status == 429 else "Service unavailable")
                    return fault.status, error, "application/json"
        if headers.get("Authorization") != f"Bearer {self.token}" or self.revoked:
            return 401, documented("error"), "application/json"
        if path.startswith("/media/"):
            media_id = path.rsplit("/", 1)[-1]
            self.downloads.append(media_id)
            if path in self.expired_urls or media_id not in self.media:
                return 404, b"URL signature expired", "text/plain"
            content, mime = self.media[media_id]
            return 200, content, mime
        parts = [p for p in path.split("/") if p][1:]  # drop the version
        if method == "GET" and parts == [PHONE_NUMBER_ID]:
            return 200, documented("phone_number"), "application/json"
        if method == "POST" and parts == [PHONE_NUMBER_ID, "messages"]:
            return self._send(body)
        if method == "POST" and parts == [PHONE_NUMBER_ID, "media"]:
            return self._upload(headers.get("Content-Type") or "", body)
        if method == "GET" and parts == [WABA_ID, "message_templates"]:
            answer = documented("message_templates")
            answer["data"] = copy.deepcopy(self.templates)
            return 200, answer, "application/json"
        if method == "GET" and len(parts) == 1 and parts[0] in self.media:
            media_id = parts[0]
            content, mime = self.media[media_id]
            answer = documented("media_url")
            url_path = f"/media/{next(self.ids)}/{media_id}"
            if self.expire_next:
                self.expire_next -= 1
                self.expired_urls.add(url_path)
            answer.update(url=self.url + url_path, mime_type=mime, id=media_id, file_size=str(len(content)),
                          sha256=hashlib.sha256(content).hexdigest())
            return 200, answer, "application/json"
        error = documented("error")
        error["error"].update(code=100, error_subcode=33, message="Unsupported get request.")
        return 400, error, "application/json"

    def _upload(self, content_type: str, body: bytes) -> tuple[int, dict, str]:
        """The media upload: the documented types and sizes (images JPEG/PNG up to 5 MB, documents 100 MB)."""
        fields, files = multipart.parse(content_type, body)
        problem = ""
        if fields.get("messaging_product") != "whatsapp" or "file" not in files:
            problem = "The parameters messaging_product and file are required."
        else:
            _name, content, mime = files["file"]
            limit = 5 * 1024 * 1024 if mime.startswith("image/") else 100 * 1024 * 1024
            if mime.startswith("image/") and mime not in ("image/jpeg", "image/png"):
                problem = f"Param file must be a file with one of the following types: image/jpeg, image/png. " \
                          f"Received file of type '{mime}'."
            elif len(content) > limit:
                problem = "Media file size is too big."
        if problem:
            error = documented("error")
            error["error"].update(code=100, message=f"(#100) {problem}", type="OAuthException")
            return 400, error, "application/json"
        media_id = str(next(self.ids) * 7919)
        with self.lock:
            self.media[media_id] = (content, mime)
            self.uploads.append({"id": media_id, "filename": files["file"][0], "type": fields.get("type"),
                                 "mime": mime, "size": len(content)})
        answer = documented("media_upload")
        answer["id"] = media_id
        return 200, answer, "application/json"

    def _send(self, body: bytes) -> tuple[int, dict, str]:
        try:
            request = json.loads(body)
        except ValueError:
            request = None
        problem = _invalid_send(request, self.media)
        if problem:
            error = documented("error")
            error["error"].update(code=100, message=f"(#100) {problem}", type="OAuthException")
            return 400, error, "application/json"
        wamid = f"wamid.TEST{next(self.ids):08d}"
        with self.lock:
            self.sent.append({**request, "_id": wamid, "_at": time.time()})
        answer = documented("send_response")
        answer["contacts"][0].update(input=request["to"], wa_id=request["to"].lstrip("+"))
        answer["messages"][0]["id"] = wamid
        return 200, answer, "application/json"


def _invalid_send(request, media: dict) -> str:
    if not isinstance(request, dict) or request.get("messaging_product") != "whatsapp":
        return "The parameter messaging_product is required."
    if not str(request.get("to", "")).lstrip("+").isdigit():
        return "The parameter to is required."
    kind = request.get("type", "text")
    if kind == "text":
        text = (request.get("text") or {}).get("body")
        if not isinstance(text, str) or not text or len(text) > 4096:
            return "The parameter text['body'] is required and at most 4096 characters."
    elif kind == "template":
        template = request.get("template") or {}
        if not template.get("name") or not (template.get("language") or {}).get("code"):
            return "The parameter template['name'] and template['language']['code'] are required."
    elif kind in ("image", "document"):
        part = request.get(kind) or {}
        if str(part.get("id") or "") not in media and not part.get("link"):
            return f"The parameter {kind}['id'] must name an uploaded media file."
        if len(str(part.get("caption") or "")) > 1024:
            return "The caption is at most 1024 characters."
    else:
        return f"Unsupported message type {kind}."
    return ""


def _handler(server: WhatsAppServer):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def _answer(self, method: str) -> None:
            split = urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, answer, content_type = server.handle(method, split.path, parse_qs(split.query), self.headers, body)
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

    return Handler
