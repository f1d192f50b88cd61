"""A local chat service shaped like Bluesky's `chat.bsky.convo.*` lexicons, for tests.

Bluesky's own chat service is not open source. This one is reached the way the real one is: the client
calls its PDS with `atproto-proxy: <chat did>#bsky_chat`, and the PDS forwards the call with a service-auth
JWT (ES256K, signed with the user's atproto key). We verify that JWT against the user's DID document in the
PLC directory (audience, method, expiry, signature), so an unauthenticated or mis-routed call fails here as
it would at Bluesky. Responses follow the lexicons; tests check them with validate.js.
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import regex
import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
SECP256K1_MULTICODEC = b"\xe7\x01"
MAX_MESSAGE_GRAPHEMES = 1000


class XrpcError(Exception):
    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error, self.message = status, error, message


def _b58decode(text: str) -> bytes:
    number = 0
    for char in text:
        number = number * 58 + B58.index(char)
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return b"\x00" * (len(text) - len(text.lstrip("1"))) + raw


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ChatService:
    """State and logic; the HTTP layer below only routes."""

    def __init__(self, plc_url: str) -> None:
        self.plc_url = plc_url
        self.did = ""  # set once the PLC directory knows the service (server.js registers it)
        self.lock = threading.Lock()
        self.revs = itertools.count(1)
        self.convos: dict[str, dict] = {}
        self.logs: list[tuple[str, set[str], dict]] = []  # (rev, visible to, log entry)
        self.calls: list[tuple[str, str]] = []  # (method, caller did)
        self._keys: dict[str, ec.EllipticCurvePublicKey] = {}

    def _rev(self) -> str:
        return f"{next(self.revs):016d}"

    # --- authentication: the PDS's service-auth JWT --------------------------------------------------------
    def _public_key(self, did: str) -> ec.EllipticCurvePublicKey:
        if did not in self._keys:
            response = requests.get(f"{self.plc_url}/{did}/data", timeout=5)
            if response.status_code != 200:
                raise XrpcError(401, "AuthenticationRequired", f"unknown DID {did}")
            did_key = response.json()["verificationMethods"]["atproto"]
            raw = _b58decode(did_key.removeprefix("did:key:z"))
            if not raw.startswith(SECP256K1_MULTICODEC):
                raise XrpcError(401, "AuthenticationRequired", "only secp256k1 keys are supported")
            self._keys[did] = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256K1(), raw[2:])
        return self._keys[did]

    def authenticate(self, authorization: str | None, method: str) -> str:
        if not authorization or not authorization.startswith("Bearer "):
            raise XrpcError(401, "AuthenticationRequired", "Authentication Required")
        token = authorization.removeprefix("Bearer ")
        try:
            header_b64, payload_b64, sig_b64 = token.split(".")
            header, payload = json.loads(_b64url(header_b64)), json.loads(_b64url(payload_b64))
            signature = _b64url(sig_b64)
        except ValueError as exc:
            raise XrpcError(401, "BadJwt", "malformed token") from exc
        if header.get("alg") != "ES256K":
            raise XrpcError(401, "BadJwt", "unsupported algorithm")
        if payload.get("aud") != self.did:
            raise XrpcError(401, "BadJwtAudience", "jwt audience does not match service did")
        if payload.get("lxm") not in (None, method):
            raise XrpcError(401, "BadJwtLexiconMethod", "bad jwt lexicon method")
        if payload.get("exp", 0) < time.time():
            raise XrpcError(401, "JwtExpired", "jwt expired")
        der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
        try:
            self._public_key(payload["iss"]).verify(der, f"{header_b64}.{payload_b64}".encode(),
                                                    ec.ECDSA(hashes.SHA256()))
        except InvalidSignature as exc:
            raise XrpcError(401, "BadJwtSignature", "jwt signature does not match jwt issuer") from exc
        self.calls.append((method, payload["iss"]))
        return payload["iss"]

    # --- views ---------------------------------------------------------------------------------------------
    def _profile(self, did: str) -> dict:
        response = requests.get(f"{self.plc_url}/{did}/data", timeout=5)
        if response.status_code != 200:
            raise XrpcError(400, "RecipientNotFound", f"no such account: {did}")
        aliases = response.json().get("alsoKnownAs", [])
        handle = aliases[0].removeprefix("at://") if aliases else "handle.invalid"
        return {"did": did, "handle": handle}

    def _convo_view(self, convo: dict, viewer: str) -> dict:
        view = {"id": convo["id"], "rev": convo["rev"], "members": convo["members"], "muted": False,
                "status": "accepted", "unreadCount": sum(1 for m in convo["messages"]
                                                        if m["sender"]["did"] != viewer
                                                        and m["rev"] > convo["read"].get(viewer, ""))}
        if convo["messages"]:
            view["lastMessage"] = {"$type": "chat.bsky.convo.defs#messageView", **convo["messages"][-1]}
        return view

    def _convo_for(self, convo_id: str, viewer: str) -> dict:
        convo = self.convos.get(convo_id)
        if convo is None or viewer not in convo["member_dids"]:
            raise XrpcError(400, "InvalidConvo", "Convo not found")
        return convo

    # --- methods -------------------------------------------------------------------------------------------
    def get_convo_for_members(self, viewer: str, members: list[str]) -> dict:
        dids = sorted(set(members) | {viewer})
        if len(dids) != 2:
            raise XrpcError(400, "InvalidRequest", "a direct conversation has exactly two members")
        with self.lock:
            for convo in self.convos.values():
                if convo["member_dids"] == dids:
                    return {"convo": self._convo_view(convo, viewer)}
            rev = self._rev()
            convo = {"id": f"convo{rev}", "rev": rev, "member_dids": dids,
                     "members": [self._profile(did) for did in dids], "messages": [], "read": {}}
            self.convos[convo["id"]] = convo
            self.logs.append((rev, set(dids), {"$type": "chat.bsky.convo.defs#logBeginConvo", "rev": rev,
                                               "convoId": convo["id"]}))
            return {"convo": self._convo_view(convo, viewer)}

    def list_convos(self, viewer: str, limit: int, cursor: str | None) -> dict:
        with self.lock:
            mine = sorted((c for c in self.convos.values() if viewer in c["member_dids"]),
                          key=lambda c: c["rev"], reverse=True)
            if cursor:
                mine = [c for c in mine if c["rev"] < cursor]
            page = mine[:limit]
            out = {"convos": [self._convo_view(c, viewer) for c in page]}
            if len(mine) > limit:
                out["cursor"] = page[-1]["rev"]
            return out

    def get_messages(self, viewer: str, convo_id: str, limit: int, cursor: str | None) -> dict:
        with self.lock:
            convo = self._convo_for(convo_id, viewer)
            messages = [m for m in reversed(convo["messages"]) if not cursor or m["rev"] < cursor]
            page = messages[:limit]
            out = {"messages": [{"$type": "chat.bsky.convo.defs#messageView", **m} for m in page]}
            if len(messages) > limit:
                out["cursor"] = page[-1]["rev"]
            return out

    def send_message(self, viewer: str, body: dict) -> dict:
        message = body.get("message")
        if not isinstance(body.get("convoId"), str) or not isinstance(message, dict) \
                or not isinstance(message.get("text"), str):
            raise XrpcError(400, "InvalidRequest", "Input must have the properties \"convoId\" and \"message\"")
        text = message["text"]
        if len(text.encode()) > 10000 or len(regex.findall(r"\X", text)) > MAX_MESSAGE_GRAPHEMES:
            raise XrpcError(400, "InvalidRequest", "Input/message/text must not be longer than 1000 graphemes")
        with self.lock:
            convo = self._convo_for(body["convoId"], viewer)
            rev = self._rev()
            view = {"id": f"msg{rev}", "rev": rev, "text": text, "sender": {"did": viewer}, "sentAt": _now()}
            if message.get("facets"):
                view["facets"] = message["facets"]
            convo["messages"].append(view)
            convo["rev"] = rev
            convo["read"][viewer] = rev
            self.logs.append((rev, set(convo["member_dids"]), {
                "$type": "chat.bsky.convo.defs#logCreateMessage", "rev": rev, "convoId": convo["id"],
                "message": {"$type": "chat.bsky.convo.defs#messageView", **view}}))
            return dict(view)

    def get_log(self, viewer: str, cursor: str | None) -> dict:
        with self.lock:
            logs = [entry for rev, dids, entry in self.logs if viewer in dids and (not cursor or rev > cursor)]
            out = {"logs": logs}
            if logs:
                out["cursor"] = logs[-1]["rev"]
            elif cursor:
                out["cursor"] = cursor
            return out


class ChatServer:
    """The HTTP face of ChatService on 127.0.0.1; `faults` makes the next calls fail (status, times)."""

    def __init__(self, plc_url: str) -> None:
        self.service = ChatService(plc_url)
        self.faults: dict[str, list] = {}
        service, faults = self.service, self.faults

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def _reply(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, body: dict | None) -> None:
                parts = urlsplit(self.path)
                method = parts.path.removeprefix("/xrpc/")
                params = parse_qs(parts.query)
                try:
                    fault = faults.get(method)
                    if fault and fault[1] > 0:
                        fault[1] -= 1
                        raise XrpcError(fault[0], "InternalServerError" if fault[0] >= 500 else "RateLimitExceeded",
                                        "injected by the test")
                    viewer = service.authenticate(self.headers.get("Authorization"), method)
                    limit = min(max(int(params.get("limit", ["50"])[0]), 1), 100)
                    cursor = params.get("cursor", [None])[0]
                    if method == "chat.bsky.convo.getConvoForMembers":
                        result = service.get_convo_for_members(viewer, params.get("members", []))
                    elif method == "chat.bsky.convo.listConvos":
                        result = service.list_convos(viewer, limit, cursor)
                    elif method == "chat.bsky.convo.getMessages":
                        result = service.get_messages(viewer, params.get("convoId", [""])[0], limit, cursor)
                    elif method == "chat.bsky.convo.getLog":
                        result = service.get_log(viewer, cursor)
                    elif method == "chat.bsky.convo.sendMessage" and body is not None:
                        result = service.send_message(viewer, body)
                    else:
                        raise XrpcError(501, "MethodNotImplemented", "Method Not Implemented")
                except XrpcError as exc:
                    self._reply(exc.status, {"error": exc.error, "message": exc.message})
                    return
                self._reply(200, result)

            def do_GET(self):
                self._handle(None)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    self._reply(400, {"error": "InvalidRequest", "message": "body is not JSON"})
                    return
                self._handle(body if isinstance(body, dict) else {})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> ChatServer:
        self.thread.start()
        return self

    def fail_next(self, method: str, status: int, times: int = 1) -> None:
        self.faults[method] = [status, times]

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
