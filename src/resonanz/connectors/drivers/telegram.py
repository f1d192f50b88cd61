"""Telegram bot: customers write to the company's bot; agents answer as the bot.

Documentation followed (https://core.telegram.org/bots/api): every call is ``<api>/bot<token>/<method>`` answering
``{"ok": true, "result": …}`` or ``{"ok": false, "error_code", "description", "parameters": {"retry_after"}}``.
Updates arrive either pushed (``setWebhook`` with ``secret_token``; Telegram sends it back in
``X-Telegram-Bot-Api-Secret-Token``) or by long polling (``getUpdates`` with ``offset`` = last update_id + 1, kept
in the channel's SourceState so a restart continues where it stopped). Files: ``getFile`` gives ``file_path``,
fetched from ``<api>/file/bot<token>/<file_path>`` (bots may download up to 20 MB).

Private chats become conversations; in groups only messages that mention the bot, when the channel allows it.
``/start <reference>`` from a deep link ``https://t.me/<bot>?start=<reference>`` that Resonanz gave a known
contact ties the chat to that contact (an ``IdentityClaim``).
"""

from __future__ import annotations

import hmac
import json
import logging
from datetime import UTC, datetime, timedelta

from django.conf import settings as django_settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from resonanz.connectors import intake
from resonanz.connectors.actions import (
    record_health,
    record_ok,
    record_rejected,
    record_token_works,
    update_channel,
)
from resonanz.connectors.drivers import register
from resonanz.connectors.drivers.base import ChannelField, Driver, DriverError, InboundMessage, SendResult
from resonanz.connectors.intake import IdentityClaim
from resonanz.connectors.models import SourceState
from resonanz.connectors.social.errors import (
    AuthenticationFailed,
    InvalidResponse,
    RateLimited,
    Rejected,
    SocialError,
    Unavailable,
)
from resonanz.connectors.social.http import json_body
from resonanz.core import jsonsafe, outbound
from resonanz.core.errors import ActionError

CAPTION_LIMIT = 1024  # Bot API: photo and document captions
log = logging.getLogger("resonanz.connectors.telegram")
API = "https://api.telegram.org"
MAX_FILE_BYTES = 20 * 1024 * 1024
CURSOR_KEY = "getUpdates"


def start_reference(contact_id: int) -> str:
    """The deep-link payload that names a contact: "c<id>_<16 hex of an HMAC>" (Telegram allows 64 of [A-Za-z0-9_-])."""
    mac = salted_hmac("resonanz.telegram.start", str(contact_id), secret=django_settings.SECRET_KEY).hexdigest()
    return f"c{contact_id}_{mac[:16]}"


def contact_from_reference(reference: str) -> int | None:
    head, _sep, mac = (reference or "").partition("_")
    if not head.startswith("c") or not head[1:].isdigit() or len(head) > 12:
        return None
    contact_id = int(head[1:])
    return contact_id if hmac.compare_digest(start_reference(contact_id), reference) else None


class TelegramClient:
    """The Bot API through the outbound guard, its errors typed for the driver."""

    def __init__(self, base_url: str, token: str, timeout: float = 15.0) -> None:
        outbound.check_url(base_url)
        self.base_url, self.token, self.timeout = base_url.rstrip("/"), token, timeout
        self.http = outbound.session()

    def call(self, method: str, payload: dict | None = None, *, timeout: float | None = None):
        url = f"{self.base_url}/bot{self.token}/{method}"
        try:
            response = self.http.post(url, json=payload or {}, timeout=timeout or self.timeout)
        except outbound.RefusedURL:
            raise
        except outbound.OutboundError as exc:
            raise Unavailable(str(exc).replace(self.token, "<token>"), may_have_posted=True) from exc
        body = json_body(response, write=True)
        if isinstance(body, dict) and body.get("ok") is True:
            return body.get("result")
        raise api_error(response.status_code, body)

    def upload(self, method: str, fields: dict, files: dict):
        """A Bot API call with a file (sendPhoto, sendDocument): multipart/form-data, fields as strings."""
        url = f"{self.base_url}/bot{self.token}/{method}"
        data = {k: v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()}
        try:
            response = self.http.post(url, data=data, files=files, timeout=max(self.timeout, 60))
        except outbound.RefusedURL:
            raise
        except outbound.OutboundError as exc:
            raise Unavailable(str(exc).replace(self.token, "<token>"), may_have_posted=True) from exc
        body = json_body(response, write=True)
        if isinstance(body, dict) and body.get("ok") is True:
            return body.get("result")
        raise api_error(response.status_code, body)

    def download(self, file_path: str, limit: int) -> bytes:
        try:
            response = self.http.get(f"{self.base_url}/file/bot{self.token}/{file_path}", stream=True,
                                     timeout=self.timeout)
            if response.status_code >= 400:
                response.close()
                raise Rejected(f"the file answered {response.status_code}", status=response.status_code)
            return outbound.read_limited(response, limit)
        except outbound.ResponseTooLarge as exc:
            raise Rejected(str(exc)) from exc
        except outbound.OutboundError as exc:
            raise Unavailable(str(exc).replace(self.token, "<token>")) from exc


def api_error(status: int, body) -> SocialError:
    body = body if isinstance(body, dict) else {}
    code = body.get("error_code") or status
    text = f"{body.get('description') or 'error'} ({code})"
    if code == 401 or code == 404 and "Not Found" in text:
        return AuthenticationFailed(text, status=status)
    if code == 429:
        retry = (body.get("parameters") or {}).get("retry_after") or 30
        return RateLimited(text, reset_at=datetime.now(UTC) + timedelta(seconds=int(retry)), status=status)
    if status >= 500:
        return Unavailable(text, status=status)
    if status == 200:
        return InvalidResponse(f"unexpected answer: {text}")
    return Rejected(text, status=status)


@register("telegram")
class TelegramDriver(Driver):
    label = _("Telegram bot")
    identity_kind = "telegram"
    reply_limit = 4096
    accepts_push = True
    polls = True
    #: set when Telegram refused the bot token during this request (fetching a file)
    token_refused = False
    # the Bot API's upload limits: photos 10 MB (sendPhoto), other files 50 MB (sendDocument)
    reply_media = {"image": (10 * 1024 * 1024, ("image/jpeg", "image/png", "image/gif", "image/webp")),
                   "document": (50 * 1024 * 1024, ())}
    describes_images = False
    settings_help = _('Settings: {"mode": "webhook" or "polling", "groups": false, "agent_name": false}. With '
                      '"webhook", "Test connection" registers this channel\'s public address with Telegram.')
    fields = (
        ChannelField("bot_token", _("Bot token"), _("From @BotFather in Telegram: /newbot or /token."), secret=True),
        ChannelField("secret_token", _("Webhook secret"),
                     _("Any 1–256 letters, digits, _ or -; Telegram sends it with every update."), secret=True,
                     required=False),
        ChannelField("public_url", _("Public address of Resonanz"),
                     _("e.g. https://support.example.com; the webhook becomes <address>/hooks/<address name>/. "
                       "Leave empty to fetch updates by polling instead."), required=False),
        ChannelField("api_base", _("Bot API address"), _("Leave as it is unless you run your own Bot API server."),
                     required=False, initial=API),
    )

    # --- configuration ---------------------------------------------------------------------------

    def _setting(self, name: str, default=""):
        return (self.channel.settings or {}).get(name, default)

    @property
    def uses_webhook(self) -> bool:
        mode = self._setting("mode") or ("webhook" if self._setting("public_url") else "polling")
        return mode == "webhook"

    def client(self) -> TelegramClient:
        token = self.channel.credentials.get("bot_token") or ""
        if not token:
            raise DriverError("The channel has no bot token; add the one @BotFather gave you.")
        return TelegramClient(str(self._setting("api_base") or API), token)

    def sign(self, text: str, agent) -> str:
        """Replies come from the bot; with "agent_name" the agent's name leads the text."""
        name = getattr(agent, "display_name", "") if agent is not None else ""
        if self._setting("agent_name") and name and not text.startswith(f"{name}:"):
            return f"{name}:\n{text}"
        return text

    def invite_link(self, contact_id: int) -> str:
        username = self._setting("bot_username")
        return f"https://t.me/{username}?start={start_reference(contact_id)}" if username else ""

    # --- receiving -------------------------------------------------------------------------------

    def handle_request(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            return JsonResponse({"error": "POST an update"}, status=405, headers={"Allow": "POST"})
        secret = self.channel.credentials.get("secret_token") or ""
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token") or ""
        if not secret or not hmac.compare_digest(given.encode("utf-8", "replace"), secret.encode()):
            remote = request.META.get("REMOTE_ADDR", "")
            reason = "missing secret token" if not given else "wrong secret token"
            record_rejected(self.channel, remote, reason)
            return JsonResponse({"error": "unauthorized", "detail": reason}, status=401)
        try:
            update = jsonsafe.loads(request.body)
            if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
                raise ValueError("expected an Update with an integer update_id")
            items = self.items_of(update)
        except jsonsafe.UnsafeJSON as exc:
            return JsonResponse({"error": exc.message}, status=400)
        except ValueError as exc:
            return JsonResponse({"error": str(exc)}, status=400)
        results = intake.submit(self.channel, items)
        if not self.token_refused:  # a refused token found on the way stays on the channel's page
            record_ok(self.channel)
        return JsonResponse({"created": intake.created(results),
                             "refused": [str(r) for r in results if isinstance(r, ActionError)]})

    def poll(self) -> int:
        """Long polling: fetch what came after the stored offset, store it, then move the offset on."""
        if self.uses_webhook:
            return 0
        state, _created = SourceState.objects.get_or_create(channel=self.channel, key=CURSOR_KEY)
        offset = int((state.cursor or {}).get("offset") or 0)
        try:
            updates = self.client().call("getUpdates", {"offset": offset, "limit": 100, "timeout": 0,
                                                        "allowed_updates": ["message"]})
        except SocialError as exc:
            SourceState.objects.filter(pk=state.pk).update(last_error=str(exc)[:2000], last_error_at=_now(),
                                                           consecutive_errors=state.consecutive_errors + 1)
            raise
        updates = [u for u in updates or [] if isinstance(u, dict) and isinstance(u.get("update_id"), int)]
        items = []
        for update in updates:
            try:
                items.extend(self.items_of(update))
            except ValueError as exc:
                log.info("telegram %s: update %s skipped: %s", self.channel.slug, update.get("update_id"), exc)
        new = intake.created(intake.submit(self.channel, items))
        if updates:  # only after the intake stored them: a crash before this fetches them again
            offset = max(u["update_id"] for u in updates) + 1
        SourceState.objects.filter(pk=state.pk).update(
            cursor={"offset": offset}, last_fetched_at=_now(), last_ok_at=_now(), consecutive_errors=0,
            items_seen=state.items_seen + len(updates))
        return new

    def items_of(self, update: dict) -> list:
        """The inbound message (and a contact claim from /start) of one Update; other update kinds are skipped."""
        message = update.get("message")
        if not isinstance(message, dict):
            return []
        chat, sender = message.get("chat"), message.get("from")
        if not isinstance(chat, dict) or not isinstance(sender, dict) or not isinstance(message.get("message_id"), int):
            raise ValueError("a message needs message_id, chat and from")
        if sender.get("is_bot"):
            return []
        private = chat.get("type") == "private"
        text = str(message.get("text") or message.get("caption") or "")
        if not private:
            username = str(self._setting("bot_username") or "")
            if not (self._setting("groups") and username and f"@{username.lower()}" in text.lower()):
                return []
        name = " ".join(str(sender.get(k) or "") for k in ("first_name", "last_name")).strip()
        meta: dict = {"chat_id": chat.get("id"), "chat_type": chat.get("type"), "message_id": message["message_id"],
                      "update_id": update.get("update_id")}
        items: list = []
        if text.startswith("/start"):
            reference = text[len("/start"):].strip()
            meta["start"] = reference[:64]
            contact_id = contact_from_reference(reference)
            if contact_id:
                items.append(IdentityClaim(kind="telegram", handle=str(sender.get("id")), contact_id=contact_id,
                                           source="telegram deep link"))
            text = str(_("Started the chat with the bot")) if not reference else text
        external_id = f"{chat.get('id')}:{message['message_id']}"
        if ("photo" in message or "document" in message) and intake.stored(self.channel, [external_id]):
            return []  # delivered again (a webhook retry, a poll after a crash): stored, its file fetched
        attachments = self._files(message, meta)
        if not text and not attachments:
            kinds = [k for k in ("sticker", "voice", "video", "audio", "location", "contact", "poll") if k in message]
            text = f"Unsupported content ({kinds[0] if kinds else 'unknown'})"
            meta["unsupported"] = kinds[0] if kinds else "unknown"
        reply_to = message.get("reply_to_message")
        inbound = InboundMessage(
            external_id=external_id, sender_handle=str(sender.get("id")),
            sender_name=name[:200], text=text, is_public=not private, attachments=attachments,
            sent_at=datetime.fromtimestamp(message["date"], tz=UTC) if isinstance(message.get("date"), int) else None,
            in_reply_to=f"{chat.get('id')}:{reply_to['message_id']}" if isinstance(reply_to, dict) and
            isinstance(reply_to.get("message_id"), int) else "",
            meta={"telegram": meta},
            sender_profile={k: v for k, v in {"display_name": name, "url": f"https://t.me/{sender['username']}"
                                              if sender.get("username") else ""}.items() if v},
        )
        return [inbound, *items]  # the message first: the claim moves the contact it created

    def _files(self, message: dict, meta: dict) -> list[dict]:
        """The photo (largest size) or document, downloaded once; a failure is noted, the message kept."""
        photo = message.get("photo")
        if isinstance(photo, list) and photo:
            best = max((p for p in photo if isinstance(p, dict)), key=lambda p: p.get("file_size") or 0, default={})
            wanted = {"file_id": best.get("file_id"), "file_name": f"photo-{best.get('file_unique_id', 'x')}.jpg",
                      "mime_type": "image/jpeg", "file_size": best.get("file_size")}
        elif isinstance(message.get("document"), dict):
            wanted = message["document"]
        else:
            return []
        limit = int(self._setting("max_file_bytes") or MAX_FILE_BYTES)
        try:
            if int(wanted.get("file_size") or 0) > limit:
                raise Rejected(f"the file has {wanted.get('file_size')} bytes, more than {limit}")
            client = self.client()
            info = client.call("getFile", {"file_id": wanted.get("file_id")})
            content = client.download(str((info or {}).get("file_path") or ""), limit)
        except (SocialError, DriverError, outbound.OutboundError) as exc:
            meta["file_error"] = str(exc)[:300]
            if isinstance(exc, AuthenticationFailed):  # revoked: the message is kept, the administrator told
                self.token_refused = True
                record_health(self.channel, False, f"bot token refused while fetching a file: {exc}. Ask "
                                                   "@BotFather for the token (/token) and save it here; messages "
                                                   "still arrive, their files are named.", refused=True)
            return [{"filename": str(wanted.get("file_name") or "file"), "content_type": str(wanted.get("mime_type")
                     or "application/octet-stream"), "size": int(wanted.get("file_size") or 0)}]
        record_token_works(self.channel)
        return [{"filename": str(wanted.get("file_name") or "file")[:200],
                 "content_type": str(wanted.get("mime_type") or "application/octet-stream"), "content": content}]

    # --- sending ---------------------------------------------------------------------------------

    def send(self, message) -> SendResult:
        last = (message.conversation.messages.filter(channel=message.channel_id, direction="inbound")
                .order_by("-id").first())
        tg = ((last.meta or {}).get("telegram") or {}) if last else {}
        chat_id = tg.get("chat_id")
        if chat_id is None:
            return SendResult("failed", detail="No Telegram chat to answer in this conversation.")
        payload: dict = {"chat_id": chat_id, "text": message.text}
        if message.is_public and tg.get("message_id"):
            payload["reply_parameters"] = {"message_id": tg["message_id"], "allow_sending_without_reply": True}
        files = self.files_of(message)
        sent: list[str] = []
        try:
            if files and len(message.text) <= CAPTION_LIMIT:
                payload["caption"] = payload.pop("text")
            else:
                sent.append(self._sent_id(chat_id, self.client().call("sendMessage", payload)))
                payload.pop("text")
            for item in files:  # the first file carries the text as its caption when it fits
                method, field = ("sendPhoto", "photo") if item["kind"] == "image" else ("sendDocument", "document")
                result = self.client().upload(method, payload, {field: (item["filename"], item["content"],
                                                                        item["content_type"])})
                sent.append(self._sent_id(chat_id, result))
                payload.pop("caption", None)
        except (SocialError, DriverError, outbound.OutboundError) as exc:
            if sent:  # part of the reply is out: never send it twice
                return SendResult("failed", external_id=sent[0], detail=f"only {len(sent)} part(s) sent: {exc}")
            return self._failure(exc)
        if not sent or not sent[0]:
            return SendResult("failed", detail="Telegram answered without a message id")
        return SendResult("sent", external_id=sent[0], detail=f"{len(sent)} messages" if len(sent) > 1 else "")

    @staticmethod
    def _sent_id(chat_id, result) -> str:
        if not isinstance(result, dict) or not isinstance(result.get("message_id"), int):
            raise InvalidResponse("Telegram answered without a message id")
        return f"{chat_id}:{result['message_id']}"

    def _failure(self, exc: Exception) -> SendResult:
        if isinstance(exc, RateLimited | Unavailable):
            return SendResult("retry", detail=str(exc))
        if isinstance(exc, AuthenticationFailed):
            record_health(self.channel, False, f"bot token refused: {exc}. Ask @BotFather for the token "
                                               "(/token) and save it here; queued replies then go out.", refused=True)
            return SendResult("retry", detail=str(exc))
        return SendResult("failed", detail=str(exc))

    def check_connection(self) -> tuple[bool, str]:
        try:
            client = self.client()
            me = client.call("getMe")
            if not isinstance(me, dict):
                raise InvalidResponse("getMe answered without a bot")
            if me.get("username") and me.get("username") != self._setting("bot_username"):
                update_channel(self.channel, settings={**(self.channel.settings or {}),
                                                       "bot_username": me["username"]})
            if self.uses_webhook:
                base = str(self._setting("public_url") or "").rstrip("/")
                if not self.channel.credentials.get("secret_token"):
                    return False, "A webhook needs the webhook secret; set one, or leave the public address empty."
                client.call("setWebhook", {"url": f"{base}/hooks/{self.channel.slug}/", "allowed_updates": ["message"],
                                           "secret_token": self.channel.credentials.get("secret_token") or ""})
                how = f"webhook {base}/hooks/{self.channel.slug}/"
            else:
                client.call("deleteWebhook", {"drop_pending_updates": False})
                how = "polling getUpdates"
        except AuthenticationFailed as exc:
            return False, f"The bot token was refused ({exc}); ask @BotFather for the current one."
        except (SocialError, DriverError, outbound.OutboundError) as exc:
            return False, str(exc)
        return True, f"@{me.get('username', '?')} ({me.get('first_name', '')}), {how}"


def _now() -> datetime:
    return datetime.now(UTC)
