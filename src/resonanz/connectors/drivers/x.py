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

- media received: a post's photos in ``extended_entities.media[]`` (``type`` photo, video or animated_gif,
  ``media_url_https``), a direct message's in ``message_data.attachment.media`` (fetched with the account's
  token); photos are downloaded once per delivery, size-limited (RESONANZ_SOCIAL_MEDIA_MAX_BYTES) and stored as
  attachments, videos stay links, and a photo that cannot be fetched (expired, too large) is named in the text;
- media sent (https://docs.x.com/x-api/media/media-upload): ``POST /2/media/upload`` (multipart ``media``,
  ``media_category`` tweet_image or dm_image) answering ``{"data": {"id", "media_key"}}``, the alt text through
  ``POST /2/media/metadata``; a post carries up to four images (``media.media_ids``), a direct message one
  (``attachments[].media_id``). X has no documents: replies with one are refused before they are queued;
- recent search for listening (https://docs.x.com/x-api/posts/search-recent-posts): ``GET
  /2/tweets/search/recent`` with ``query``, ``since_id``, ``max_results``, ``next_token``, ``expansions=author_id``
  answering ``data`` (posts), ``includes.users`` and ``meta`` (``newest_id``, ``result_count``, ``next_token``).

Threads: a person's mentions and replies in one reply chain are one public conversation, in another chain
another. The chain is named by its root post, X's ``conversation_id`` (the id of the post that started it): taken
from the event when it carries one, else looked up once for the post a reply answers (``GET /2/tweets/:id`` with
``tweet.fields=conversation_id,author_id,text``, https://docs.x.com/x-api/posts/get-post-by-id) and kept in the
cache for a day, as is every received post's root, so a reply to a known post needs no call. The root post's
text, author and link are the conversation's context. A post that answers nothing starts its own chain; when the
lookup fails (rate limit, 5xx, deleted post) a stored parent's thread is taken (so one person's replies in a chain
still meet), else the post it answers stands in for the root.

Replies longer than 280 characters become a numbered thread (URLs count 23, as X counts them through t.co).
Each listening query of the channel is a source with its own cursor (the newest post id seen) in a
``SourceState``; what it finds goes to the listening stream as public posts with the author's reach. A rate limit
stops the search until ``x-rate-limit-reset`` and the channel says when the next call is allowed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from datetime import UTC, datetime

from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from resonanz.connectors import intake
from resonanz.connectors.actions import record_health, record_ok, record_rejected, record_token_works
from resonanz.connectors.drivers import register
from resonanz.connectors.drivers.base import (
    ChannelField,
    ConnectField,
    Driver,
    DriverError,
    InboundMessage,
    InboundPost,
    SendResult,
)
from resonanz.connectors.models import SourceState
from resonanz.connectors.social.errors import AuthenticationFailed, RateLimited, SocialError, Unavailable
from resonanz.connectors.social.http import json_body
from resonanz.connectors.social.split import split_reply
from resonanz.core import jsonsafe, outbound
from resonanz.core.errors import ActionError

log = logging.getLogger("resonanz.connectors.x")
API = "https://api.x.com"
LIMIT = 280
MAX_QUERIES = 20
MAX_QUERY_LENGTH = 512  # recent search's limit for a query
SEARCH_PAGES = 5  # at most 500 posts per query and poll; the rest follow on the next poll
ROOT_CACHE = 86_400  # seconds a post's root and context are kept
LOOKUP_FIELDS = {"tweet.fields": "conversation_id,author_id,text", "expansions": "author_id",
                 "user.fields": "username,name"}
SEARCH_FIELDS = {"max_results": "100", "tweet.fields": "created_at,lang,author_id", "expansions": "author_id",
                 "user.fields": "username,name,public_metrics"}


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
    # a mention can be answered privately: a direct message to its author, kept in their private conversation
    private_replies = True
    signs_replies = True
    reply_limit = LIMIT
    splits_replies = True
    accepts_push = True
    polls = True
    sends_images = True
    #: set when X refused the access token during this request (looking up a reply chain's root)
    token_refused = False
    reply_media = {"image": (5 * 1024 * 1024, ("image/jpeg", "image/png", "image/webp", "image/gif"))}
    connect_fields = (
        ConnectField("listen", _("Listen for"),
                     _("Recent-search queries in X's query syntax, one per line (for example: yourbrand -is:retweet "
                       "lang:de); matching public posts go to the listening stream."), lines=True, required=False),
    )
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

    def clean_settings(self, settings: dict) -> dict:
        return {**settings, "listen": queries(settings)} if "listen" in settings else settings

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
            record_rejected(self.channel, remote, reason)
            return JsonResponse({"error": "unauthorized", "detail": reason}, status=401)
        try:
            payload = jsonsafe.loads(request.body)
            items = self.parse(payload)
        except jsonsafe.UnsafeJSON as exc:
            return JsonResponse({"error": exc.message}, status=400)
        except ValueError as exc:
            return JsonResponse({"error": str(exc)}, status=400)
        results = intake.submit(self.channel, items)
        if not self.token_refused:  # a refused token found on the way stays on the channel's page
            record_ok(self.channel)
        return JsonResponse({"created": intake.created(results),
                             "refused": [str(r) for r in results if isinstance(r, ActionError)]})

    def parse(self, payload) -> list[InboundMessage]:
        if not isinstance(payload, dict) or "for_user_id" not in payload:
            raise ValueError("expected an account activity event with for_user_id")
        own = str(payload["for_user_id"])
        items: list[InboundMessage] = []
        known = self._known(payload)
        for tweet in payload.get("tweet_create_events") or []:
            user = tweet.get("user") if isinstance(tweet, dict) else None
            if not isinstance(user, dict) or not tweet.get("id_str"):
                raise ValueError("a tweet needs id_str and user")
            if str(user.get("id_str")) == own or tweet.get("retweeted_status"):
                continue  # our own posts and retweets are not addressed to us
            if str(tweet["id_str"]) in known:
                continue  # delivered again: stored, its photos fetched once
            text = str((tweet.get("extended_tweet") or {}).get("full_text") or tweet.get("text") or "")
            entities = [t.get("extended_entities") for t in (tweet.get("extended_tweet"), tweet) if isinstance(t, dict)]
            media = next((e["media"] for e in entities if isinstance(e, dict) and isinstance(e.get("media"), list)), [])
            attachments, text = self._media(media, text, private=False)
            parent = str(tweet.get("in_reply_to_status_id_str") or "")
            root, context = self.thread_of(str(tweet["id_str"]), parent, str(tweet.get("conversation_id") or ""),
                                           known.get(parent, ""))
            items.append(InboundMessage(
                external_id=str(tweet["id_str"]), sender_handle=str(user.get("screen_name") or user.get("id_str")),
                sender_name=str(user.get("name") or "")[:200], text=text, is_public=True, attachments=attachments,
                in_reply_to=parent, sent_at=_tweet_time(tweet.get("created_at")), thread=root, post=context,
                meta={"x": {"kind": "mention", "user_id": str(user.get("id_str")), "conversation_id": root}},
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
            if sender == own or f"dm:{event['id']}" in known:
                continue  # our own, or delivered again: stored, its media fetched once
            user = users.get(sender) if isinstance(users.get(sender), dict) else {}
            stamp = event.get("created_timestamp")
            data = create.get("message_data") if isinstance(create.get("message_data"), dict) else {}
            attachment = data.get("attachment") if isinstance(data.get("attachment"), dict) else {}
            media = [attachment["media"]] if isinstance(attachment.get("media"), dict) else []
            attachments, text = self._media(media, str(data.get("text") or ""), private=True)
            if not text.strip() and not attachments:  # a kind Resonanz does not read: shown by its raw name
                text = f"Unsupported content ({str(attachment.get('type') or 'empty message')[:40]})"
            items.append(InboundMessage(
                external_id=f"dm:{event['id']}", sender_handle=str(user.get("screen_name") or sender),
                sender_name=str(user.get("name") or "")[:200], attachments=attachments,
                text=text, is_public=False,
                sent_at=datetime.fromtimestamp(int(stamp) / 1000, tz=UTC) if str(stamp or "").isdigit() else None,
                meta={"x": {"kind": "dm", "user_id": sender}}))
        return items

    def thread_of(self, tweet_id: str, parent: str, given: str = "", parent_thread: str = "") -> tuple[str, dict]:
        """(root post id, the root post's context) of a received post: ``given`` (the event's conversation_id),
        the root known for the post it answers (cached, or the thread of its stored conversation:
        ``parent_thread``), or that post's ``conversation_id`` asked of X; when X cannot tell (rate limit, 5xx,
        deleted) the post it answers stands in. A post that answers nothing is its own root (and needs no
        context: it is the message itself)."""
        if not parent:
            root, context = given or tweet_id, {}
        else:
            root = given or (cache.get(self._root_key(parent)) or {}).get("root") or parent_thread or \
                self._look_up(parent).get("root") or parent
            # the root's own entry (cached by the parent's lookup when the parent is the root); a post received
            # here has only its root cached: it is in the inbox already and needs no context
            about = cache.get(self._root_key(root)) or self._look_up(root)
            context = {k: about[k] for k in ("text", "link", "author") if about.get(k)}
        cache.add(self._root_key(tweet_id), {"root": root}, ROOT_CACHE)  # never overwrites a looked-up entry
        return root, context

    def _known(self, payload: dict) -> dict[str, str]:
        """The event's posts, direct messages and answered posts that are stored already (id -> their thread):
        one query for the whole event, before any photo is downloaded or root looked up."""
        tweets = [t for t in payload.get("tweet_create_events") or [] if isinstance(t, dict)]
        dms = [e for e in payload.get("direct_message_events") or [] if isinstance(e, dict) and e.get("id")]
        return intake.stored(self.channel, [*(str(t.get(k) or "") for t in tweets
                                              for k in ("id_str", "in_reply_to_status_id_str")),
                                            *(f"dm:{e['id']}" for e in dms)])

    def _root_key(self, tweet_id: str) -> str:
        return f"x-root:{self.channel.pk}:{tweet_id}"[:250]

    def _look_up(self, tweet_id: str) -> dict:
        """A post's root and what it says (cached), {} when X cannot tell (rate limit, deleted, no token)."""
        if not tweet_id.isdigit():
            return {}
        try:
            payload = self._request("GET", f"/2/tweets/{tweet_id}", params=LOOKUP_FIELDS)
        except AuthenticationFailed as exc:  # revoked or expired: the post is kept, the administrator told
            self.token_refused = True
            record_health(self.channel, False, f"access token refused while looking up a post: {exc}. Authorize "
                                               "the account again and save the new token here; posts still "
                                               "arrive, their threads' posts show again once the token works.", refused=True)
            return {}
        except (SocialError, DriverError, ValueError, outbound.OutboundError) as exc:
            log.info("x %s: no root for post %s: %s", self.channel.slug, tweet_id, exc)
            return {}
        record_token_works(self.channel)
        data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
        if str(data.get("id") or "") != tweet_id:
            return {}
        users = (payload.get("includes") or {}).get("users") if isinstance(payload.get("includes"), dict) else []
        user = next((u for u in users or [] if isinstance(u, dict) and str(u.get("id")) == str(data.get("author_id"))),
                    {})
        handle = str(user.get("username") or "")
        found = {"id": tweet_id, "root": str(data.get("conversation_id") or tweet_id), "text": str(data.get("text") or ""),
                 "author": f"{user.get('name') or handle} (@{handle})" if handle else "",
                 "link": f"https://x.com/{handle or 'i/web'}/status/{tweet_id}"}
        cache.set(self._root_key(tweet_id), found, ROOT_CACHE)
        return found

    def _media(self, media: list, text: str, *, private: bool) -> tuple[list[dict], str]:
        """The photos of a post or direct message as attachments (downloaded once, size-limited); videos and
        photos that cannot be fetched are named in the text, so nothing the customer sent goes unseen."""
        from resonanz.connectors.drivers.social_common import media_limit

        attachments, notes = [], []
        for item in media[:4]:
            if not isinstance(item, dict):
                continue
            kind, url = str(item.get("type") or "media"), str(item.get("media_url_https") or "")
            shown = str(item.get("expanded_url") or url)
            if kind != "photo" or not url:
                notes.append(f"[{kind}] {shown}".strip())
                continue
            try:
                headers = {"Authorization": f"Bearer {self.channel.credentials.get('access_token') or ''}"} \
                    if private else {}  # a direct message's media are fetched as the account
                response = outbound.get(url, stream=True, timeout=(5, 30), headers=headers)
                if response.status_code >= 400:
                    response.close()
                    raise ValueError(f"the file answered {response.status_code}")
                content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
                if not content_type.startswith("image/"):
                    response.close()
                    raise ValueError(f"not an image ({content_type or 'no type'})")
                content = outbound.read_limited(response, media_limit())
            except (outbound.OutboundError, ValueError) as exc:
                log.info("x %s: photo %s not downloaded: %s", self.channel.slug, url, exc)
                notes.append(f"[photo] (not downloaded: {str(exc)[:150]})")
                continue
            name = url.split("?")[0].rstrip("/").rsplit("/", 1)[-1][:100] or "photo"
            attachments.append({"filename": name, "content_type": content_type, "content": content,
                                "source_url": shown})
        if notes:
            text = (text + "\n" if text else "") + "\n".join(notes)
        return attachments, text

    # --- listening: recent search ----------------------------------------------------------------

    def poll(self) -> int:
        """Run every listening query from its cursor; a rate limit stops the rest until X's reset time."""
        new, failures = 0, []
        for query in queries(self.channel.settings or {}):
            state, _created = SourceState.objects.get_or_create(
                channel=self.channel, key=f"x-search:{query}"[:2000], defaults={"title": f"X: {query}"[:300]})
            waiting = (state.cursor or {}).get("wait_until")
            if waiting and datetime.fromisoformat(waiting) > timezone.now():
                failures.append(f"{query}: X rate limit, the next call is allowed at {waiting[11:19]} UTC")
                continue
            try:
                new += self._search(state, query)
            except RateLimited as exc:
                state.cursor = {**(state.cursor or {}), "wait_until": exc.reset_at.isoformat()}
                _failed(state, f"rate limit reached; the next call is allowed at {exc.reset_at:%H:%M:%S} UTC")
                raise DriverError(f"X rate limit: the next call is allowed at {exc.reset_at:%Y-%m-%d %H:%M:%S} "
                                  f"UTC ({new} new posts before)") from None
            except AuthenticationFailed as exc:
                _failed(state, str(exc))
                raise DriverError(f"X refused the access token ({exc}); authorize the account again and save the "
                                  "new token here. Searching resumes from where it stopped.") from None
            except (SocialError, DriverError, ValueError, outbound.OutboundError) as exc:
                _failed(state, str(exc))
                failures.append(f"{query}: {exc}")
        if failures:
            raise DriverError(f"{len(failures)} search(es) failed ({new} new posts from the others): "
                              + "; ".join(failures)[:1500])
        return new

    def _search(self, state: SourceState, query: str) -> int:
        cursor = dict(state.cursor or {})
        cursor.pop("wait_until", None)
        params = {**SEARCH_FIELDS, "query": query}
        if cursor.get("since_id"):
            params["since_id"] = cursor["since_id"]
        posts, newest = [], None
        for _page in range(SEARCH_PAGES):
            payload = self._request("GET", "/2/tweets/search/recent", params=params)
            meta = payload.get("meta") if isinstance(payload.get("meta"), dict) else {}
            newest = newest or meta.get("newest_id")
            posts.extend(self._posts(payload, query))
            if not meta.get("next_token"):
                break
            params = {**params, "next_token": meta["next_token"]}
        with transaction.atomic():  # the posts and the cursor past them are stored together
            results = intake.submit(self.channel, posts) if posts else []
            state.cursor = {**cursor, "since_id": str(newest or cursor.get("since_id") or "")}
            state.items_seen += len(posts)
            state.last_fetched_at = state.last_ok_at = timezone.now()
            state.last_status, state.consecutive_errors, state.last_error = 200, 0, ""
            state.save()
        record_ok(self.channel)
        return intake.created(results)

    def _posts(self, payload: dict, query: str) -> list[InboundPost]:
        users = {str(u.get("id")): u for u in (payload.get("includes") or {}).get("users") or []
                 if isinstance(u, dict)} if isinstance(payload.get("includes"), dict) else {}
        found = []
        for post in payload.get("data") or []:
            if not isinstance(post, dict) or not str(post.get("id") or "").isdigit():
                continue
            if str(post.get("author_id")) == self._setting("user_id"):
                continue  # our own posts are not what people say about us
            user = users.get(str(post.get("author_id")), {})
            handle = str(user.get("username") or post.get("author_id") or "")
            metrics = user.get("public_metrics") if isinstance(user.get("public_metrics"), dict) else {}
            followers = metrics.get("followers_count")
            found.append(InboundPost(
                external_id=f"x:{post['id']}", text=str(post.get("text") or ""),
                author=str(user.get("name") or handle)[:200], author_handle=handle[:200],
                link=f"https://x.com/{handle}/status/{post['id']}", published_at=_iso_time(post.get("created_at")),
                source=f"x:{query}"[:300], source_title=f"{self.channel.name}: {query}"[:300],
                language=str(post.get("lang") or "")[:10] if post.get("lang") not in ("und", "zxx") else "",
                reach=followers if isinstance(followers, int) else None,
                meta={"network": "x", "query": query, "author_id": str(post.get("author_id") or "")}))
        return found

    # --- sending ---------------------------------------------------------------------------------

    def send(self, message) -> SendResult:
        last = self.answered_message(message)
        info = ((last.meta or {}).get("x") or {}) if last else {}
        if not info:
            return SendResult("failed", detail="No X post or direct message to answer in this conversation.")
        files = self.files_of(message)
        try:
            if info.get("kind") == "dm" or not message.is_public:
                body: dict = {"text": message.text}
                if files:
                    body["attachments"] = [{"media_id": self._upload(files[0], "dm_image")}]
                answer = self._call("POST", f"/2/dm_conversations/with/{info['user_id']}/messages", body)
                return SendResult("sent", external_id="dm:" + str(answer.get("dm_event_id") or ""))
            media = [self._upload(f, "tweet_image") for f in files]
            parent, posted = last.external_id, []
            root = str(info.get("conversation_id") or "")
            for part in split_reply(message.text, LIMIT):
                post: dict = {"text": part, "reply": {"in_reply_to_tweet_id": parent}}
                if media and not posted:  # the images go with the first post of the thread
                    post["media"] = {"media_ids": media}
                answer = self._call("POST", "/2/tweets", post)
                parent = str(answer.get("id") or "")
                posted.append(parent)
                if root:  # the customer's answer to our post is known to be in the same chain: no lookup
                    cache.add(self._root_key(parent), {"root": root}, ROOT_CACHE)
            return SendResult("sent", external_id=posted[0], detail=f"thread of {len(posted)}" if len(posted) > 1 else "")
        except RateLimited as exc:
            record_health(self.channel, False, f"X rate limit: the next call is allowed at "
                                               f"{exc.reset_at:%Y-%m-%d %H:%M:%S} UTC")
            return SendResult("retry", detail=str(exc))
        except Unavailable as exc:
            return SendResult("retry", detail=str(exc))
        except AuthenticationFailed as exc:
            record_health(self.channel, False, f"access token refused: {exc}. Authorize the account again and "
                                               "save the new token here; queued replies then go out.", refused=True)
            return SendResult("retry", detail=str(exc))
        except (SocialError, DriverError, ValueError, outbound.OutboundError) as exc:
            return SendResult("failed", detail=str(exc))

    def check_files(self, files: list[dict], conversation=None) -> str:
        if len(files) > 4:
            return "An X post carries at most four images."
        last = (conversation.messages.filter(direction="inbound").order_by("-id").first()
                if conversation is not None else None)
        if len(files) > 1 and last is not None and ((last.meta or {}).get("x") or {}).get("kind") == "dm":
            return "An X direct message carries one image; send the others one by one."
        return ""

    def _upload(self, item: dict, category: str) -> str:
        """One image uploaded (with its alt text); returns the media id a post or direct message names."""
        token = self.channel.credentials.get("access_token") or ""
        base = self._setting("api_base") or API
        outbound.check_url(base)
        try:
            response = outbound.request("POST", base.rstrip("/") + "/2/media/upload", timeout=(5, 60),
                                        headers={"Authorization": f"Bearer {token}"},
                                        data={"media_category": category},
                                        files={"media": (item["filename"], item["content"], item["content_type"])})
        except outbound.RefusedURL:
            raise
        except outbound.OutboundError as exc:
            raise Unavailable(str(exc)) from exc
        payload = self._checked(response)
        media_id = str((payload.get("data") or {}).get("id") or "") if isinstance(payload.get("data"), dict) else ""
        if not media_id:
            raise DriverError(f"X accepted {item['filename']} but returned no media id")
        if item.get("alt"):
            self._request("POST", "/2/media/metadata",
                          {"id": media_id, "metadata": {"alt_text": {"text": item["alt"][:1000]}}})
        return media_id

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        payload = self._request(method, path, body)
        if not isinstance(payload.get("data"), dict):
            raise DriverError(f"X answered without data: {str(payload)[:300]}")
        return payload["data"]

    def _request(self, method: str, path: str, body: dict | None = None, *, params: dict | None = None) -> dict:
        token = self.channel.credentials.get("access_token") or ""
        if not token:
            raise DriverError("The channel has no user access token.")
        base = self._setting("api_base") or API
        outbound.check_url(base)
        try:
            response = outbound.request(method, base.rstrip("/") + path, json=body, params=params, timeout=(5, 20),
                                        headers={"Authorization": f"Bearer {token}"})
        except outbound.RefusedURL:
            raise
        except outbound.OutboundError as exc:
            raise Unavailable(str(exc), may_have_posted=method != "GET") from exc
        return self._checked(response, write=method != "GET")

    @staticmethod
    def _checked(response, *, write: bool = True) -> dict:
        """The answer's JSON, or the typed failure: rate limit (with X's reset time), token, passing, refused."""
        payload = json_body(response, write=write)
        if response.status_code == 429:
            reset = response.headers.get("x-rate-limit-reset") or ""
            at = datetime.fromtimestamp(int(reset), tz=UTC) if reset.isdigit() else datetime.now(UTC)
            raise RateLimited("rate limit reached", reset_at=at, status=429)
        if response.status_code == 401:
            raise AuthenticationFailed(str(payload)[:300], status=401)
        if response.status_code >= 500:
            raise Unavailable(f"X answered {response.status_code}", status=response.status_code)
        if response.status_code >= 400 or not isinstance(payload, dict):
            detail = payload.get("detail") or payload.get("title") if isinstance(payload, dict) else ""
            raise DriverError(f"X refused the request ({response.status_code}): {detail or payload}"[:500])
        return payload

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


def queries(settings: dict) -> list[str]:
    """The channel's listening queries (one per line or a list), checked against recent search's limits."""
    raw = settings.get("listen") or []
    if isinstance(raw, str):
        raw = raw.splitlines()
    found = list(dict.fromkeys(" ".join(str(q).split()) for q in raw if str(q).strip()))
    for query in found:
        if len(query) > MAX_QUERY_LENGTH:
            raise DriverError(f"An X search query is at most {MAX_QUERY_LENGTH} characters long: {query[:60]}…")
    if len(found) > MAX_QUERIES:
        raise DriverError(f"At most {MAX_QUERIES} listening queries per channel.")
    return found


def _failed(state: SourceState, detail: str) -> None:
    state.last_error, state.last_error_at = detail[:2000], timezone.now()
    state.consecutive_errors += 1
    state.save()


def _iso_time(value) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
