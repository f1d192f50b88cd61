"""The live chat channel: a widget on the company's website (served and answered by ``resonanz.chat``).

The driver declares what the channel is and owns its settings: the greeting, colour and position of the
widget, the origins allowed to embed it, business hours (outside them the widget offers "leave a message",
which becomes a conversation answered by email) and the optional pre-chat form. It also checks the host
site's HMAC signature of a logged-in user's id, with the channel's secret, so nobody can impersonate a
customer. Replies need no push: the widget collects them, so ``send`` marks them sent with an external id
that read receipts (``DeliveryUpdate``) refer to.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings as django_settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from resonanz.connectors.drivers import get_driver, register
from resonanz.connectors.drivers.base import Driver, DriverError, SendResult
from resonanz.connectors.drivers.web_form import WebFormDriver
from resonanz.connectors.models import Channel

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
ORIGIN = re.compile(r"https?://[a-z0-9.-]+(:[0-9]{1,5})?")
HHMM = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
PRECHAT_FIELDS = ("name", "email", "topic")
#: what a visitor may upload: images shown in the chat, PDFs and plain text as downloads (no HTML, no SVG: they
#: can carry script); each checked by its first bytes too, so a renamed file does not pass
UPLOAD_TYPES = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff", "image/gif": b"GIF8",
                "image/webp": b"RIFF", "application/pdf": b"%PDF-", "text/plain": b""}
MAX_UPLOAD_MB = 25
INVITATION_KEYS = {"message", "url", "after_seconds", "min_pages", "returning"}
DEFAULTS: dict = {
    "greeting": {"en": "Hello! How can we help you?", "de": "Hallo! Wie können wir helfen?"},
    "colour": "#1f5fbf",
    "position": "right",
    "allowed_origins": [],
    "hours": {},
    "timezone": "",
    "prechat": [],
    "languages": ["de", "en"],
    "invitations": [],
    "invitation_period_hours": 24,
    "max_upload_mb": 5,
    "typing_preview": False,
    "satisfaction": True,
}


@register("chat")
class ChatDriver(Driver):
    label = _("Live chat (website widget)")
    identity_kind = "chat"
    sends_images = True  # agents' images are shown in the widget, with their alt text
    recognises_handles = True  # a signed user id that is an email address meets the customer's contact
    generates_secret = True  # the identity secret the host site signs user ids with
    settings_help = _(
        'Settings JSON, all optional: {"greeting": {"en": "…", "de": "…"}, "colour": "#1f5fbf", '
        '"position": "right" or "left", "allowed_origins": ["https://www.example.com"], '
        '"hours": {"mon": ["09:00", "17:00"], …}, "timezone": "Europe/Berlin", '
        '"prechat": ["name", "email", "topic"], "reply_channel": "<email channel for left messages>", '
        '"invitations": [{"message": {"en": "…", "de": "…"}, "url": "*/pricing*", "after_seconds": 30, '
        '"min_pages": 2, "returning": false}], "invitation_period_hours": 24, "max_upload_mb": 5, '
        '"typing_preview": false, "satisfaction": true}. '
        "Without hours the chat is always open; without allowed origins no other site may embed it.")

    # --- settings ---------------------------------------------------------------------------------

    def clean_settings(self, raw: dict) -> dict:
        """Validate what the administrator typed; raises DriverError with the field to fix."""
        return clean_chat_settings(raw)

    @property
    def options(self) -> dict:
        return {**DEFAULTS, **(self.channel.settings or {})}

    def greeting(self, language: str) -> str:
        greeting = self.options["greeting"]
        if isinstance(greeting, str):
            return greeting
        return greeting.get(language) or greeting.get("en") or next(iter(greeting.values()), "")

    def invitations(self, language: str) -> list[dict]:
        """The proactive invitations in the visitor's language, as the widget evaluates them."""
        out = []
        for rule in self.options["invitations"] or []:
            message = rule.get("message") or ""
            if isinstance(message, dict):
                message = message.get(language) or message.get("en") or next(iter(message.values()), "")
            if message:
                out.append({"message": message, "url": rule.get("url") or "*",
                            "after_seconds": int(rule.get("after_seconds") or 0),
                            "min_pages": int(rule.get("min_pages") or 0), "returning": bool(rule.get("returning"))})
        return out

    @property
    def max_upload_bytes(self) -> int:
        return int(self.options["max_upload_mb"] or 5) * 1024 * 1024

    def origin_allowed(self, origin: str) -> bool:
        origin = (origin or "").rstrip("/").lower()
        allowed = [o.rstrip("/").lower() for o in self.options["allowed_origins"]]
        return bool(origin) and ("*" in allowed or origin in allowed)

    def is_open(self, now: datetime | None = None) -> bool:
        """Within business hours? No hours configured means always open."""
        hours = self.options["hours"]
        if not hours:
            return True
        zone = self.options["timezone"] or django_settings.TIME_ZONE
        local = (now or timezone.now()).astimezone(ZoneInfo(zone))
        span = hours.get(DAYS[local.weekday()])
        if not span:
            return False
        start, end = (time.fromisoformat(v) for v in span)
        return start <= local.time().replace(second=0, microsecond=0) < end

    def verify_user(self, user_id: str, signature: str) -> bool:
        """The host site's HMAC-SHA256 (hex) of the user id with this channel's secret."""
        secret = self.channel.credentials.get("secret", "")
        if not (secret and user_id and signature):
            return False
        expected = hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, signature.strip().lower())

    # --- what the administrator sees -----------------------------------------------------------

    def embed_code(self) -> str:
        base = django_settings.RESONANZ_BASE_URL.rstrip("/")
        return (f'<script src="{base}{django_settings.STATIC_URL}resonanz/chat/widget.js" '
                f'data-resonanz-chat="{self.channel.slug}" async></script>')

    def addresses(self) -> list[tuple[str, str]]:
        """Where the chat lives: its endpoints (the embed code has a section of its own on the channel page)."""
        return [(str(_("Widget endpoints")), f"/chat/{self.channel.slug}/")]

    # --- sending --------------------------------------------------------------------------------

    def reply_channel(self) -> Channel | None:
        """Where left messages are answered: the same rule as the web form's (settings["reply_channel"])."""
        return WebFormDriver.reply_channel(self)

    def send(self, message) -> SendResult:
        """Chat replies are collected by the widget; a message left outside business hours is answered by email."""
        first = message.conversation.messages.filter(direction="inbound").order_by("id").first()
        if first is not None and (first.meta or {}).get("chat", {}).get("left_message"):
            outlet = self.reply_channel()
            if outlet is None:
                return SendResult("stored", detail="stored until an email channel can deliver replies")
            result = get_driver(outlet).send(message)
            result.detail = f"by email through {outlet.name}" + (f": {result.detail}" if result.detail else "")
            return result
        return SendResult("sent", external_id=f"chat-out-{message.pk}", detail="shown in the visitor's chat")

    def check_connection(self) -> tuple[bool, str]:
        origins = ", ".join(self.options["allowed_origins"]) or "no site yet (add allowed_origins)"
        secret = "set" if self.channel.credentials.get("secret") else "not set (no identified visitors)"
        return True, f"widget for {origins}; identity secret {secret}"


def clean_chat_settings(raw: dict) -> dict:
    out = dict(raw)
    greeting = raw.get("greeting", DEFAULTS["greeting"])
    if isinstance(greeting, str):
        greeting = {"en": greeting, "de": greeting}
    if not isinstance(greeting, dict) or not all(isinstance(v, str) and len(v) <= 500 for v in greeting.values()):
        raise DriverError("greeting: a text or {\"en\": \"…\", \"de\": \"…\"}, at most 500 characters each")
    out["greeting"] = {k: v.strip() for k, v in greeting.items() if k in ("en", "de")}
    colour = raw.get("colour", DEFAULTS["colour"])
    if not isinstance(colour, str) or not COLOUR.fullmatch(colour):
        raise DriverError("colour: a hex colour like #1f5fbf")
    position = raw.get("position", "right")
    if position not in ("left", "right"):
        raise DriverError('position: "left" or "right"')
    origins = raw.get("allowed_origins", [])
    if not isinstance(origins, list) or not all(isinstance(o, str) and (o == "*" or ORIGIN.fullmatch(
            o.rstrip("/").lower())) for o in origins):
        raise DriverError("allowed_origins: a list of origins like https://www.example.com (scheme, host, port)")
    out["allowed_origins"] = [o.rstrip("/").lower() for o in origins]
    hours = raw.get("hours", {})
    if not isinstance(hours, dict) or set(hours) - set(DAYS):
        raise DriverError(f"hours: days among {', '.join(DAYS)}")
    for day, span in hours.items():
        if span and not (isinstance(span, list) and len(span) == 2 and all(
                isinstance(v, str) and HHMM.fullmatch(v) for v in span) and span[0] < span[1]):
            raise DriverError(f'hours.{day}: ["09:00", "17:00"] (start before end) or null for closed')
    zone = raw.get("timezone", "")
    if zone:
        try:
            ZoneInfo(str(zone))
        except (ZoneInfoNotFoundError, ValueError):
            raise DriverError(f"timezone: unknown time zone {zone!r}") from None
    prechat = raw.get("prechat", [])
    if not isinstance(prechat, list) or set(prechat) - set(PRECHAT_FIELDS):
        raise DriverError(f"prechat: a list among {', '.join(PRECHAT_FIELDS)}")
    out["invitations"] = [clean_invitation(i, rule) for i, rule in enumerate(raw.get("invitations") or [])] \
        if isinstance(raw.get("invitations") or [], list) else _refuse("invitations: a list of rules")
    for key, low, high in (("invitation_period_hours", 1, 24 * 365), ("max_upload_mb", 1, MAX_UPLOAD_MB)):
        value = raw.get(key, DEFAULTS[key])
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise DriverError(f"{key}: a whole number from {low} to {high}")
    for key in ("typing_preview", "satisfaction"):
        if not isinstance(raw.get(key, DEFAULTS[key]), bool):
            raise DriverError(f"{key}: true or false")
    return out


def _refuse(text: str):
    raise DriverError(text)


def clean_invitation(index: int, rule) -> dict:
    """One invitation rule: a message (text or per language), and when it shows: a page URL pattern with * as
    wildcard, seconds on the page, pages seen, returning visitors only."""
    where = f"invitations[{index}]"
    if not isinstance(rule, dict) or set(rule) - INVITATION_KEYS:
        raise DriverError(f"{where}: an object with {', '.join(sorted(INVITATION_KEYS))}")
    message = rule.get("message")
    if isinstance(message, str):
        message = {"en": message, "de": message}
    if not isinstance(message, dict) or not any(isinstance(v, str) and v.strip() for v in message.values()) or \
            not all(isinstance(v, str) and len(v) <= 300 for v in message.values()):
        raise DriverError(f"{where}.message: a text of at most 300 characters, or {{\"en\": \"…\", \"de\": \"…\"}}")
    url = rule.get("url") or "*"
    if not isinstance(url, str) or len(url) > 300:
        raise DriverError(f"{where}.url: a page address pattern like */pricing* (at most 300 characters)")
    out = {"message": {k: v.strip() for k, v in message.items() if k in ("en", "de") and v.strip()}, "url": url,
           "returning": bool(rule.get("returning"))}
    for key, high in (("after_seconds", 3600), ("min_pages", 100)):
        value = rule.get(key, 0) or 0
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= high:
            raise DriverError(f"{where}.{key}: a whole number from 0 to {high}")
        out[key] = value
    return out
