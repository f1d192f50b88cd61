"""A local Telegram Bot API server for tests, answering in the documented shapes.

api.telegram.org cannot be reached from here. Every body is built from the documented example in
payloads/<name>.json (each names its documentation page); tests replace only values the example has.

Serves ``/bot<token>/<method>`` for getMe, getUpdates (a queue of Updates, honouring ``offset``; 409 while a
webhook is set, as Telegram does), setWebhook / deleteWebhook (https only, secret_token kept), getFile and
``/file/bot<token>/<path>``, and sendMessage (length-checked). Test controls: `queue()` updates for polling,
`update()` builds a documented Update, `revoke()` the token, `fail(method, status, times)`.
"""

from __future__ import annotations

import copy
import itertools
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from tests.support import multipart

PAYLOADS = Path(__file__).parent / "payloads"


def documented(name: str) -> dict:
    return copy.deepcopy(json.loads((PAYLOADS / f"{name}.json").read_text())["example"])


class TelegramServer:
    def __init__(self, token: str = "7000000001:AAtest-token") -> None:
        self.token = token
        self.lock = threading.RLock()
        self.update_ids = itertools.count(500000100)
        self.message_ids = itertools.count(1000)
        self.pending: list[dict] = []
        self.files: dict[str, tuple[str, bytes]] = {}  # file_id -> (file_path, content)
        self.downloads: list[str] = []  # every file fetched, by file_path
        self.sent: list[dict] = []
        self.webhook: dict = {}
        self.faults: dict[str, list] = {}
        self.calls: list[tuple[str, dict]] = []
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> TelegramServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # --- test controls -------------------------------------------------------------------------------------
    def revoke(self) -> None:
        self.token = "revoked:" + self.token

    def fail(self, method: str, name: str = "error_too_many", times: int = 1) -> None:
        self.faults[method] = [name, times]

    def add_file(self, file_id: str, path: str, content: bytes) -> None:
        self.files[file_id] = (path, content)

    def update(self, name: str = "update_text", *, text: str | None = None, message_id: int | None = None,
               from_id: int | None = None) -> dict:
        """A documented Update with a fresh update_id; `text` replaces the text (or caption)."""
        update = documented(name)
        update["update_id"] = next(self.update_ids)
        message = update["message"]
        if text is not None:
            message["caption" if "caption" in message else "text"] = text
        if message_id is not None:
            message["message_id"] = message_id
        if from_id is not None:
            message["from"]["id"] = from_id
            if message["chat"]["type"] == "private":
                message["chat"]["id"] = from_id
        return update

    def queue(self, *updates: dict) -> None:
        with self.lock:
            self.pending.extend(updates)

    # --- the API -------------------------------------------------------------------------------------------
    def handle(self, path: str, params: dict, files: dict | None = None) -> tuple[int, dict | bytes]:
        if path.startswith("/file/bot"):
            token, _, file_path = path[len("/file/bot"):].partition("/")
            self.downloads.append(file_path)
            if token != self.token:
                return 401, documented("error_unauthorized")
            for stored_path, content in self.files.values():
                if stored_path == file_path:
                    return 200, content
            return 404, documented("error_unauthorized") | {"error_code": 404, "description": "Not Found"}
        token, _, method = path[len("/bot"):].partition("/")
        self.calls.append((method, params))
        if not path.startswith("/bot") or token != self.token:
            return 401, documented("error_unauthorized")
        fault = self.faults.get(method)
        if fault and fault[1] > 0:
            fault[1] -= 1
            body = documented(fault[0])
            return body["error_code"], body
        if method == "getMe":
            return 200, documented("get_me")
        if method == "getUpdates":
            if self.webhook:
                return 409, {"ok": False, "error_code": 409,
                             "description": "Conflict: can't use getUpdates method while webhook is active; "
                                            "use deleteWebhook to delete the webhook first"}
            offset = int(params.get("offset") or 0)
            with self.lock:
                self.pending = [u for u in self.pending if u["update_id"] >= offset]  # confirmed ones are gone
                answer = documented("get_updates")
                answer["result"] = copy.deepcopy(self.pending[: int(params.get("limit") or 100)])
            return 200, answer
        if method == "setWebhook":
            if not str(params.get("url", "")).startswith("https://"):
                body = documented("error_bad_request")
                return 400, body
            self.webhook = {"url": params["url"], "secret_token": params.get("secret_token")}
            return 200, documented("ok_true")
        if method == "deleteWebhook":
            self.webhook = {}
            return 200, documented("ok_true") | {"description": "Webhook was deleted"}
        if method == "getFile":
            found = self.files.get(str(params.get("file_id")))
            if not found:
                return 400, documented("error_bad_request") | {"description": "Bad Request: invalid file_id"}
            answer = documented("get_file")
            answer["result"].update(file_id=params["file_id"], file_path=found[0], file_size=len(found[1]))
            return 200, answer
        if method == "sendMessage":
            text = params.get("text")
            if not isinstance(text, str) or not text.strip() or len(text) > 4096 or "chat_id" not in params:
                return 400, documented("error_bad_request") | {"description": "Bad Request: message text is empty"}
            answer = documented("send_message")
            answer["result"].update(message_id=next(self.message_ids), text=text)
            answer["result"]["chat"]["id"] = params["chat_id"]
            self.sent.append(params)
            return 200, answer
        if method in ("sendPhoto", "sendDocument"):
            return self._send_file(method, params, files or {})
        return 404, {"ok": False, "error_code": 404, "description": "Not Found: method not found"}

    def _send_file(self, method: str, params: dict, files: dict) -> tuple[int, dict]:
        """sendPhoto (10 MB) and sendDocument (50 MB) with the file uploaded as multipart/form-data."""
        field, limit = ("photo", 10 * 1024 * 1024) if method == "sendPhoto" else ("document", 50 * 1024 * 1024)
        upload = files.get(field)
        problem = ""
        if "chat_id" not in params or upload is None:
            problem = f"Bad Request: there is no {field} in the request"
        elif len(upload[1]) > limit:
            problem = "Request Entity Too Large"
        elif len(params.get("caption") or "") > 1024:
            problem = "Bad Request: message caption is too long"
        if problem:
            return 400, documented("error_bad_request") | {"description": problem}
        answer = documented("send_photo" if field == "photo" else "send_document")
        answer["result"].update(message_id=next(self.message_ids), caption=params.get("caption") or "")
        answer["result"]["chat"]["id"] = int(params["chat_id"])
        if field == "document":
            answer["result"]["document"].update(file_name=upload[0], mime_type=upload[2], file_size=len(upload[1]))
        self.sent.append({**params, "_method": method, "_file": upload})
        return 200, answer


def _handler(server: TelegramServer):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def _answer(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            files: dict = {}
            if (self.headers.get("Content-Type") or "").startswith("multipart/form-data"):
                params, files = multipart.parse(self.headers["Content-Type"], raw)
            else:
                try:
                    params = json.loads(raw) if raw else {}
                except ValueError:
                    params = {}
            status, answer = server.handle(urlsplit(self.path).path, params if isinstance(params, dict) else {},
                                           files)
            data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/octet-stream" if isinstance(answer, bytes)
                             else "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _answer  # noqa: N815

    return Handler
