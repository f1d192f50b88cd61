"""X (formerly Twitter): mentions and direct messages of the company account through the Account Activity
webhook; public replies threaded under the customer's post and direct replies through API v2.

Documentation followed:
- Account Activity API: the CRC check ``GET ?crc_token=…`` answered ``{"response_token": "sha256=<base64
  HMAC-SHA256(consumer secret, crc_token)>"}``; every event POST signed ``x-twitter-webhooks-signature:
  sha256=<base64 HMAC-SHA256(consumer secret, raw body)>``; bodies with ``for_user_id`` and
  ``tweet_create_events`` (Tweet objects: ``id_str``, ``text``, ``user``, ``in_reply_to_status_id_str``) or
  ``direct_message_events`` (``type: message_create``, ``message_create.sender_id``, ``message_data.text``)
  and ``users``;
- API v2: ``POST /2/tweets`` with ``reply.in_reply_to_tweet_id`` and ``POST
  /2/dm_conversations/with/:participant_id/messages``, both answering ``{"data": …}``; rate limits in
  ``x-rate-limit-remaining`` / ``x-rate-limit-reset`` (unix seconds); 429 when exhausted.

Replies longer than 280 characters become a numbered thread (URLs count 23, as X counts them through t.co).
Recent search for listening queries is not part of this driver yet.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from datetime import UTC, datetime

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext_lazy as _

from resonanz.connectors import intake
from resonanz.connectors.actions import record_health, record_ok
from resonanz.connectors.drivers import register
from resonanz.connectors.drivers.base import ChannelField, Driver, DriverError, InboundMessage, SendResult
from resonanz.connectors.social.errors import AuthenticationFailed, RateLimited, SocialError, Unavailable
from resonanz.connectors.social.http import json_body
from resonanz.connectors.social.split import split_reply
from resonanz.core import jsonsafe, outbound
from resonanz.core.errors import ActionError

log = logging.getLogger("resonanz.connectors.x")
API = "https://api.x.com"
LIMIT = 280


def crc_response(consumer_secret: str, crc_token: str) -> str:
    mac = hmac.new(consumer_secret.encode(), crc_token.encode(), hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(mac).decode()


def signature(consumer_secret: str, body: bytes) -> str:
    return "sha256=" + base64.b64encode(hmac.new(consumer_secret.encode(), body, hashlib.sha256).digest()).decode()


def _tweet_time(value) -> datetime | None:
    try:
        return datetime.strptime(str(value), "%a %b %d %H:%M:%S %z %Y")
    except ValueError:
        return None


@register("x")
class XDriver(Driver):
    label = _("X (Twitter)")
    identity_kind = "twitter"
    public = True
    signs_replies = True
    reply_limit = LIMIT
    splits_replies = True
    accepts_push = True
    settings_help = _("Register this channel's webhook address with the Account Activity API and subscribe the "
                      "company account; the user id is the account's numeric id.")
    fields = (
        ChannelField("user_id", _("Account user ID"), _("The company account's numeric id (for_user_id).")),
        ChannelField("consumer_secret", _("API key secret"),
                     _("Developer portal → your app → Keys and tokens → API Key and Secret; it signs the webhook."),
                     secret=True),
        ChannelField("access_token", _("User access token"),
                     _("An OAuth 2.0 user token of the company account with tweet.write and dm.write."),
                     secret=True),
        ChannelField("api_base", _("API address"), _("Leave as it is."), required=False, initial=API),
    )

    def _setting(self, name: str) -> str:
        return str((self.channel.settings or {}).get(name) or "").strip()

    # --- receiving -------------------------------------------------------------------------------

    def handle_request(self, request: HttpRequest) -> HttpResponse:
        secret = self.channel.credentials.get("consumer_secret") or ""
        if request.method == "GET":
            token = request.GET.get("crc_token") or ""
            if not secret or not token or len(token) > 500:
                return JsonResponse({"error": "crc_token required"}, status=400)
            return JsonResponse({"response_token": crc_response(secret, token)})
        if request.method != "POST":
            return JsonResponse({"error": "POST an event"}, status=405, headers={"Allow": "GET, POST"})
        given = request.headers.get("x-twitter-webhooks-signature") or ""
        if not secret or not hmac.compare_digest(signature(secret, request.body).encode(),
                                                 given.strip().encode("utf-8", "replace")):
            remote = request.META.get("REMOTE_ADDR", "")
            reason = "missing signature" if not given else "wrong signature"
            log.warning("x %s rejected a request from %s: %s", self.channel.slug, remote, reason)
            record_health(self.channel, False, f"webhook request from {remote} rejected: {reason}")
            return JsonResponse({"error": "unauthorized", "detail": reason}, status=401)
        try:
            payload = jsonsafe.loads(request.body)
            items = self.parse(payload)
        except jsonsafe.UnsafeJSON as exc:
            return JsonResponse({"error": exc.message}, status=400)
        except ValueError as exc:
            return JsonResponse({"error": str(exc)}, status=400)
        results = intake.submit(self.channel, items)
        record_ok(self.channel)
        return JsonResponse({"created": intake.created(results),
                             "refused": [str(r) for r in results if isinstance(r, ActionError)]})

    def parse(self, payload) -> list[InboundMessage]:
        if not isinstance(payload, dict) or "for_user_id" not in payload:
            raise ValueError("expected an account activity event with for_user_id")
        own = str(payload["for_user_id"])
        items: list[InboundMessage] = []
        for tweet in payload.get("tweet_create_events") or []:
            user = tweet.get("user") if isinstance(tweet, dict) else None
            if not isinstance(user, dict) or not tweet.get("id_str"):
                raise ValueError("a tweet needs id_str and user")
            if str(user.get("id_str")) == own or tweet.get("retweeted_status"):
                continue  # our own posts and retweets are not addressed to us
            text = str((tweet.get("extended_tweet") or {}).get("full_text") or tweet.get("text") or "")
            items.append(InboundMessage(
                external_id=str(tweet["id_str"]), sender_handle=str(user.get("screen_name") or user.get("id_str")),
                sender_name=str(user.get("name") or "")[:200], text=text, is_public=True,
                in_reply_to=str(tweet.get("in_reply_to_status_id_str") or ""), sent_at=_tweet_time(tweet.get("created_at")),
                meta={"x": {"kind": "mention", "user_id": str(user.get("id_str"))}},
                sender_profile={"display_name": str(user.get("name") or ""), "followers": user.get("followers_count"),
                                "url": f"https://x.com/{user.get('screen_name')}"}))
        users = payload.get("users") if isinstance(payload.get("users"), dict) else {}
        for event in payload.get("direct_message_events") or []:
            if not isinstance(event, dict) or event.get("type") != "message_create":
                continue
            create = event.get("message_create") or {}
            sender = str(create.get("sender_id") or "")
            if not sender or not event.get("id"):
                raise ValueError("a direct message needs id and message_create.sender_id")
            if sender == own:
                continue
            user = users.get(sender) if isinstance(users.get(sender), dict) else {}
            stamp = event.get("created_timestamp")
            items.append(InboundMessage(
                external_id=f"dm:{event['id']}", sender_handle=str(user.get("screen_name") or sender),
                sender_name=str(user.get("name") or "")[:200],
                text=str((create.get("message_data") or {}).get("text") or ""), is_public=False,
                sent_at=datetime.fromtimestamp(int(stamp) / 1000, tz=UTC) if str(stamp or "").isdigit() else None,
                meta={"x": {"kind": "dm", "user_id": sender}}))
        return items

    # --- sending ---------------------------------------------------------------------------------

    def send(self, message) -> SendResult:
        last = (message.conversation.messages.filter(channel=message.channel_id, direction="inbound")
                .order_by("-id").first())
        info = ((last.meta or {}).get("x") or {}) if last else {}
        if not info:
            return SendResult("failed", detail="No X post or direct message to answer in this conversation.")
        try:
            if info.get("kind") == "dm" or not message.is_public:
                answer = self._call("POST", f"/2/dm_conversations/with/{info['user_id']}/messages",
                                    {"text": message.text})
                return SendResult("sent", external_id="dm:" + str(answer.get("dm_event_id") or ""))
            parent, posted = last.external_id, []
            for part in split_reply(message.text, LIMIT):
                answer = self._call("POST", "/2/tweets", {"text": part, "reply": {"in_reply_to_tweet_id": parent}})
                parent = str(answer.get("id") or "")
                posted.append(parent)
            return SendResult("sent", external_id=posted[0], detail=f"thread of {len(posted)}" if len(posted) > 1 else "")
        except RateLimited as exc:
            record_health(self.channel, False, f"X rate limit: the next call is allowed at "
                                               f"{exc.reset_at:%Y-%m-%d %H:%M:%S} UTC")
            return SendResult("retry", detail=str(exc))
        except Unavailable as exc:
            return SendResult("retry", detail=str(exc))
        except AuthenticationFailed as exc:
            record_health(self.channel, False, f"access token refused: {exc}. Authorize the account again and "
                                               "save the new token here; queued replies then go out.")
            return SendResult("retry", detail=str(exc))
        except (SocialError, DriverError, ValueError, outbound.OutboundError) as exc:
            return SendResult("failed", detail=str(exc))

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        token = self.channel.credentials.get("access_token") or ""
        if not token:
            raise DriverError("The channel has no user access token.")
        base = self._setting("api_base") or API
        outbound.check_url(base)
        try:
            response = outbound.request(method, base.rstrip("/") + path, json=body, timeout=(5, 20),
                                        headers={"Authorization": f"Bearer {token}"})
        except outbound.RefusedURL:
            raise
        except outbound.OutboundError as exc:
            raise Unavailable(str(exc), may_have_posted=method != "GET") from exc
        payload = json_body(response, write=method != "GET")
        if response.status_code == 429:
            reset = response.headers.get("x-rate-limit-reset") or ""
            at = datetime.fromtimestamp(int(reset), tz=UTC) if reset.isdigit() else datetime.now(UTC)
            raise RateLimited("rate limit reached", reset_at=at, status=429)
        if response.status_code == 401:
            raise AuthenticationFailed(str(payload)[:300], status=401)
        if response.status_code >= 500:
            raise Unavailable(f"X answered {response.status_code}", status=response.status_code)
        if response.status_code >= 400 or not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
            detail = payload.get("detail") or payload.get("title") if isinstance(payload, dict) else ""
            raise DriverError(f"X refused the request ({response.status_code}): {detail or payload}"[:500])
        return payload["data"]

    def check_connection(self) -> tuple[bool, str]:
        try:
            me = self._call("GET", "/2/users/me")
        except AuthenticationFailed as exc:
            return False, f"The access token was refused ({exc})."
        except (SocialError, DriverError, outbound.OutboundError) as exc:
            return False, str(exc)
        if self._setting("user_id") and str(me.get("id")) != self._setting("user_id"):
            return False, f"The token belongs to @{me.get('username')}, not to user id {self._setting('user_id')}."
        return True, f"@{me.get('username')}; webhook (CRC) at /hooks/{self.channel.slug}/"
