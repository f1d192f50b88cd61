"""The signed-webhook channel: any system POSTs JSON to /hooks/<slug>/, signed with the channel's secret.

Signature: ``X-Resonanz-Timestamp: <unix seconds>`` and
``X-Resonanz-Signature: sha256=<hex HMAC-SHA256(secret, f"{timestamp}.{raw body}")>``.
Requests more than five minutes off the server's clock are refused, so a captured request cannot
be replayed later. ``settings["mapping"]`` maps message fields to dotted paths in the JSON.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from datetime import UTC, datetime

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext_lazy as _

from resonanz.connectors import intake
from resonanz.connectors.actions import record_health, record_rejected, update_channel
from resonanz.connectors.drivers import register
from resonanz.connectors.drivers.base import Driver, DriverError, InboundMessage, SendResult
from resonanz.core import jsonsafe
from resonanz.core.errors import ActionError
from resonanz.core.params import as_int

log = logging.getLogger("resonanz.connectors.webhook")

MAX_SKEW = 300
DEFAULT_MAPPING = {
    "external_id": "id", "sender": "sender", "sender_name": "sender_name", "text": "text", "html": "html",
    "subject": "subject", "in_reply_to": "in_reply_to", "sent_at": "sent_at",
}
FIELDS = set(DEFAULT_MAPPING)
_MISSING = object()


class MappingError(ValueError):
    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(secret: str, body: bytes, timestamp: str | None, signature: str | None,
                     now: float | None = None, max_skew: int = MAX_SKEW) -> tuple[bool, str]:
    """(ok, reason). Never raises on hostile header values."""
    if not secret:
        return False, "the channel has no secret yet"
    if not timestamp or not signature:
        return False, "missing X-Resonanz-Timestamp or X-Resonanz-Signature header"
    timestamp = timestamp.strip()
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        return False, "X-Resonanz-Timestamp must be unix seconds"
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > max_skew:
        return False, "stale timestamp (more than 5 minutes off)"
    expected = sign(secret, timestamp, body)
    if not hmac.compare_digest(expected.encode(), signature.strip().encode("utf-8", "replace")):
        return False, "wrong signature"
    return True, ""


def resolve(data, path: str, default=_MISSING):
    """The value at a dotted path ("data.user.email", "items.0.text") or ``default``."""
    current = data
    for part in str(path).split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and as_int(part, minimum=-len(current), maximum=len(current) - 1) is not None:
            current = current[int(part)]
        else:
            return default
    return current


def _scalar(value, field: str) -> str:
    if value is None or value is _MISSING:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    raise MappingError(f"{field} must be text or a number, not {type(value).__name__}", field)


def _datetime(value) -> datetime | None:
    if value in (None, "", _MISSING):
        return None
    if isinstance(value, bool):
        raise MappingError("sent_at must be an ISO 8601 date or unix seconds", "sent_at")
    try:
        if isinstance(value, int | float) or (isinstance(value, str) and as_int(value) is not None):
            return datetime.fromtimestamp(float(value), tz=UTC)
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        pass
    raise MappingError("sent_at must be an ISO 8601 date or unix seconds", "sent_at")


def mapping_of(settings: dict) -> dict[str, str]:
    custom = (settings or {}).get("mapping") or {}
    if not isinstance(custom, dict):
        raise DriverError('settings["mapping"] must be an object like {"text": "data.body"}.')
    unknown = set(custom) - FIELDS
    if unknown:
        raise DriverError(f"Unknown mapping fields: {', '.join(sorted(unknown))}; use {', '.join(sorted(FIELDS))}.")
    return {**DEFAULT_MAPPING, **{k: str(v) for k, v in custom.items()}}


def map_payload(payload, mapping: dict[str, str], raw_body: bytes = b"") -> InboundMessage:
    """Turn any JSON value into an inbound message; MappingError says which field is wrong."""
    get = {name: resolve(payload, path) for name, path in mapping.items()}
    external_id = _scalar(get["external_id"], "external_id").strip()
    if not external_id:
        # No id in the payload: the same body delivered twice is still one message.
        external_id = "sha256:" + hashlib.sha256(raw_body or repr(payload).encode()).hexdigest()
    sender = _scalar(get["sender"], "sender").strip()
    if not sender:
        raise MappingError(f"no sender at {mapping['sender']!r}", "sender")
    text, html = _scalar(get["text"], "text"), _scalar(get["html"], "html")
    if not text.strip() and not html.strip():
        raise MappingError(f"no text at {mapping['text']!r}", "text")
    return InboundMessage(
        external_id=external_id[:300], sender_handle=sender[:320], sender_name=_scalar(get["sender_name"], "sender_name")[:200],
        text=text, html=html, subject=_scalar(get["subject"], "subject")[:300],
        in_reply_to=_scalar(get["in_reply_to"], "in_reply_to")[:300], sent_at=_datetime(get["sent_at"]),
    )


@register("webhook")
class WebhookDriver(Driver):
    label = _("Signed webhook")
    identity_kind = "api"
    recognises_handles = True
    accepts_push = True
    generates_secret = True
    settings_help = (
        'Settings JSON: {"mapping": {"external_id": "data.id", "sender": "data.user.email", '
        '"sender_name": "data.user.name", "text": "data.body", "subject": "data.title"}}. '
        "Fields: " + ", ".join(sorted(FIELDS)) + ". The secret is generated on first check and kept in the "
        "credentials as \"secret\". POST JSON to /hooks/<address name>/ with headers X-Resonanz-Timestamp "
        "(unix seconds) and X-Resonanz-Signature: sha256=<hex HMAC-SHA256(secret, \"<timestamp>.<raw body>\")>."
    )

    def secret(self) -> str:
        """The channel's secret, generated and stored (encrypted) on first use."""
        secret = self.channel.credentials.get("secret") or ""
        if not secret:
            secret = secrets.token_urlsafe(32)
            update_channel(self.channel, credentials={"secret": secret})
        return secret

    def handle_request(self, request: HttpRequest) -> HttpResponse:
        """POST /hooks/<slug>/: a signed JSON body becomes one inbound message (201 new, 200 known)."""
        if request.method != "POST":
            return JsonResponse({"error": "POST a signed JSON body"}, status=405, headers={"Allow": "POST"})
        body = request.body
        ok, reason = verify_signature(self.secret(), body, request.headers.get("X-Resonanz-Timestamp"),
                                      request.headers.get("X-Resonanz-Signature"))
        if not ok:
            remote = request.META.get("REMOTE_ADDR", "")
            record_rejected(self.channel, remote, reason)
            return JsonResponse({"error": "unauthorized", "detail": reason}, status=401)
        try:
            payload = jsonsafe.loads(body)
        except jsonsafe.UnsafeJSON as exc:
            return JsonResponse({"error": exc.message}, status=400)
        try:
            inbound = map_payload(payload, mapping_of(self.channel.settings), body)
        except MappingError as exc:
            return JsonResponse({"error": str(exc), "field": exc.field}, status=400)
        except Exception as exc:  # a broken mapping in the settings is the administrator's to fix
            record_health(self.channel, False, f"webhook mapping: {exc}")
            return JsonResponse({"error": str(exc)}, status=400)
        result = intake.submit(self.channel, [inbound])[0]
        if isinstance(result, ActionError):
            return JsonResponse({"error": str(result), "field": getattr(result, "field", "")}, status=400)
        record_health(self.channel, True)
        return JsonResponse({"message_id": result.message.pk, "conversation_id": result.conversation.pk,
                             "contact_id": result.contact_id, "created": result.created},
                            status=201 if result.created else 200)

    def send(self, message) -> SendResult:
        return SendResult(status="stored", detail="ready for collection through the API")

    def check_connection(self) -> tuple[bool, str]:
        mapping = mapping_of(self.channel.settings)
        self.secret()
        return True, (f"accepts signed JSON at /hooks/{self.channel.slug}/; "
                      f"text from {mapping['text']!r}, sender from {mapping['sender']!r}")
