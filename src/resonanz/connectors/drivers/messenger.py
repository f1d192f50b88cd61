"""Facebook Messenger and Instagram direct messages: one Meta app connection for a Page and its Instagram account.

Documentation followed: the Messenger Platform webhook events (``object: "page"``, ``entry[].messaging[]`` with
``sender``, ``recipient``, ``timestamp``, ``message {mid, text, attachments[{type, payload.url}], is_echo}``,
``delivery {mids, watermark}``), the Instagram messaging webhooks (the same shape with ``object: "instagram"``)
and the Send API (``POST /<PAGE_ID>/messages`` with ``recipient.id``, ``messaging_type`` and ``message.text``,
answering ``{"recipient_id", "message_id"}``). Outside the 24-hour standard messaging window a person's answer
goes out with the ``HUMAN_AGENT`` tag (allowed for 7 days). The webhook handshake and signature are Meta's
(``connectors/social/meta.py``), as for WhatsApp.

Comments on posts and media (public conversations, hide/delete, private replies) are not handled yet.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext_lazy as _

from resonanz.connectors import intake
from resonanz.connectors.actions import record_health, record_ok
from resonanz.connectors.drivers import meta_common, register
from resonanz.connectors.drivers.base import (
    ChannelField,
    DeliveryUpdate,
    Driver,
    DriverError,
    InboundMessage,
    SendResult,
)
from resonanz.connectors.social import meta as graph
from resonanz.connectors.social.errors import AuthenticationFailed, RateLimited, SocialError, Unavailable
from resonanz.core import outbound
from resonanz.core.errors import ActionError

log = logging.getLogger("resonanz.connectors.messenger")
MAX_MEDIA_BYTES = 25 * 1024 * 1024
STANDARD_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
IDENTITY = {"page": "facebook", "instagram": "instagram"}


@register("messenger")
class MessengerDriver(Driver):
    label = _("Facebook Messenger and Instagram")
    identity_kind = "facebook"
    reply_limit = 2000
    accepts_push = True
    settings_help = _("One Meta app for a Facebook Page and the Instagram professional account linked to it; "
                      "subscribe the app to the page's messages and message_deliveries and to Instagram messages.")
    fields = (
        ChannelField("page_id", _("Page ID"), _("The Facebook Page's ID (Page → About → Page transparency).")),
        ChannelField("instagram_id", _("Instagram account ID"),
                     _("The Instagram professional account linked to the page (optional)."), required=False),
        ChannelField("page_token", _("Page access token"),
                     _("A long-lived page token with pages_messaging and instagram_manage_messages."), secret=True),
        ChannelField("app_secret", _("App secret"),
                     _("App settings → Basic → App secret; it signs every webhook (X-Hub-Signature-256)."),
                     secret=True),
        ChannelField("verify_token", _("Verify token"),
                     _("Any word you choose; enter the same in the app's Webhooks settings."), secret=True),
        ChannelField("api_base", _("Graph API address"), _("Leave as it is unless Meta announces a new version."),
                     required=False, initial=graph.GRAPH_API),
    )

    def _setting(self, name: str) -> str:
        return str((self.channel.settings or {}).get(name) or "").strip()

    def client(self) -> graph.GraphClient:
        token = self.channel.credentials.get("page_token") or ""
        if not token:
            raise DriverError("The channel has no page access token.")
        return graph.GraphClient(self._setting("api_base") or graph.GRAPH_API, token)

    # --- receiving -------------------------------------------------------------------------------

    def handle_request(self, request: HttpRequest) -> HttpResponse:
        payload = meta_common.signed_payload(self, request)
        if isinstance(payload, HttpResponse):
            return payload
        try:
            items = self.parse(payload)
        except ValueError as exc:
            return JsonResponse({"error": str(exc)}, status=400)
        results = intake.submit(self.channel, items)
        record_ok(self.channel)
        return JsonResponse({"created": intake.created(results),
                             "refused": [str(r) for r in results if isinstance(r, ActionError)]})

    def parse(self, payload) -> list:
        if not isinstance(payload, dict) or payload.get("object") not in IDENTITY or \
                not isinstance(payload.get("entry"), list):
            raise ValueError('expected {"object": "page" or "instagram", "entry": [...]}')
        platform = payload["object"]
        items: list = []
        for entry in payload["entry"]:
            for event in (entry.get("messaging") if isinstance(entry, dict) else None) or []:
                if not isinstance(event, dict):
                    continue
                delivery = event.get("delivery")
                if isinstance(delivery, dict):
                    mids = [str(m) for m in delivery.get("mids") or [] if isinstance(m, str)]
                    if mids:
                        items.append(DeliveryUpdate(message_ids=mids, status="delivered",
                                                    source_id=f"delivery:{','.join(mids)}"[:300]))
                    continue
                message = event.get("message")
                if isinstance(message, dict) and not message.get("is_echo"):
                    items.append(self.inbound(platform, event, message))
        return items

    def inbound(self, platform: str, event: dict, message: dict) -> InboundMessage:
        sender = str((event.get("sender") or {}).get("id") or "") if isinstance(event.get("sender"), dict) else ""
        mid = str(message.get("mid") or "")
        if not sender or not mid:
            raise ValueError("a message needs sender.id and message.mid")
        text = str(message.get("text") or "")
        attachments, problems = [], []
        for attachment in message.get("attachments") or []:
            if not isinstance(attachment, dict):
                continue
            url = str((attachment.get("payload") or {}).get("url") or "") \
                if isinstance(attachment.get("payload"), dict) else ""
            kind = str(attachment.get("type") or "file")
            if not url:
                problems.append(kind)
                continue
            try:
                attachments.append(self._download(url, kind))
            except (outbound.OutboundError, SocialError, ValueError) as exc:
                problems.append(f"{kind} (not downloaded: {str(exc)[:120]})")
        if problems:
            text = (text + "\n" if text else "") + "Unsupported content (" + ", ".join(problems) + ")"
        timestamp = event.get("timestamp")
        return InboundMessage(
            external_id=mid[:300], sender_handle=sender, text=text, attachments=attachments,
            identity_kind=IDENTITY[platform],
            sent_at=datetime.fromtimestamp(timestamp / 1000, tz=UTC) if isinstance(timestamp, int) else None,
            meta={"meta": {"platform": platform, "sender_id": sender,
                           "recipient_id": str((event.get("recipient") or {}).get("id") or "")}},
        )

    def _download(self, url: str, kind: str) -> dict:
        response = outbound.get(url, stream=True, timeout=(5, 30))
        if response.status_code >= 400:
            response.close()
            raise ValueError(f"the file answered {response.status_code}")
        content_type = response.headers.get("Content-Type", "application/octet-stream").split(";")[0]
        content = outbound.read_limited(response, MAX_MEDIA_BYTES)
        name = url.split("?")[0].rstrip("/").rsplit("/", 1)[-1][:100] or kind
        return {"filename": name, "content_type": content_type, "content": content}

    # --- sending ---------------------------------------------------------------------------------

    def send(self, message) -> SendResult:
        last = (message.conversation.messages.filter(channel=message.channel_id, direction="inbound")
                .order_by("-id").first())
        info = ((last.meta or {}).get("meta") or {}) if last else {}
        if not info.get("sender_id"):
            return SendResult("failed", detail="No Messenger or Instagram chat to answer in this conversation.")
        since = (message.sent_at or datetime.now(UTC)) - (last.sent_at or last.created_at)
        body: dict = {"recipient": {"id": info["sender_id"]}, "message": {"text": message.text}}
        if since <= STANDARD_WINDOW:
            body["messaging_type"] = "RESPONSE"
        elif since <= HUMAN_AGENT_WINDOW:
            body |= {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
        else:
            return SendResult("failed", detail="More than 7 days since the customer's last message: Meta no "
                                               "longer lets the page answer until they write again.")
        account = self._setting("instagram_id") if info.get("platform") == "instagram" and \
            self._setting("instagram_id") else self._setting("page_id")
        try:
            answer = self.client().call("POST", f"{account}/messages", json=body)
        except (RateLimited, Unavailable) as exc:
            return SendResult("retry", detail=str(exc))
        except AuthenticationFailed as exc:
            record_health(self.channel, False, f"page token refused: {exc}. Create a new page token and save it "
                                               "here; queued replies then go out.")
            return SendResult("retry", detail=str(exc))
        except (SocialError, DriverError, outbound.OutboundError) as exc:
            return SendResult("failed", detail=str(exc))
        if not answer.get("message_id"):
            return SendResult("failed", detail="Meta accepted the request but returned no message id")
        return SendResult("sent", external_id=str(answer["message_id"]))

    def check_connection(self) -> tuple[bool, str]:
        missing = [n for n in ("app_secret", "verify_token", "page_token") if not self.channel.credentials.get(n)]
        if missing or not self._setting("page_id"):
            return False, "Missing: " + ", ".join(missing + ([] if self._setting("page_id") else ["page_id"]))
        try:
            page = self.client().call("GET", self._setting("page_id"), params={"fields": "id,name"})
        except AuthenticationFailed as exc:
            return False, f"The page token was refused ({exc}); create a new one and save it here."
        except (SocialError, outbound.OutboundError) as exc:
            return False, str(exc)
        return True, f"{page.get('name', '')}; webhook at /hooks/{self.channel.slug}/"
