"""What the Mastodon and Bluesky drivers share: sources with cursors, backoff, reply threads, outcomes.

This module registers no kind. A social driver lists its *sources* (the account's mentions, its direct
messages, one per listening query); ``poll`` reads each from the cursor kept in its ``SourceState``, hands
what is new to the intake and records how the fetch went, so the channel page shows every source's state.
A rate limit stops the poll until the server's reset time (kept on the channel's "account" source and shown
as its error), an expired token stops it with a message to re-connect, and any other failure of one source
never stops the others.

Sending threads a reply under the latest message the customer sent in the conversation, with the customer
mentioned in every part, split at sentence ends to the network's limit (or refused, as the channel says)
and signed at the end of the last part. Every part has a key that is the same on every delivery attempt
(Mastodon's Idempotency-Key, a Bluesky record key), so a retry after a timeout never posts twice.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from resonanz.connectors import intake
from resonanz.connectors.drivers.base import (
    ConnectField,
    Driver,
    DriverError,
    InboundMessage,
    InboundPost,
    SendResult,
)
from resonanz.connectors.models import SourceState
from resonanz.connectors.social.errors import (
    AuthenticationFailed,
    NotFound,
    RateLimited,
    Rejected,
    SocialError,
    Unavailable,
)
from resonanz.connectors.social.models import Post, Profile
from resonanz.connectors.social.split import COUNTERS, ReplyTooLong, split_reply
from resonanz.core import outbound
from resonanz.core.errors import ActionError

log = logging.getLogger("resonanz.connectors.social")
ACCOUNT = "account"  # the SourceState that keeps the connected account and the channel's backoff
SIGNATURE = re.compile(r"\s\^[^\s^]{1,6}$")
MAX_QUERIES = 20
MAX_MEDIA = 4  # images per post on both networks
BLOCKS_REFRESH = timedelta(minutes=10)  # how often the account's blocks and mutes are read again
LISTEN_FIELD = ConnectField("listen", _("Listen for"), _("Hashtags (#yourbrand) and keywords, one per line: public "
                                                        "posts that match go to the listening stream."),
                            lines=True, required=False)
LONG_REPLIES_FIELD = ConnectField("long_replies", _("Replies longer than one post"),
                                  choices=(("split", _("split into a numbered thread")),
                                           ("refuse", _("refuse; the agent shortens them"))), required=False)
IGNORE_FIELD = ConnectField("ignore", _("Ignore these accounts"), _("Handles whose posts are ignored, one per line."),
                            lines=True, required=False)

Fetch = Callable[[str | None], tuple[list, str | None]]


def split_signature(text: str) -> tuple[str, str]:
    """("body", " ^AB"): the initials ``Driver.sign`` appended, kept apart so they end the last part."""
    match = SIGNATURE.search(text)
    return (text[:match.start()], match.group()) if match else (text, "")


def profile_data(profile: Profile) -> dict:
    """What the CRM keeps on the sender's identity (reach for routing rules and PR)."""
    data = {"display_name": profile.display_name, "avatar_url": profile.avatar_url, "bio": profile.bio,
            "url": profile.url, "id": profile.external_id}
    if profile.followers is not None:
        data["followers"] = profile.followers
    return {k: v for k, v in data.items() if v not in ("", None)}


def query_list(settings: dict) -> list[str]:
    """The channel's listening queries: "#hashtag" or keywords, from a list or one per line/comma."""
    raw = (settings or {}).get("listen") or []
    if isinstance(raw, str):
        raw = re.split(r"[\n,]", raw)
    if not isinstance(raw, list):
        raise DriverError('"listen" must be a list of hashtags or keywords, e.g. ["#resonanz", "Resonanz"].')
    queries = list(dict.fromkeys(" ".join(str(q).split()) for q in raw if str(q).strip()))
    for query in queries:
        if query.startswith("#") and not re.fullmatch(r"#\w+", query):
            raise DriverError(f"{query!r} is not a hashtag: letters, digits and _ only after the #.")
        if len(query) > 200:
            raise DriverError("A listening query is at most 200 characters long.")
    if len(queries) > MAX_QUERIES:
        raise DriverError(f"At most {MAX_QUERIES} listening queries per channel.")
    return queries


class SocialDriver(Driver):
    """Base of the social network drivers; subclasses give the client, sources and network calls."""

    public = True
    signs_replies = True
    private_replies = True
    sends_images = True
    polls = True
    #: the splitter's way of counting ("mastodon" or "bluesky")
    network: ClassVar[str] = ""
    default_limit: ClassVar[int] = 500

    # --- configuration ----------------------------------------------------------------------------

    @property
    def settings(self) -> dict:
        return self.channel.settings or {}

    @property
    def splits_replies(self) -> bool:  # type: ignore[override]
        return self.settings.get("long_replies", "split") != "refuse"

    @property
    def reply_limit(self) -> int:  # type: ignore[override]
        """The settings' ``max_characters``, else what the server reported at the last check, else the default."""
        value = self.settings.get("max_characters")
        if not value:
            state = SourceState.objects.filter(channel=self.channel, key=ACCOUNT).only("cursor").first()
            value = (state.cursor or {}).get("max_characters") if state else None
        try:
            return int(value or self.default_limit)
        except (TypeError, ValueError):
            return self.default_limit

    def ignored(self) -> set[str]:
        """Accounts whose posts are ignored (blocked or muted here), by handle, without the @."""
        raw = self.settings.get("ignore") or []
        if isinstance(raw, str):
            raw = re.split(r"[\s,]+", raw)
        return {str(h).strip().lstrip("@").lower() for h in raw if str(h).strip()}

    def server_url(self, key: str) -> str:
        url = str(self.settings.get(key) or "").strip().rstrip("/")
        if not url:
            raise DriverError("The channel has no server address yet; enter it in the channel settings.")
        try:
            outbound.check_url(url)
        except outbound.RefusedURL as exc:
            raise DriverError(exc.message) from None
        return url

    def secret(self, key: str) -> str:
        value = str(self.channel.credentials.get(key) or "")
        if not value:
            raise DriverError("The channel has no credentials yet; enter them in the channel settings.")
        return value

    # --- the connected account --------------------------------------------------------------------

    def _account_state(self) -> SourceState:
        state, _ = SourceState.objects.get_or_create(channel=self.channel, key=ACCOUNT,
                                                     defaults={"title": "account"})
        return state

    def connected_account(self) -> dict | None:
        state = SourceState.objects.filter(channel=self.channel, key=ACCOUNT).first()
        account = (state.cursor or {}).get("profile") if state else None
        return account or None

    def account(self, client) -> dict:
        """The account this channel acts as, asked of the server once and kept."""
        state = self._account_state()
        profile = (state.cursor or {}).get("profile")
        if not profile or not profile.get("id"):
            profile = self._remember_account(state, self.verify(client))
        return profile

    def _remember_account(self, state: SourceState, profile: Profile) -> dict:
        data = {"id": profile.external_id, "handle": profile.handle, "display_name": profile.display_name,
                "avatar_url": profile.avatar_url if profile.avatar_url.startswith(("https://", "http://")) else "",
                "url": profile.url}
        state.cursor = {**(state.cursor or {}), "profile": data}
        state.title = f"@{profile.handle}"[:300]
        state.last_ok_at = timezone.now()
        state.save()
        return data

    def check_connection(self) -> tuple[bool, str]:
        try:
            client = self.client()
            profile = self.verify(client)
            state = self._account_state()
            self._remember_account(state, profile)
            self.after_check(client)
        except DriverError as exc:
            return False, str(exc)
        except SocialError as exc:
            return False, str(exc)
        if profile.display_name:
            return True, gettext("connected as @%(handle)s (%(name)s)") % {"handle": profile.handle,
                                                                            "name": profile.display_name}
        return True, gettext("connected as @%(handle)s") % {"handle": profile.handle}

    def remember(self, key: str, value) -> None:
        """Keep something learned from the server on the channel's account source."""
        state = self._account_state()
        state.cursor = {**(state.cursor or {}), key: value}
        state.save(update_fields=["cursor"])

    def after_check(self, client) -> None:
        """Anything else worth learning when the administrator checks the connection."""

    # --- what subclasses give -----------------------------------------------------------------------

    def client(self) -> Any:
        raise NotImplementedError

    def verify(self, client) -> Profile:
        raise NotImplementedError

    def sources(self, client) -> list[tuple[str, str, Fetch]]:
        """(key, title, fetch) per source; fetch(cursor) -> (items, new cursor)."""
        raise NotImplementedError

    def deliver(self, client, message, parent, body: str, signature: str) -> list[Post]:
        raise NotImplementedError

    def mention_for(self, parent_meta: dict) -> str:
        """The "@handle " a reply to this message starts with."""
        handle = parent_meta.get("mention") or ""
        return f"@{handle} " if handle else ""

    # --- receiving --------------------------------------------------------------------------------

    def poll(self) -> int:
        client = self.client()
        account_state = self._account_state()
        backoff = _parse((account_state.cursor or {}).get("backoff_until"))
        if backoff and backoff > timezone.now():
            raise DriverError(f"Rate limit reached; waiting until {backoff:%H:%M:%S} UTC before polling again.")
        new, failures = 0, []
        try:
            self.account(client)
            self.load_blocked(client)
            for key, title, fetch in self.sources(client):
                state, _ = SourceState.objects.get_or_create(channel=self.channel, key=key,
                                                             defaults={"title": title[:300]})
                try:
                    new += self._poll_source(state, fetch)
                except (RateLimited, AuthenticationFailed):
                    raise
                except (SocialError, DriverError, ValueError) as exc:
                    self._source_failed(state, str(exc))
                    failures.append(f"{title}: {exc}")
        except RateLimited as exc:
            account_state.cursor = {**(account_state.cursor or {}), "backoff_until": exc.reset_at.isoformat()}
            self._source_failed(account_state, str(exc))
            raise DriverError(str(exc)) from None
        except AuthenticationFailed as exc:
            self._source_failed(account_state, str(exc))
            raise DriverError(f"{exc} Re-connect the account in the channel settings.") from None
        finally:
            self._note_rate_limit(account_state, client)
        if failures:
            raise DriverError(f"{len(failures)} source(s) failed ({new} new items from the others): "
                              + "; ".join(failures))
        return new

    def _poll_source(self, state: SourceState, fetch: Fetch) -> int:
        state.last_fetched_at = timezone.now()
        cursor = state.cursor or {}
        items, next_cursor = fetch(cursor.get("since"))
        with transaction.atomic():  # what a page brought and the cursor past it are stored together, once
            results = intake.submit(self.channel, items) if items else []
            for result in results:
                if isinstance(result, ActionError):
                    log.info("%s: skipped an item of %s: %s", self.channel, state.key, result)
            state.cursor = {**cursor, "since": next_cursor}
            state.items_seen += len(items)
            state.last_ok_at = timezone.now()
            state.last_status = 200
            state.consecutive_errors = 0
            state.save()
        return intake.created(results)

    @staticmethod
    def _source_failed(state: SourceState, detail: str) -> None:
        state.last_error, state.last_error_at = detail[:2000], timezone.now()
        state.consecutive_errors += 1
        state.save()

    @staticmethod
    def _note_rate_limit(state: SourceState, client) -> None:
        """The budget the server reported last, shown on the channel page."""
        rate = getattr(client, "rate_limit", None)
        if rate is None or (rate.limit is None and rate.remaining is None):
            return
        state.refresh_from_db(fields=["cursor"])
        cursor = dict(state.cursor or {})
        cursor["rate"] = {"limit": rate.limit, "remaining": rate.remaining,
                          "reset_at": rate.reset_at.isoformat() if rate.reset_at else None}
        if _parse(cursor.get("backoff_until")) and _parse(cursor["backoff_until"]) <= timezone.now():
            cursor.pop("backoff_until")
        SourceState.objects.filter(pk=state.pk).update(cursor=cursor)

    def keep(self, profile: Profile, own_id: str) -> bool:
        """Not our own post, and not from an account the channel ignores or the account blocks or mutes on
        the network."""
        if profile.external_id == own_id:
            return False
        blocked = self.__dict__.get("_blocked") or {}
        if profile.external_id in blocked.get("ids", ()) or profile.handle.lower() in blocked.get("handles", ()):
            return False
        ignored = self.ignored()
        handle = profile.handle.lower()
        local = {i for i in ignored if "@" not in i}
        return handle not in ignored and handle.split("@")[0] not in local

    def load_blocked(self, client) -> None:
        """The accounts blocked or muted on the network, asked of the server at most every BLOCKS_REFRESH
        (kept on the channel's account source); a failure keeps the list known so far."""
        state = self._account_state()
        known = (state.cursor or {}).get("blocked") or {}
        fetched = _parse(known.get("at"))
        if not fetched or timezone.now() - fetched > BLOCKS_REFRESH:
            try:
                profiles = client.blocked_and_muted()
            except (RateLimited, AuthenticationFailed):
                raise
            except SocialError as exc:
                log.info("%s: could not read blocked and muted accounts: %s", self.channel, exc)
            else:
                known = {"at": timezone.now().isoformat(), "ids": sorted({p.external_id for p in profiles}),
                         "handles": sorted({p.handle.lower() for p in profiles if p.handle})}
                state.refresh_from_db(fields=["cursor"])
                state.cursor = {**(state.cursor or {}), "blocked": known}
                state.save(update_fields=["cursor"])
        self._blocked = {"ids": set(known.get("ids") or ()), "handles": set(known.get("handles") or ())}

    # --- media of received posts ------------------------------------------------------------------------

    def media_of(self, post: Post) -> list[dict]:
        """The post's images and videos: {"urls": [where to fetch it, best first], "kind", "alt", "type"}."""
        return []

    def media_links(self, post: Post) -> list[dict]:
        """The post's media as links with alt text (the listening stream keeps these, not the files)."""
        return [{"url": m["urls"][0], "kind": m["kind"], "alt": m.get("alt", "")}
                for m in self.media_of(post)[:MAX_MEDIA] if m.get("urls")]

    def attachments_of(self, post: Post) -> list[dict]:
        """The post's images fetched (through the guarded outbound path: no internal hosts, a size limit) as
        attachments with their alt text; a video or audio is kept as a link, and an image that cannot be
        fetched is kept with the reason, so the agent still sees that the customer sent one."""
        found = []
        for index, media in enumerate(self.media_of(post)[:MAX_MEDIA]):
            urls = [u for u in media.get("urls") or [] if isinstance(u, str) and u.startswith(("https://", "http://"))]
            if not urls:
                continue
            kind, alt = media.get("kind", "image"), str(media.get("alt") or "")
            name = _filename(urls[0], f"{kind}-{index + 1}")
            entry = {"filename": name, "content_type": str(media.get("type") or f"{kind}/*")[:120], "alt": alt,
                     "source_url": urls[0]}
            if kind != "image":
                found.append(entry)  # videos stay where they are: linked, not copied
                continue
            problem = ""
            for url in urls:
                try:
                    content, content_type = _fetch_image(url, media_limit())
                except (outbound.OutboundError, ValueError) as exc:
                    if isinstance(exc, outbound.OutboundError):  # stored with the message: in one language
                        with translation.override("en"):
                            problem = str(outbound.MESSAGES[exc.code] % exc.params)
                    else:
                        problem = str(exc)
                    continue
                entry.update(content=content, content_type=content_type, source_url=url)
                break
            else:
                entry["missing"] = f"not fetched: {problem}"
            found.append(entry)
        return found

    def context_of(self, post: Post) -> dict:
        """The root post of a thread as the conversation's context: text, link, author and media links."""
        return {"text": post.text, "link": post.url, "media": self.media_links(post) if post.media else [],
                "author": f"{post.author.display_name} (@{post.author.handle})" if post.author.display_name
                else f"@{post.author.handle}"}

    def message_item(self, post: Post, *, references: list[str] = (), meta: dict | None = None,
                     thread: str = "", context: dict | None = None) -> InboundMessage:
        """The inbound message of a post; ``thread`` names the root of its thread (public posts only)."""
        return InboundMessage(
            thread="" if post.is_direct else (thread or post.root_id or post.external_id), post=context or {},
            external_id=post.external_id, sender_handle=post.author.handle, sender_name=post.author.display_name,
            attachments=self.attachments_of(post) if post.media else [],
            text=post.text, html=post.html, in_reply_to=post.reply_to_id,
            references=[r for r in references if r and r != post.reply_to_id], sent_at=post.created_at,
            is_public=not post.is_direct, sender_profile=profile_data(post.author),
            meta={"network": self.network, "url": post.url, "visibility": post.visibility, "reason": post.reason,
                  "language": post.language, "mention": post.author.handle,
                  **({"media": [m.get("url") for m in post.media if isinstance(m.get("url"), str)]}
                     if post.media else {}),
                  **(meta or {})})

    def post_item(self, post: Post, query: str, *, reach: int | None = None) -> InboundPost:
        return InboundPost(
            external_id=post.external_id, text=post.text, html=post.html,
            author=post.author.display_name or post.author.handle, author_handle=post.author.handle,
            link=post.url if post.url.startswith(("https://", "http://")) else "", published_at=post.created_at,
            source=f"{self.network}:{query}", source_title=f"{self.channel.name}: {query}", language=post.language,
            reach=reach if reach is not None else post.author.followers,
            media=self.media_links(post) if post.media else [],
            meta={"network": self.network, "query": query, "reason": post.reason})

    # --- sending ----------------------------------------------------------------------------------

    def parent_of(self, message):
        """The post a reply answers: the customer's latest message in the conversation, or the mention a private
        reply names (``Driver.answered_message``)."""
        return self.answered_message(message)

    @staticmethod
    def images_of(message) -> list[tuple[bytes, str, str, str]]:
        """(content, content type, alt text, filename) of the images the agent attached to the reply."""
        alt = (message.meta or {}).get("alt") or {}
        found = []
        for attachment in message.attachments.all():
            if attachment.content_type.startswith("image/") and attachment.file:
                with attachment.file.open("rb") as handle:
                    found.append((handle.read(), attachment.content_type, str(alt.get(str(attachment.pk), "")),
                                  attachment.filename))
        return found

    def parts(self, body: str, signature: str, mention: str, limit: int | None = None) -> list[str]:
        """The reply as posts, each starting with the mention: split, or refused as the channel says."""
        count = COUNTERS[self.network]
        full = limit or self.reply_limit
        room = full - (count(mention) if mention else 0)
        if room < 20:
            raise ReplyTooLong("The mention leaves no room for the reply.", length=count(body), limit=full)
        try:
            return [mention + part for part in split_reply(body, room, network=self.network, signature=signature,
                                                           refuse=not self.splits_replies)]
        except ReplyTooLong as exc:
            if self.splits_replies:
                raise
            length = count(mention + body + signature)
            raise ReplyTooLong(f"The reply is {length} characters long with the mention of the customer; "
                               f"{self.channel.kind_label} allows {full} per post. Shorten it, or let the channel "
                               "split long replies into a thread.", length=length, limit=full) from exc

    def check_reply(self, text: str, conversation=None) -> str:
        body, signature = split_signature(text)
        mention = ""
        if conversation is not None:
            parent = (conversation.messages.filter(direction="inbound").exclude(external_id=None)
                      .order_by("-sent_at", "-id").first())
            mention = self.mention_for(parent.meta or {}) if parent else ""
        try:
            self.parts(body, signature, mention)
        except (ReplyTooLong, ValueError) as exc:
            return str(exc)
        return ""

    def send(self, message) -> SendResult:
        parent = self.parent_of(message)
        if parent is None:
            return SendResult("failed", detail="There is no post of the customer to answer in this conversation.")
        body, signature = split_signature(message.text)
        try:
            posted = self.deliver(self.client(), message, parent, body, signature)
        except (RateLimited, Unavailable) as exc:
            return SendResult("retry", detail=str(exc))
        except NotFound as exc:
            return SendResult("failed", detail=f"The post to answer is gone (deleted?): {exc}")
        except AuthenticationFailed as exc:
            return SendResult("failed", detail=f"{exc} Re-connect the account in the channel settings.")
        except (Rejected, ReplyTooLong, DriverError, SocialError, ValueError) as exc:
            return SendResult("failed", detail=str(exc))
        links = " ".join(p.url for p in posted if p.url)
        if posted and posted[0].is_direct and self.images_of(message):
            links += " (the chat carries no images; they were not sent)"
        detail = f"posted as {len(posted)} parts: {links}" if len(posted) > 1 else f"posted: {links}"
        return SendResult("sent", external_id=posted[-1].external_id, detail=detail.strip())


def media_limit() -> int:
    """The largest image Resonanz copies from a post (RESONANZ_SOCIAL_MEDIA_MAX_BYTES, 10 MB by default)."""
    return int(getattr(settings, "RESONANZ_SOCIAL_MEDIA_MAX_BYTES", 10 * 1024 * 1024))


def _fetch_image(url: str, limit: int) -> tuple[bytes, str]:
    response = outbound.get(url, stream=True, timeout=(5, 20))
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if response.status_code >= 400:
        response.close()
        raise ValueError(f"the server answered {response.status_code}")
    if not content_type.startswith("image/") or content_type == "image/svg+xml":
        response.close()  # an SVG is a document with scripts, not a picture
        raise ValueError(f"not an image ({content_type or 'no content type'})")
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        response.close()
        raise ValueError(f"larger than {limit} bytes")
    return outbound.read_limited(response, limit), content_type


def _filename(url: str, fallback: str) -> str:
    name = url.split("?")[0].split("#")[0].rstrip("/").rsplit("/", 1)[-1]
    name = re.sub(r"[^\w.\-]", "_", name)[:100].strip("._")
    return name if name and "." in name else fallback


def _parse(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
