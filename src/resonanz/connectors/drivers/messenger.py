"""Facebook Messenger and Instagram direct messages: one Meta app connection for a Page and its Instagram account.

Documentation followed: the Messenger Platform webhook events (``object: "page"``, ``entry[].messaging[]`` with
``sender``, ``recipient``, ``timestamp``, ``message {mid, text, attachments[{type, payload.url}], is_echo}``,
``delivery {mids, watermark}``), the Instagram messaging webhooks (the same shape with ``object: "instagram"``)
and the Send API (``POST /<PAGE_ID>/messages`` with ``recipient.id``, ``messaging_type`` and ``message.text``,
answering ``{"recipient_id", "message_id"}``). Outside the 24-hour standard messaging window a person's answer
goes out with the ``HUMAN_AGENT`` tag (allowed for 7 days). The webhook handshake and signature are Meta's
(``connectors/social/meta.py``), as for WhatsApp.

Comments on the page's posts and on Instagram media are public conversations:
- in: the Page ``feed`` webhook (``changes[].value`` with ``item: "comment"``, ``verb`` add/edited/remove,
  ``comment_id``, ``post_id``, ``parent_id``, ``from {id, name}``, ``message``) and the Instagram ``comments``
  webhook (``value`` with ``id``, ``text``, ``from {id, username}``, ``media {id}``, ``parent_id`` for replies);
- out: a public answer in the thread (``POST /<COMMENT_ID>/comments`` with ``message`` on Facebook,
  ``POST /<IG_COMMENT_ID>/replies`` on Instagram, both answering ``{"id"}``), or a private reply as a direct
  message (``POST /<PAGE_ID>/messages`` with ``recipient.comment_id``; Meta allows one per comment);
- moderation: hide (``POST /<COMMENT_ID>?is_hidden=true``, Instagram ``?hide=true``) and delete (``DELETE
  /<COMMENT_ID>``), both answering ``{"success": true}``;
- threads: a person's comments under one post (or Instagram media) are one public conversation, under another
  post another (``InboundMessage.thread`` is the ``post_id`` / ``media.id`` every comment carries, replies
  included, so the order they arrive in does not matter);
- context: the post's text, link and picture (``GET /<POST_ID>?fields=message,permalink_url,full_picture``,
  Instagram ``GET /<MEDIA_ID>?fields=caption,permalink,media_type,media_url,thumbnail_url``), kept with the
  comment (shown above the conversation) and cached for an hour.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

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
    SendResult,
    SourceChange,
)
from resonanz.connectors.intake import IdentityClaim
from resonanz.connectors.social import meta as graph
from resonanz.connectors.social.errors import AuthenticationFailed, RateLimited, SocialError, Unavailable
from resonanz.core import outbound
from resonanz.core.errors import ActionError

log = logging.getLogger("resonanz.connectors.messenger")
MAX_MEDIA_BYTES = 25 * 1024 * 1024
STANDARD_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
IDENTITY = {"page": "facebook", "instagram": "instagram"}
COMMENT_FIELDS = {"page": "feed", "instagram": "comments"}
MODERATION = ("hide", "unhide", "delete")


@register("messenger")
class MessengerDriver(Driver):
    label = _("Facebook Messenger and Instagram")
    identity_kind = "facebook"
    # comments are public: a reply to one is public unless the agent chooses a private reply (a direct message)
    public = True
    private_replies = True
    moderates_comments = True
    reply_limit = 2000
    # the Send API's attachment upload (``filedata``): images and files up to 25 MB; comments take text only
    reply_media = {"image": (MAX_MEDIA_BYTES, ("image/jpeg", "image/png", "image/gif")),
                   "document": (MAX_MEDIA_BYTES, ())}
    describes_images = False
    accepts_push = True
    #: set when Meta refused the page token during this request (reading a post's context)
    token_refused = False
    settings_help = _("One Meta app for a Facebook Page and the Instagram professional account linked to it; "
                      "subscribe the app to the page's messages, message_deliveries and feed and to Instagram "
                      "messages and comments.")
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
        if not self.token_refused:  # a refused token found on the way stays on the channel's page
            record_ok(self.channel)
        return JsonResponse({"created": intake.created(results),
                             "refused": [str(r) for r in results if isinstance(r, ActionError)]})

    def parse(self, payload) -> list:
        if not isinstance(payload, dict) or payload.get("object") not in IDENTITY or \
                not isinstance(payload.get("entry"), list):
            raise ValueError('expected {"object": "page" or "instagram", "entry": [...]}')
        platform = payload["object"]
        items: list = []
        known = intake.stored(self.channel, _mids_with_files(payload["entry"]))
        for entry in payload["entry"]:
            for change in (entry.get("changes") if isinstance(entry, dict) else None) or []:
                if isinstance(change, dict) and change.get("field") == COMMENT_FIELDS[platform] and \
                        isinstance(change.get("value"), dict):
                    item = self.comment(platform, change["value"])
                    if item is not None:
                        items.append(item)
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
                if isinstance(message, dict) and not message.get("is_echo") and \
                        str(message.get("mid") or "")[:300] not in known:  # known: a redelivery, files fetched
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
        if not text.strip() and not attachments:  # a kind Resonanz does not read: shown by its raw name
            kinds = sorted(str(k)[:40] for k in message if k not in ("mid", "text", "attachments", "is_echo"))
            text = f"Unsupported content ({', '.join(kinds[:5]) or 'empty message'})"
        timestamp = event.get("timestamp")
        return InboundMessage(
            external_id=mid[:300], sender_handle=sender, text=text, attachments=attachments,
            identity_kind=IDENTITY[platform],
            sent_at=datetime.fromtimestamp(timestamp / 1000, tz=UTC) if isinstance(timestamp, int) else None,
            meta={"meta": {"platform": platform, "sender_id": sender,
                           "recipient_id": str((event.get("recipient") or {}).get("id") or "")}},
        )

    def comment(self, platform: str, value: dict) -> InboundMessage | SourceChange | None:
        """A comment on the page's post or the account's media as a public message (or its edit/removal)."""
        sender = value.get("from") if isinstance(value.get("from"), dict) else {}
        sender_id = str(sender.get("id") or "")
        own = self._setting("page_id") if platform == "page" else self._setting("instagram_id")
        if platform == "page":
            if value.get("item") != "comment":
                return None  # posts, reactions, shares: not addressed to the page's inbox
            comment_id, text = str(value.get("comment_id") or ""), str(value.get("message") or "")
            post_id = str(value.get("post_id") or "")
            verb = str(value.get("verb") or "add")
            post = value.get("post") if isinstance(value.get("post"), dict) else {}
            link = str(post.get("permalink_url") or "")
            name = str(sender.get("name") or "")
            sent_at = graph.timestamp(value.get("created_time"))
        else:
            comment_id, text = str(value.get("id") or ""), str(value.get("text") or "")
            media = value.get("media") if isinstance(value.get("media"), dict) else {}
            post_id, verb, link = str(media.get("id") or ""), "add", ""
            name, sent_at = str(sender.get("username") or ""), None
        if not comment_id:
            raise ValueError("a comment needs its id")
        if verb in ("remove", "edited"):
            return SourceChange(external_id=comment_id[:300], change="deleted" if verb == "remove" else "edited",
                                text=text)
        if verb != "add" or not sender_id or sender_id == own:
            return None  # hidden/unhidden notices and the page's own comments (our replies) are not news
        parent = str(value.get("parent_id") or "")
        thread = parent if parent and parent != post_id else comment_id
        context = self.post_context(platform, post_id)
        return InboundMessage(
            external_id=comment_id[:300], sender_handle=sender_id, sender_name=name[:200], text=text or "…",
            identity_kind=IDENTITY[platform], is_public=True, sent_at=sent_at, thread=post_id or thread,
            post={"text": context.get("text", ""), "link": context.get("link") or link,
                  "media": context.get("media") or []},
            in_reply_to=parent[:300] if thread != comment_id else "",
            sender_profile={"display_name": name} if name else {},
            meta={"meta": {"platform": platform, "kind": "comment", "sender_id": sender_id,
                           "comment_id": comment_id, "thread_id": thread, "post_id": post_id,
                           "post_text": context.get("text", "")[:500], "post_link": context.get("link") or link}},
        )

    def post_context(self, platform: str, post_id: str) -> dict:
        """The text, link and picture of the post (or Instagram media) a comment was written under, {} if not
        reachable."""
        if not post_id:
            return {}
        key = f"meta-post:{self.channel.pk}:{post_id}"
        found = cache.get(key)
        if found is not None:
            return found
        fields = "message,permalink_url,full_picture" if platform == "page" else \
            "caption,permalink,media_type,media_url,thumbnail_url"
        try:
            answer = self.client().call("GET", post_id, params={"fields": fields})
        except AuthenticationFailed as exc:  # revoked or expired (code 190): the comment is kept, the admin told
            self.token_refused = True
            record_health(self.channel, False, f"page token refused while reading a post: {exc}. Create a new page "
                                               "token and save it here; comments still arrive, their posts show "
                                               "again once the token works.", refused=True)
            return {}
        except (SocialError, DriverError, outbound.OutboundError) as exc:
            log.info("messenger %s: no context for %s: %s", self.channel.slug, post_id, exc)
            return {}
        record_token_works(self.channel)
        found = {"text": str(answer.get("message") or answer.get("caption") or ""),
                 "link": str(answer.get("permalink_url") or answer.get("permalink") or ""),
                 "media": _post_media(answer)}
        cache.set(key, found, 3600)
        return found

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
        last = self.answered_message(message)
        info = ((last.meta or {}).get("meta") or {}) if last else {}
        if not info.get("sender_id"):
            return SendResult("failed", detail="No Messenger or Instagram message to answer in this conversation "
                                               "(after a private reply to a comment, Meta lets the page write "
                                               "again once the customer answers).")
        files = self.files_of(message)
        if info.get("kind") == "comment":
            if files:
                return SendResult("failed", detail="Replies to comments carry text only; send the file in a direct "
                                                   "message once the customer writes to the page.")
            return self._answer_comment(message, info)
        since = (message.sent_at or datetime.now(UTC)) - (last.sent_at or last.created_at)
        body: dict = {"recipient": {"id": info["sender_id"]}, "message": {"text": message.text}}
        if since <= STANDARD_WINDOW:
            body["messaging_type"] = "RESPONSE"
        elif since <= HUMAN_AGENT_WINDOW:
            body |= {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
        else:
            return SendResult("failed", detail="More than 7 days since the customer's last message: Meta no "
                                               "longer lets the page answer until they write again.")
        if not files:
            return self._post_message(self._account(info), body)
        return self._send_files(self._account(info), body, files)

    def _send_files(self, account: str, body: dict, files: list[dict]) -> SendResult:
        """The text (a message of its own: Messenger takes text or an attachment), then each file uploaded with
        the Send API as ``filedata``."""
        first = self._post_message(account, body)
        if first.status != "sent":
            return first
        for item in files:
            kind = "image" if item["kind"] == "image" else "file"
            form = {"recipient": json.dumps(body["recipient"]), "messaging_type": body["messaging_type"],
                    "message": json.dumps({"attachment": {"type": kind, "payload": {"is_reusable": False}}})}
            if body.get("tag"):
                form["tag"] = body["tag"]
            result = self._graph_result(lambda form=form, item=item: self.client().call(
                "POST", f"{account}/messages", data=form,
                files={"filedata": (item["filename"], item["content"], item["content_type"])}), "message_id")
            if result.status != "sent":  # the text is out: never send it twice
                return SendResult("failed", external_id=first.external_id,
                                  detail=f"{item['filename']} was not sent: {result.detail}")
        return SendResult("sent", external_id=first.external_id, detail=f"{len(files) + 1} messages")

    def check_files(self, files: list[dict], conversation=None) -> str:
        last = (conversation.messages.filter(direction="inbound").order_by("-id").first()
                if conversation is not None else None)
        if files and last is not None and ((last.meta or {}).get("meta") or {}).get("kind") == "comment":
            return ("Replies to comments carry text only; send the file in a direct message once the customer "
                    "writes to the page.")
        return ""

    def _account(self, info: dict) -> str:
        return self._setting("instagram_id") if info.get("platform") == "instagram" and \
            self._setting("instagram_id") else self._setting("page_id")

    def _answer_comment(self, message, info: dict) -> SendResult:
        """A public answer in the comment's thread, or a private reply (a direct message) to the comment."""
        if not message.is_public:
            body = {"recipient": {"comment_id": info["comment_id"]}, "message": {"text": message.text}}
            answers: list[dict] = []

            def call() -> dict:
                answers.append(self.client().call("POST", f"{self._account(info)}/messages", json=body))
                return answers[-1]

            result = self._graph_result(call, "message_id")
            self._claim_recipient(message, info, answers)
            return result
        edge = "comments" if info.get("platform") == "page" else "replies"
        target = info.get("thread_id") or info["comment_id"]
        return self._graph_result(lambda: self.client().call("POST", f"{target}/{edge}",
                                                             json={"message": message.text}), "id")

    def _claim_recipient(self, message, info: dict, answers: list[dict]) -> None:
        """The Send API names the person a private reply reached by the id their direct messages come from
        (``recipient_id``, a page-scoped id that may differ from the comment's ``from.id``): that id is the
        commenter, so their answer lands on the same contact and in the private conversation of the reply."""
        recipient = str((answers[-1] if answers else {}).get("recipient_id") or "")
        contact_id = message.conversation.contact_id
        if recipient and recipient != info.get("sender_id") and contact_id:
            intake.submit(self.channel, [IdentityClaim(
                kind=IDENTITY.get(info.get("platform", "page"), "facebook"), handle=recipient, contact_id=contact_id,
                source=f"private reply to comment {info.get('comment_id', '')}")])

    def _post_message(self, account: str, body: dict) -> SendResult:
        return self._graph_result(lambda: self.client().call("POST", f"{account}/messages", json=body),
                                  "message_id")

    def _graph_result(self, call, id_key: str) -> SendResult:
        try:
            answer = call()
        except (RateLimited, Unavailable) as exc:
            return SendResult("retry", detail=str(exc))
        except AuthenticationFailed as exc:
            record_health(self.channel, False, f"page token refused: {exc}. Create a new page token and save it "
                                               "here; queued replies then go out.", refused=True)
            return SendResult("retry", detail=str(exc))
        except (SocialError, DriverError, outbound.OutboundError) as exc:
            return SendResult("failed", detail=str(exc))
        if not answer.get(id_key):
            return SendResult("failed", detail="Meta accepted the request but returned no id")
        return SendResult("sent", external_id=str(answer[id_key]))

    # --- moderation ------------------------------------------------------------------------------

    def moderate_comment(self, message, action: str) -> None:
        """Hide, show again or delete a customer's comment on the platform; raises DriverError saying why not."""
        info = (message.meta or {}).get("meta") or {}
        if info.get("kind") != "comment" or action not in MODERATION:
            raise DriverError("Only comments can be hidden or deleted.")
        comment = str(info["comment_id"])
        instagram = info.get("platform") == "instagram"
        try:
            if action == "delete":
                answer = self.client().call("DELETE", comment)
            else:
                flag = "true" if action == "hide" else "false"
                answer = self.client().call("POST", comment, params={"hide" if instagram else "is_hidden": flag})
        except AuthenticationFailed as exc:
            record_health(self.channel, False, f"page token refused: {exc}. Create a new page token and save it "
                                               "here.", refused=True)
            raise DriverError(f"Meta refused the page token ({exc}); an administrator must renew it.") from exc
        except (SocialError, outbound.OutboundError) as exc:
            raise DriverError(f"Meta did not {action} the comment: {exc}") from exc
        if answer.get("success") is not True:
            raise DriverError(f"Meta did not confirm that the comment was {action}d.")

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


def _mids_with_files(entries: list) -> list[str]:
    """The ids of the direct messages in a notification that carry files: the ones worth asking whether they
    are stored already before downloading anything."""
    mids = []
    for entry in entries:
        for event in (entry.get("messaging") if isinstance(entry, dict) else None) or []:
            message = event.get("message") if isinstance(event, dict) else None
            if isinstance(message, dict) and message.get("attachments") and message.get("mid"):
                mids.append(str(message["mid"])[:300])
    return mids


def _post_media(answer: dict) -> list[dict]:
    """The picture of a Page post (``full_picture``) or an Instagram media's file (a video's thumbnail first)."""
    if answer.get("full_picture"):
        return [{"url": str(answer["full_picture"]), "kind": "image"}]
    kind = str(answer.get("media_type") or "")
    if kind == "VIDEO":
        return [{"url": str(u), "kind": k} for u, k in ((answer.get("thumbnail_url"), "image"),
                                                         (answer.get("media_url"), "video")) if u]
    return [{"url": str(answer["media_url"]), "kind": "image"}] if answer.get("media_url") else []
