"""What WhatsApp Cloud API, Messenger and Instagram share: Meta's webhook handshake and signature, and the
Graph API's error shape.

Webhooks (https://developers.facebook.com/docs/graph-api/webhooks/getting-started):
- the verification request is ``GET ?hub.mode=subscribe&hub.verify_token=<ours>&hub.challenge=<n>``, answered
  with the challenge as the plain body;
- every notification is a POST whose raw body is signed ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app
  secret, raw body)>``.

Graph API errors (https://developers.facebook.com/docs/graph-api/guides/error-handling) come as
``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}``; code 190 is an expired or revoked
token, codes 4, 17, 32, 613, 80007 and 130429 are rate limits, 5xx and code 2 are passing.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from resonanz.core import outbound

from .errors import AuthenticationFailed, InvalidResponse, NotFound, RateLimited, Rejected, Unavailable
from .http import json_body

GRAPH_API = "https://graph.facebook.com/v21.0"
TOKEN_CODES = {190, 102, 463, 467}
RATE_CODES = {4, 17, 32, 613, 80007, 130429, 131056}
PASSING_CODES = {1, 2, 131000, 131016}


def signature(app_secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(app_secret: str, body: bytes, header: str | None) -> tuple[bool, str]:
    """(ok, reason) for ``X-Hub-Signature-256``; never raises on hostile header values."""
    if not app_secret:
        return False, "the channel has no app secret"
    if not header:
        return False, "missing X-Hub-Signature-256 header"
    expected = signature(app_secret, body)
    if not hmac.compare_digest(expected.encode(), header.strip().encode("utf-8", "replace")):
        return False, "wrong signature"
    return True, ""


def verify_handshake(params, verify_token: str) -> str | None:
    """The challenge to echo when the subscription request carries our verify token, else None."""
    if not verify_token or params.get("hub.mode") != "subscribe":
        return None
    given = params.get("hub.verify_token") or ""
    if not hmac.compare_digest(given.encode("utf-8", "replace"), verify_token.encode()):
        return None
    challenge = params.get("hub.challenge") or ""
    return challenge[:200] if challenge.isascii() and challenge.isalnum() else None


def timestamp(value: Any) -> datetime | None:
    """Meta's unix-seconds timestamps (sent as strings) as aware datetimes."""
    try:
        return datetime.fromtimestamp(int(str(value)), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


class GraphClient:
    """Bearer-token calls to the Graph API through the outbound guard, errors typed for the driver."""

    def __init__(self, base_url: str, token: str, *, timeout: float = 15.0) -> None:
        outbound.check_url(base_url)
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.http = outbound.session()

    def call(self, method: str, path: str, *, params: dict | None = None, json: Any = None,
             data: dict | None = None, files: dict | None = None) -> dict:
        """One call; ``data`` and ``files`` send a multipart form (media uploads)."""
        url = path if path.startswith(("http://", "https://")) else f"{self.base_url}/{path.lstrip('/')}"
        extra = {"data": data, "files": files} if files is not None else {}
        response = self._send(method, url, params=params, json=json, **extra)
        body = json_body(response, write=method != "GET")
        if response.status_code >= 400 or (isinstance(body, dict) and "error" in body):
            raise graph_error(response, body)
        if not isinstance(body, dict):
            raise InvalidResponse(f"{url} answered with {type(body).__name__}, expected an object")
        return body

    def download(self, url: str, limit: int) -> tuple[bytes, str]:
        """A media file (bytes, content type); the token goes along as Meta's media URLs require."""
        response = self._send("GET", url, stream=True)
        if response.status_code >= 400:
            response.close()
            raise NotFound(f"the media URL answered {response.status_code}", status=response.status_code)
        content_type = response.headers.get("Content-Type", "application/octet-stream").split(";")[0].strip()
        try:
            return outbound.read_limited(response, limit), content_type
        except outbound.ResponseTooLarge as exc:
            raise Rejected(str(exc)) from exc
        except outbound.OutboundError as exc:
            raise Unavailable(str(exc)) from exc

    def _send(self, method: str, url: str, **kwargs) -> requests.Response:
        try:
            return self.http.request(method, url, timeout=self.timeout,
                                     headers={"Authorization": f"Bearer {self.token}"}, **kwargs)
        except outbound.RefusedURL:
            raise
        except outbound.OutboundError as exc:
            raise Unavailable(str(exc), may_have_posted=method != "GET") from exc


def graph_error(response: requests.Response, body: Any) -> Exception:
    error = body.get("error") if isinstance(body, dict) and isinstance(body.get("error"), dict) else {}
    code = error.get("code")
    message = str(error.get("message") or f"HTTP {response.status_code}")[:500]
    text = f"{message} (code {code})" if code is not None else message
    status = response.status_code
    if code in TOKEN_CODES or status == 401:
        return AuthenticationFailed(text, status=status, body=response.text)
    if code in RATE_CODES or status == 429:
        return RateLimited(text, reset_at=datetime.now(UTC) + timedelta(minutes=1), status=status, body=response.text)
    if status >= 500 or code in PASSING_CODES:
        return Unavailable(text, status=status, body=response.text)
    if status == 404 or code == 100 and error.get("error_subcode") == 33:
        return NotFound(text, status=status, body=response.text)
    return Rejected(text, status=status, body=response.text)
