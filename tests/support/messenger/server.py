"""A local Graph API server for Messenger and Instagram messaging tests, answering in the documented shapes.

Every body is built from the documented example in payloads/<name>.json (each names its documentation page);
`notification()` fills the example's placeholders (<PAGE_ID>, <PSID>, …) and chosen values. Serves the page
(connection check), ``POST /<PAGE_ID or IG_ID>/messages`` (the Send API: recipient, messaging_type, HUMAN_AGENT
tag checked) and attachment files under /cdn/. `revoke()` makes the token expire (error 190).
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

PAYLOADS = Path(__file__).parent / "payloads"
PAGE_ID, IG_ID = "204685166189", "17841400000000001"


def documented(name: str) -> dict:
    return copy.deepcopy(json.loads((PAYLOADS / f"{name}.json").read_text())["example"])


class MessengerServer:
    def __init__(self, token: str = "EAAPage-test", app_secret: str = "meta-app-secret") -> None:
        self.token, self.app_secret, self.revoked = token, app_secret, False
        self.ids = itertools.count(1)
        self.sent: list[dict] = []
        self.files: dict[str, tuple[bytes, str]] = {}
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

    def sign(self, body: bytes) -> str:
        return "sha256=" + hmac.new(self.app_secret.encode(), body, hashlib.sha256).hexdigest()

    def handle(self, method: str, path: str, headers, body: bytes) -> tuple[int, dict | bytes, str]:
        if path.startswith("/cdn/"):
            found = self.files.get(path[len("/cdn/"):])
            return (200, found[0], found[1]) if found else (404, b"gone", "text/plain")
        if headers.get("Authorization") != f"Bearer {self.token}" or self.revoked:
            return 401, documented("error"), "application/json"
        parts = [p for p in path.split("/") if p][1:]
        if method == "GET" and parts == [PAGE_ID]:
            return 200, documented("page") | {"id": PAGE_ID, "name": "Fahrradladen Köln"}, "application/json"
        if method == "POST" and len(parts) == 2 and parts[0] in (PAGE_ID, IG_ID) and parts[1] == "messages":
            request = json.loads(body or b"{}")
            kind = request.get("messaging_type")
            problem = ""
            if not (request.get("recipient") or {}).get("id") or not (request.get("message") or {}).get("text"):
                problem = "(#100) The parameter recipient is required"
            elif kind not in ("RESPONSE", "UPDATE", "MESSAGE_TAG") or (kind == "MESSAGE_TAG" and not request.get("tag")):
                problem = "(#100) messaging_type is invalid"
            if problem:
                error = documented("error")
                error["error"].update(code=100, error_subcode=None, message=problem)
                return 400, error, "application/json"
            answer = documented("send_response")
            answer.update(recipient_id=request["recipient"]["id"], message_id=f"m_TEST{next(self.ids):06d}")
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
            status, answer, content_type = server.handle(method, urlsplit(self.path).path, self.headers, body)
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
