"""WhatsApp Business (Cloud API): customers' messages through Meta's webhook, replies through the Graph API.

Documentation followed:
- webhooks: https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components and the messages
  webhook reference (text, image, document, audio, video, sticker, location, contacts, button, interactive,
  unsupported) and its status reference (sent, delivered, read, failed with ``errors``);
- sending: ``POST /<PHONE_NUMBER_ID>/messages`` (text, template) answering ``{"messages": [{"id": "wamid…"}]}``;
- media: ``GET /<MEDIA_ID>`` gives a short-lived ``url`` that is fetched with the same bearer token;
- outbound media: ``POST /<PHONE_NUMBER_ID>/media`` (multipart ``file``, ``type``, ``messaging_product``)
  answering ``{"id"}``, then a message of ``type`` image or document referring to that id, with the reply's
  text as its caption (images: JPEG or PNG up to 5 MB; documents up to 100 MB; captions up to 1,024 characters);
- templates: ``GET /<WABA_ID>/message_templates`` (``data`` with ``name``, ``language``, ``status``,
  ``components``).

The customer-service window: free text is allowed for 24 hours after the customer's last message; after that
only an approved template goes out (the platform would refuse anything else with error 131047).
Customers are known by their phone number ("+" and the wa_id) as phone identities, so their WhatsApp
messages meet their mails and forms on one contact.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext_lazy as _

from resonanz.connectors import intake
from resonanz.connectors.actions import record_health, record_ok, record_token_works
from resonanz.connectors.drivers import meta_common, register
from resonanz.connectors.drivers.base import (
    ChannelField,
    DeliveryUpdate,
    Driver,
    DriverError,
    InboundMessage,
    ReplyTemplate,
    SendResult,
)
from resonanz.connectors.social import meta as graph
from resonanz.connectors.social.errors import (
    AuthenticationFailed,
    NotFound,
    RateLimited,
    Rejected,
    SocialError,
    Unavailable,
)
from resonanz.core import outbound
from resonanz.core.errors import ActionError

log = logging.getLogger("resonanz.connectors.whatsapp")

MEDIA_TYPES = ("image", "document", "audio", "video", "sticker")
MAX_MEDIA_BYTES = 16 * 1024 * 1024
PLACEHOLDER = {"image": "[image]", "document": "[document]", "audio": "[voice message]", "video": "[video]",
               "sticker": "[sticker]"}
WINDOW_CODES = {131047}  # re-engagement: the 24-hour window has closed
MB = 1024 * 1024
DOCUMENT_TYPES = ("application/pdf", "text/plain", "text/csv", "application/msword", "application/vnd.ms-excel",
                  "application/vnd.ms-powerpoint",
                  "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                  "application/vnd.openxmlformats-officedocument.presentationml.presentation")
CAPTION_LIMIT = 1024


class MalformedNotification(ValueError):
    pass


@register("whatsapp")
class WhatsAppDriver(Driver):
    label = _("WhatsApp Business")
    identity_kind = "phone"
    public = False
    reply_limit = 4096
    accepts_push = True
    reply_window = timedelta(hours=24)
    #: set when Meta refused the access token during this request (downloading a message's media)
    token_refused = False
    reply_media = {"image": (5 * MB, ("image/jpeg", "image/png")), "document": (100 * MB, DOCUMENT_TYPES)}
    describes_images = False
    settings_help = _("Connect the phone number of your WhatsApp Business account (Meta for Developers → your app → "
                      "WhatsApp → API Setup) and give Meta this channel's webhook address with the verify token.")
    fields = (
        ChannelField("phone_number_id", _("Phone number ID"),
                     _("Meta for Developers → your app → WhatsApp → API Setup, under the sending number.")),
        ChannelField("business_account_id", _("WhatsApp Business Account ID"),
                     _("Shown next to the phone number ID; needed to list your approved templates.")),
        ChannelField("access_token", _("Access token"),
                     _("A permanent token of a system user (Business settings → System users) with "
                       "whatsapp_business_messaging and whatsapp_business_management."), secret=True),
        ChannelField("app_secret", _("App secret"),
                     _("App settings → Basic → App secret; it signs every webhook (X-Hub-Signature-256)."),
                     secret=True),
        ChannelField("verify_token", _("Verify token"),
                     _("Any word you choose; enter the same in WhatsApp → Configuration → Webhook."), secret=True),
        ChannelField("api_base", _("Graph API address"), _("Leave as it is unless Meta announces a new version."),
                     required=False, initial=graph.GRAPH_API),
    )

    # --- configuration --------------------------------------------------------------------------

    def _setting(self, name: str) -> str:
        value = (self.channel.settings or {}).get(name) or ""
        return str(value).strip()

    def client(self) -> graph.GraphClient:
        token = self.channel.credentials.get("access_token") or ""
        if not token:
            raise DriverError("The channel has no access token; add it in the channel's settings.")
        return graph.GraphClient(self._setting("api_base") or graph.GRAPH_API, token)

    # --- receiving ------------------------------------------------------------------------------

    def handle_request(self, request: HttpRequest) -> HttpResponse:
        """GET: Meta's verification handshake. POST: a signed notification with messages and statuses."""
        payload = meta_common.signed_payload(self, request)
        if isinstance(payload, HttpResponse):
            return payload
        try:
            messages, updates, errors = parse_notification(payload)
        except MalformedNotification as exc:
            return JsonResponse({"error": str(exc)}, status=400)
        # a redelivery (Meta retries when unsure we got it) is stored with its media: never downloaded again
        known = intake.stored(self.channel, [m.external_id for m in messages if m.meta["whatsapp"].get("media")])
        fresh = [m for m in messages if m.external_id not in known]
        for item in fresh:
            self._fetch_media(item)
        results = intake.submit(self.channel, [*fresh, *updates])
        refused = [r for r in results if isinstance(r, ActionError)]
        if errors:
            record_health(self.channel, False, "WhatsApp reported: " + "; ".join(errors)[:1500])
        elif not refused and not self.token_refused:  # a refused token found on the way stays on the page
            record_ok(self.channel)
        return JsonResponse({"received": len(messages), "statuses": len(updates),
                             "created": intake.created(results), "refused": [str(r) for r in refused]})

    def _fetch_media(self, item: InboundMessage) -> None:
        """Download the message's media once (size-limited); a failure keeps the message and says why."""
        media = item.meta.get("whatsapp", {}).get("media")
        if not media:
            return
        limit = int((self.channel.settings or {}).get("max_media_bytes") or MAX_MEDIA_BYTES)
        try:
            client = self.client()
            info = client.call("GET", str(media["id"]))
            if int(info.get("file_size") or 0) > limit:
                raise Rejected(f"the file has {info.get('file_size')} bytes, more than the limit of {limit}")
            try:
                content, content_type = client.download(str(info["url"]), limit)
            except NotFound:  # the URL expired between the two calls: ask for a fresh one once
                info = client.call("GET", str(media["id"]))
                content, content_type = client.download(str(info["url"]), limit)
        except (SocialError, DriverError, KeyError, ValueError, outbound.OutboundError) as exc:
            log.info("whatsapp %s: media %s not downloaded: %s", self.channel.slug, media.get("id"), exc)
            if isinstance(exc, AuthenticationFailed):  # revoked or expired (190): the message is kept, admin told
                self.token_refused = True
                record_health(self.channel, False, f"access token refused while downloading a file: {exc}. Create "
                                                   "a new token and save it in the channel's settings; messages "
                                                   "still arrive, their files are named in the text.", refused=True)
            item.meta["whatsapp"]["media_error"] = str(exc)[:300]
            item.text = (item.text + "\n" if item.text else "") + f"{PLACEHOLDER.get(media['type'], '[media]')} " \
                f"(not downloaded: {str(exc)[:200]})"
            return
        record_token_works(self.channel)
        item.attachments.append({"filename": media.get("filename") or f"{media['type']}-{media['id']}",
                                 "content_type": media.get("mime_type") or content_type, "content": content})

    # --- sending --------------------------------------------------------------------------------

    def send(self, message) -> SendResult:
        to = recipient(message)
        if not to:
            return SendResult("failed", detail="The customer has no WhatsApp number to reply to.")
        template = (message.meta or {}).get("template")
        body: dict = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to}
        if template:
            components = []
            if template.get("params"):
                components.append({"type": "body", "parameters": [{"type": "text", "text": str(p)}
                                                                  for p in template["params"]]})
            body |= {"type": "template", "template": {"name": template["name"],
                                                      "language": {"code": template["language"]},
                                                      "components": components}}
        elif not self.window_open(message.conversation, now=message.sent_at):
            return SendResult("failed", detail="The 24-hour window closed before the reply went out; "
                                               "send an approved template.")
        else:
            files = self.files_of(message)
            if files:
                return self._send_media(body, message.text, files)
            body |= {"type": "text", "text": {"preview_url": False, "body": message.text}}
        return self._post(body)

    def _send_media(self, base: dict, text: str, files: list[dict]) -> SendResult:
        """Each file uploaded, then sent as an image or document message; the text is the first caption (or a
        message before the files when it is longer than a caption may be)."""
        sent = []
        if len(text) > CAPTION_LIMIT:
            first = self._post({**base, "type": "text", "text": {"preview_url": False, "body": text}})
            if first.status != "sent":
                return first
            sent.append(first.external_id)
            text = ""
        for n, item in enumerate(files):
            try:
                upload = self.client().call(
                    "POST", f"{self._setting('phone_number_id')}/media",
                    data={"messaging_product": "whatsapp", "type": item["content_type"]},
                    files={"file": (item["filename"], item["content"], item["content_type"])})
            except (SocialError, DriverError, outbound.OutboundError) as exc:
                result = self._failure(exc)
                result.detail = f"{item['filename']} was not uploaded: {result.detail}" + (
                    f" ({len(sent)} part(s) already sent)" if sent else "")
                return result if not sent else SendResult("failed", external_id=sent[0], detail=result.detail)
            media: dict = {"id": str(upload.get("id") or "")}
            if item["kind"] == "document":
                media["filename"] = item["filename"]
            if n == 0 and text:
                media["caption"] = text
            result = self._post({**base, "type": item["kind"], item["kind"]: media})
            if result.status != "sent":
                return result if not sent else SendResult("failed", external_id=sent[0], detail=result.detail)
            sent.append(result.external_id)
        return SendResult("sent", external_id=sent[0], detail=f"{len(sent)} messages" if len(sent) > 1 else "")

    def _failure(self, exc: Exception) -> SendResult:
        if isinstance(exc, RateLimited):
            return SendResult("retry", detail=f"WhatsApp rate limit: {exc}")
        if isinstance(exc, Unavailable):
            return SendResult("retry", detail=f"WhatsApp unavailable: {exc}")
        if isinstance(exc, AuthenticationFailed):
            record_health(self.channel, False, f"access token refused: {exc}. Create a new token and save it "
                                               "in the channel's settings; queued replies then go out.", refused=True)
            return SendResult("retry", detail=f"access token refused: {exc}")
        return SendResult("failed", detail=str(exc))

    def _post(self, body: dict) -> SendResult:
        try:
            answer = self.client().call("POST", f"{self._setting('phone_number_id')}/messages", json=body)
        except (SocialError, DriverError, outbound.OutboundError) as exc:
            return self._failure(exc)
        ids = [m.get("id") for m in answer.get("messages") or [] if isinstance(m, dict) and m.get("id")]
        if not ids:
            return SendResult("failed", detail="WhatsApp accepted the request but returned no message id")
        return SendResult("sent", external_id=str(ids[0]))

    def reply_templates(self) -> list[ReplyTemplate]:
        """The account's approved templates, cached for five minutes (agents open many conversations)."""
        key = f"whatsapp-templates:{self.channel.pk}:{self._setting('business_account_id')}"
        found = cache.get(key)
        if found is None:
            found = fetch_templates(self.client(), self._setting("business_account_id"))
            cache.set(key, found, 300)
        return found

    def check_connection(self) -> tuple[bool, str]:
        if not self._setting("phone_number_id"):
            return False, "The phone number ID is missing."
        missing = [name for name in ("app_secret", "verify_token") if not self.channel.credentials.get(name)]
        if missing:
            return False, f"Missing: {', '.join(missing)} (needed to receive the webhook)."
        try:
            info = self.client().call("GET", self._setting("phone_number_id"),
                                      params={"fields": "display_phone_number,verified_name,quality_rating"})
        except AuthenticationFailed as exc:
            return False, f"The access token was refused ({exc}); create a new one and save it here."
        except (SocialError, outbound.OutboundError) as exc:
            return False, str(exc)
        return True, (f"{info.get('verified_name', '')} {info.get('display_phone_number', '')}".strip()
                      + f"; webhook at /hooks/{self.channel.slug}/")


# --- the notification's shape -----------------------------------------------------------------------


def parse_notification(payload) -> tuple[list[InboundMessage], list[DeliveryUpdate], list[str]]:
    """Messages, status updates and reported errors of one webhook body (messages webhook reference)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
        raise MalformedNotification("expected {\"object\": \"whatsapp_business_account\", \"entry\": [...]}")
    messages: list[InboundMessage] = []
    updates: list[DeliveryUpdate] = []
    errors: list[str] = []
    for entry in payload["entry"]:
        for change in _dicts(entry.get("changes") if isinstance(entry, dict) else None):
            value = change.get("value")
            if change.get("field") != "messages" or not isinstance(value, dict):
                continue
            names = {str(c.get("wa_id")): str((c.get("profile") or {}).get("name") or "")
                     for c in _dicts(value.get("contacts"))}
            business = (value.get("metadata") or {}).get("phone_number_id", "") \
                if isinstance(value.get("metadata"), dict) else ""
            for message in _dicts(value.get("messages")):
                messages.append(inbound_message(message, names, str(business)))
            for status in _dicts(value.get("statuses")):
                update = status_update(status)
                if update:
                    updates.append(update)
            errors.extend(_error_text(e) for e in _dicts(value.get("errors")))
    return messages, updates, errors


def inbound_message(message: dict, names: dict[str, str], business: str = "") -> InboundMessage:
    wamid, sender = str(message.get("id") or ""), str(message.get("from") or "")
    if not wamid or not sender.isdigit():
        raise MalformedNotification("a message needs an id and a from number")
    kind = str(message.get("type") or "unknown")
    text, data = _content(kind, message)
    wa_meta: dict = {"wa_id": sender, "type": kind, "business_phone_number_id": business, **data}
    context = message.get("context") if isinstance(message.get("context"), dict) else {}
    return InboundMessage(
        external_id=wamid[:300], sender_handle="+" + sender, sender_name=names.get(sender, "")[:200], text=text,
        sent_at=graph.timestamp(message.get("timestamp")), identity_kind="phone",
        in_reply_to=str(context.get("id") or "")[:300], meta={"whatsapp": wa_meta},
        sender_profile={"display_name": names.get(sender, "")} if names.get(sender) else {},
    )


def _content(kind: str, message: dict) -> tuple[str, dict]:
    """The readable text of a message and what the driver keeps of it (media to fetch, a location…)."""
    part = message.get(kind) if isinstance(message.get(kind), dict) else {}
    if kind == "text":
        return str(part.get("body") or ""), {}
    if kind in MEDIA_TYPES:
        media = {"id": str(part.get("id") or ""), "type": kind, "mime_type": str(part.get("mime_type") or ""),
                 "filename": str(part.get("filename") or "")[:200], "sha256": str(part.get("sha256") or "")}
        return str(part.get("caption") or ""), {"media": media} if media["id"] else {"media_error": "no media id"}
    if kind == "location":
        lat, lon = part.get("latitude"), part.get("longitude")
        label = ", ".join(str(part.get(k)) for k in ("name", "address") if part.get(k))
        where = f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}" if _number(lat) and _number(lon) else ""
        return "\n".join(x for x in (f"📍 {label}" if label else "📍", where) if x), \
            {"location": {"latitude": lat, "longitude": lon, "name": part.get("name", ""),
                          "address": part.get("address", "")}}
    if kind == "contacts":
        cards = []
        for card in _dicts(message.get("contacts")):
            name = (card.get("name") or {}).get("formatted_name", "") if isinstance(card.get("name"), dict) else ""
            phones = [str(p.get("phone")) for p in _dicts(card.get("phones")) if p.get("phone")]
            emails = [str(e.get("email")) for e in _dicts(card.get("emails")) if e.get("email")]
            cards.append(" · ".join(x for x in (name, *phones, *emails) if x))
        return "\n".join(f"👤 {c}" for c in cards) or "👤", {"contacts": cards}
    if kind == "button":
        return str(part.get("text") or part.get("payload") or ""), {}
    if kind == "interactive":
        reply = part.get("button_reply") or part.get("list_reply") or {}
        return str(reply.get("title") or "") if isinstance(reply, dict) else "", {}
    if kind == "reaction":
        return f"{part.get('emoji', '')} (reaction)", {"reaction_to": str(part.get("message_id") or "")}
    errors = [_error_text(e) for e in _dicts(message.get("errors"))]
    return f"Unsupported content ({kind})", {"unsupported": kind, "errors": errors}


def status_update(status: dict) -> DeliveryUpdate | None:
    state, wamid = status.get("status"), str(status.get("id") or "")
    if not wamid or state not in ("delivered", "read", "failed"):
        return None  # "sent" is what our send already recorded
    detail = "; ".join(_error_text(e) for e in _dicts(status.get("errors")))
    if any(e.get("code") in WINDOW_CODES for e in _dicts(status.get("errors"))):
        detail += " (the 24-hour window had closed; send a template)"
    return DeliveryUpdate(message_ids=[wamid], status=state, detail=detail, source_id=f"{wamid}:{state}",
                          at=graph.timestamp(status.get("timestamp")))


def recipient(message) -> str:
    """The wa_id to answer: from the customer's last WhatsApp message, else the contact's phone number."""
    last = (message.conversation.messages.filter(channel=message.channel_id, direction="inbound")
            .order_by("-id").first())
    wa_id = ((last.meta or {}).get("whatsapp") or {}).get("wa_id") if last else ""
    if wa_id:
        return str(wa_id)
    contact = message.conversation.contact
    phone = contact.identities.filter(kind="phone").order_by("id").first() if contact else None
    return phone.handle.lstrip("+") if phone else ""


def fetch_templates(client: graph.GraphClient, account_id: str) -> list[ReplyTemplate]:
    if not account_id:
        return []
    found: list[ReplyTemplate] = []
    params: dict = {"fields": "name,language,status,category,components", "limit": 100}
    path = f"{account_id}/message_templates"
    for _page in range(20):
        answer = client.call("GET", path, params=params)
        for item in _dicts(answer.get("data")):
            if item.get("status") != "APPROVED":
                continue
            body = next((str(c.get("text") or "") for c in _dicts(item.get("components"))
                         if str(c.get("type", "")).upper() == "BODY"), "")
            count = len({m for m in range(1, 21) if "{{" + str(m) + "}}" in body})
            found.append(ReplyTemplate(name=str(item.get("name")), language=str(item.get("language")), body=body,
                                       params=count, category=str(item.get("category") or "")))
        after = ((answer.get("paging") or {}).get("cursors") or {}).get("after")
        if not after or not (answer.get("paging") or {}).get("next"):
            break
        params = {**params, "after": after}
    return found


def _dicts(value) -> list[dict]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _error_text(error: dict) -> str:
    details = (error.get("error_data") or {}).get("details", "") if isinstance(error.get("error_data"), dict) else ""
    title = error.get("title") or error.get("message") or "error"
    return f"{title} ({error.get('code')})" + (f": {details}" if details else "")
