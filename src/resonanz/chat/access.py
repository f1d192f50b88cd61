"""Who may talk to the widget's endpoints: allowed origins (CORS checked on the server), visitor tokens, limits.

Every endpoint is public, so every request is checked here before a view reads it: the channel must be an
enabled chat channel, the page's origin must be one the administrator allowed (or Resonanz itself), the body
must be small JSON, and a visitor's token is signed by the server, so a visitor cannot read another's chat by
changing an id. Errors are JSON with a 4xx status, never a 500.

Against bots (besides the limits), as on the contact form: a token carries when its session began and when it
was issued. A line or file sooner than RESONANZ_CHAT_MIN_SECONDS after the session began is refused with 429
and ``Retry-After`` (the widget keeps the text and sends it again then); a token not renewed for
RESONANZ_CHAT_TOKEN_DAYS is refused with 401 (the widget starts a new session and sends again). Tokens are
renewed on the way: ``messages/`` answers carry a new token once the visitor's is a day old, so a visitor who
keeps chatting never meets the limit. "Leave a message" has no session; it needs the signed ``form_token``
of ``config/``, with the same minimum time. While the pipeline is far behind, every endpoint that stores a line
answers 503 with ``Retry-After`` (core/backpressure.py, the ``public`` tier).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from resonanz.connectors.models import Channel
from resonanz.core import backpressure, ratelimit

TOKEN_SALT = "resonanz.chat.visitor"
FORM_SALT = "resonanz.chat.leave-message"
FORM_MAX_AGE = 24 * 3600
#: a token older than this is renewed in the next ``messages/`` answer
RENEW_AFTER = 24 * 3600
TOKEN_HEADER = "X-Resonanz-Chat"
MAX_BODY = 16 * 1024
# Limits (settings.RESONANZ_RATE_LIMITS "chat_visitor", "chat_ip", "chat_reads", "chat_uploads", "chat_typing"):
# lines and sessions per visitor and per address; read receipts, files and typing apart, so reading or typing
# never costs a visitor a line.


class Refused(Exception):
    def __init__(self, status: int, error: str, *, retry_after: int = 0, code: str = "") -> None:
        super().__init__(error)
        self.status, self.error, self.retry_after, self.code = status, error, retry_after, code


def _now() -> float:
    return time.time()


def min_seconds() -> float:
    return float(getattr(settings, "RESONANZ_CHAT_MIN_SECONDS", 2))


def token_max_age() -> float:
    return float(getattr(settings, "RESONANZ_CHAT_TOKEN_DAYS", 30)) * 86400


@dataclass
class Visitor:
    """What a signed token says: the channel, the visitor's id, and who the host site vouched for."""

    channel_id: int
    visitor_id: str
    user_id: str = ""
    name: str = ""
    email: str = ""
    topic: str = ""
    #: when the session began and when this token was issued (Unix seconds; tokens made before both were
    #: recorded read as a session begun long ago, issued at 0, and are renewed at the next answer)
    began: int = 0
    issued: int = 0

    def token(self) -> str:
        """A new signed token for this visitor, issued now (the session keeps its beginning)."""
        self.issued = int(_now())
        self.began = self.began or self.issued
        return signing.dumps({"c": self.channel_id, "v": self.visitor_id, "u": self.user_id, "n": self.name,
                              "e": self.email, "t": self.topic, "b": self.began, "i": self.issued},
                             salt=TOKEN_SALT, compress=True)

    @classmethod
    def from_token(cls, token: str, channel: Channel) -> Visitor:
        try:
            data = signing.loads(token or "", salt=TOKEN_SALT)
        except signing.BadSignature:
            raise Refused(401, "invalid visitor token", code="token") from None
        if not isinstance(data, dict) or data.get("c") != channel.pk:
            raise Refused(401, "this token belongs to another chat", code="token")
        visitor = cls(channel.pk, str(data["v"]), data.get("u", ""), data.get("n", ""), data.get("e", ""),
                      data.get("t", ""), int(data.get("b") or 1), int(data.get("i") or 0))
        if visitor.issued and _now() - visitor.issued > token_max_age():
            raise Refused(401, "this chat session has expired; start a new one", code="token")
        return visitor

    def needs_renewal(self) -> bool:
        return _now() - self.issued > RENEW_AFTER

    def check_pace(self) -> None:
        """Refuse a line sooner after the session began than a person writes one (429 until then)."""
        wait = self.began + min_seconds() - _now()
        if wait > 0:
            raise Refused(429, "that was very fast; the message is sent again in a moment",
                          retry_after=max(1, math.ceil(wait)), code="too_fast")


def form_token(channel: Channel) -> str:
    """What "leave a message" must send back: signed with the time ``config/`` was served."""
    return signing.TimestampSigner(salt=FORM_SALT).sign(str(channel.pk))


def check_form_token(value, channel: Channel) -> None:
    """Forged, a day old, for another chat, or sent sooner than a person writes a message: refused."""
    signer = signing.TimestampSigner(salt=FORM_SALT)
    if not isinstance(value, str) or not value:
        raise Refused(400, "form_token: reload the page and send again", code="form_token")
    try:
        if signer.unsign(value, max_age=FORM_MAX_AGE) != str(channel.pk):
            raise signing.BadSignature
    except signing.SignatureExpired:
        raise Refused(400, "form_token: the form is a day old; reload the page and send again",
                      code="form_token") from None
    except signing.BadSignature:
        raise Refused(400, "form_token: reload the page and send again", code="form_token") from None
    wait = signing.b62_decode(value.rsplit(":", 2)[1]) + min_seconds() - _now()
    if wait > 0:
        raise Refused(429, "that was very fast; the message is sent again in a moment",
                      retry_after=max(1, math.ceil(wait)), code="too_fast")


def admit() -> None:
    """503 while the pipeline is far behind (core/backpressure.py); the widget sends again after Retry-After."""
    try:
        backpressure.admit("public")
    except backpressure.Overloaded as exc:
        raise Refused(503, "very many messages right now; the message is sent again in a moment",
                      retry_after=exc.retry_after, code="busy") from None


def request_origin(request: HttpRequest) -> str:
    """The page's origin: the Origin header, else the Referer's origin (same-origin GETs send no Origin)."""
    origin = request.headers.get("Origin", "")
    if not origin or origin == "null":
        referer = urlsplit(request.headers.get("Referer", ""))
        origin = f"{referer.scheme}://{referer.netloc}" if referer.scheme and referer.netloc else ""
    return origin.rstrip("/").lower()


def own_origin(request: HttpRequest) -> str:
    return f"{request.scheme}://{request.get_host()}".lower()


def with_cors(response: HttpResponse, origin: str) -> HttpResponse:
    response["Access-Control-Allow-Origin"] = origin
    response["Vary"] = "Origin"
    response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    response["Access-Control-Allow-Headers"] = f"Content-Type, {TOKEN_HEADER}"
    response["Access-Control-Expose-Headers"] = "Retry-After"
    response["Access-Control-Max-Age"] = "600"
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def rate_limit(scope: str, key: str) -> None:
    """Counted in the database (core/ratelimit.py), so every web process shares the count."""
    try:
        ratelimit.hit(f"chat_{scope}", key)
    except ratelimit.RateLimited as exc:
        raise Refused(429, "too many files; wait a few minutes" if scope == "uploads" else
                      "too many messages; wait a minute", retry_after=exc.retry_after, code="rate_limited") from None


def client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def json_body(request: HttpRequest) -> dict:
    if len(request.body) > MAX_BODY:
        raise Refused(413, f"request too large (at most {MAX_BODY} bytes)")
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise Refused(400, "the body must be JSON") from None
    if not isinstance(data, dict):
        raise Refused(400, "the body must be a JSON object")
    return data


def endpoint(*methods: str, token: bool = True, write: bool | str = False, max_body: int = MAX_BODY,
             any_origin: bool = False):
    """A widget endpoint: finds the chat channel, checks the origin, answers preflights, adds CORS headers,
    checks the visitor's token and the rate limits, and turns a refusal into a JSON 4xx."""

    def wrap(view):
        @csrf_exempt
        @wraps(view)
        def inner(request: HttpRequest, slug: str, **kwargs) -> HttpResponse:
            channel = Channel.objects.filter(slug=slug, kind="chat").first()
            if channel is None or not channel.enabled:
                return JsonResponse({"error": "no such chat"}, status=404)
            origin = request_origin(request)
            if not (any_origin or origin == own_origin(request) or channel.driver.origin_allowed(origin)):
                return JsonResponse({"error": "this site may not embed the chat"}, status=403)
            if request.method == "OPTIONS":
                return with_cors(HttpResponse(status=204), origin)
            if request.method not in methods:
                return with_cors(JsonResponse({"error": "method not allowed"}, status=405), origin)
            try:
                if int(request.META.get("CONTENT_LENGTH") or 0) > max_body:
                    raise Refused(413, f"request too large (at most {max_body // 1024} KB)")
                if max_body == MAX_BODY and len(request.body) > MAX_BODY:
                    raise Refused(413, f"request too large (at most {MAX_BODY} bytes)")
                visitor = Visitor.from_token(request.headers.get(TOKEN_HEADER, ""), channel) if token else None
                if write in ("reads", "typing") and visitor is not None:
                    rate_limit(write, f"{channel.pk}:{visitor.visitor_id}")
                elif write:
                    rate_limit("ip", f"{channel.pk}:{client_ip(request)}")
                    if visitor is not None:
                        rate_limit("visitor", f"{channel.pk}:{visitor.visitor_id}")
                response = view(request, channel, visitor, **kwargs) if token else view(request, channel, **kwargs)
            except Refused as exc:
                body = {"error": exc.error}
                if exc.code:
                    body["code"] = exc.code
                if exc.retry_after:
                    body["retry_after"] = exc.retry_after
                response = JsonResponse(body, status=exc.status)
                if exc.retry_after:
                    response["Retry-After"] = str(exc.retry_after)
            return with_cors(response, origin)

        return inner

    return wrap
