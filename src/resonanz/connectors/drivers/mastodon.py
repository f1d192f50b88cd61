"""The Mastodon channel: any server that speaks Mastodon's client API (Mastodon, GoToSocial, Akkoma, …).

Settings: ``server_url`` (https://mastodon.example), ``listen`` (hashtags and keywords for the listening
stream), ``long_replies`` ("split" into a numbered thread, or "refuse"), ``ignore`` (handles whose posts are
ignored). Credentials (encrypted): ``access_token`` of an application with the read and write scopes.
``max_characters`` is learned from the server when the administrator checks the connection (500 otherwise).

Mentions and direct messages come from the notifications (cursor: the last notification id); a reply to
one of our posts carries the ids of the posts above it, so it joins the conversation of the post it
answers. A person's public posts in one thread are one conversation: a reply's thread is the first post above
it (``GET /api/v1/statuses/:id/context``, ancestors), which is also its context; a post that answers nothing
starts its own thread. Listening reads hashtag timelines and the server's status search (cursor: the last status id).
"""

from __future__ import annotations

from functools import partial

from django.utils.translation import gettext_lazy as _

from resonanz.connectors import intake
from resonanz.connectors.drivers import register
from resonanz.connectors.drivers.base import ConnectField, SourceChange
from resonanz.connectors.drivers.social_common import (
    IGNORE_FIELD,
    LISTEN_FIELD,
    LONG_REPLIES_FIELD,
    SocialDriver,
    query_list,
)
from resonanz.connectors.social.errors import NotFound
from resonanz.connectors.social.mastodon import VISIBILITIES, MastodonClient, parse_time
from resonanz.connectors.social.models import Post, Profile
from resonanz.core import outbound

MEDIA_KINDS = {"image": "image", "gifv": "video", "video": "video", "audio": "audio"}


@register("mastodon")
class MastodonDriver(SocialDriver):
    label = _("Mastodon (fediverse)")
    identity_kind = "mastodon"
    network = "mastodon"
    streams = True
    default_limit = 500
    connect_fields = (
        ConnectField("server_url", _("Server address"), _("The account's server, e.g. https://mastodon.social")),
        ConnectField("access_token", _("Access token"), _("On the server: Preferences → Development → New "
                                                          "application with the read and write scopes; copy “Your "
                                                          "access token”."), secret=True),
        LISTEN_FIELD, LONG_REPLIES_FIELD, IGNORE_FIELD,
    )
    settings_help = _('Settings JSON: {"server_url": "https://mastodon.social", "listen": ["#yourbrand", '
                      '"your brand"], "long_replies": "split" or "refuse", "ignore": ["spammer@example.social"]}')

    def client(self) -> MastodonClient:
        return MastodonClient(self.server_url("server_url"), self.secret("access_token"),
                              session=outbound.session(), timeout=float(self.settings.get("timeout") or 15))

    def verify(self, client: MastodonClient) -> Profile:
        return client.verify_credentials()

    def after_check(self, client: MastodonClient) -> None:
        """Remember the server's post length (Mastodon's default is 500; instances set their own)."""
        self.remember("max_characters", client.max_characters())

    def sources(self, client: MastodonClient):
        found = [("mentions", "Mentions and direct messages", partial(self._mentions, client))]
        for query in query_list(self.settings):
            found.append((f"listen:{query}", query, partial(self._listen, client, query)))
        return found

    def _mentions(self, client: MastodonClient, since: str | None):
        own = self.account(client)["id"]
        page = client.fetch_mentions(since)
        return [self._mention(client, post, own) for post in page.items if self.keep(post.author, own)], page.cursor

    def _mention(self, client: MastodonClient, post: Post, own: str):
        references: list[str] = []
        above: list[Post] = []
        if post.reply_to_id and not post.is_direct:
            try:  # the posts above it: the thread's root, and (when it answers us) the way to its conversation
                above = client.ancestor_posts(post.external_id)
            except NotFound:
                above = []
            if str(post.raw.get("in_reply_to_account_id") or "") == own:  # also past a split thread of ours
                references = [p.external_id for p in above]
        root = above[-1] if above else None
        return self.message_item(
            post, references=references,
            thread=root.external_id if root else (post.reply_to_id or post.external_id),
            context=self.context_of(root) if root else {},
            meta={"status_id": post.external_id, "mention": str(post.author.raw.get("acct") or post.author.handle)})

    def stream_names(self) -> list[str]:
        """The account's stream, and one per hashtag the channel listens for (keywords have no stream on
        Mastodon: the poll's search reads them)."""
        return ["user", *(f"hashtag:{q[1:]}" for q in query_list(self.settings) if q.startswith("#"))]

    def stream(self, *, max_events: int | None = None, name: str = "user") -> int:
        """A streaming API connection: on "user" mentions arrive within a second and a customer's edit or
        deletion reaches what Resonanz stored (polling cannot see those); on "hashtag:<tag>" public posts with
        the tag reach the listening stream as they are posted. The poll (``since_id``) stays the fallback: it
        reads what a dropped or missing stream did not bring, and the intake stores each post once.
        Returns the events handled."""
        client = self.client()
        account = self.account(client)
        own = account["id"]
        self.load_blocked(client)
        tag = name.removeprefix("hashtag:") if name.startswith("hashtag:") else ""
        if name != "user" and not tag:
            raise ValueError(f"unknown stream {name!r}: 'user' or 'hashtag:<tag>'")
        handled = 0
        for event, payload in (client.stream("hashtag", tag) if tag else client.stream("user")):
            item = None
            if tag and event == "update" and isinstance(payload, Post):
                item = self._listened(payload, f"#{tag}", account)
            elif not tag and event == "notification" and isinstance(payload, Post) and payload.reason == "mention" \
                    and self.keep(payload.author, own):
                item = self._mention(client, payload, own)
            elif event == "status.update" and isinstance(payload, Post):
                edited = parse_time(payload.raw.get("edited_at"))
                item = SourceChange(payload.external_id, "edited", text=payload.text, html=payload.html, at=edited)
            elif event == "delete" and isinstance(payload, str) and payload.strip():
                item = SourceChange(payload.strip(), "deleted")
            if item is not None:
                intake.submit(self.channel, [item])
            handled += 1
            if max_events and handled >= max_events:
                break
        return handled

    def _listen(self, client: MastodonClient, query: str, since: str | None):
        account = self.account(client)
        if query.startswith("#"):
            page = client.hashtag_timeline(query[1:], since)
        else:
            page = client.search(query, since)
        items = [item for post in page.items if (item := self._listened(post, query, account)) is not None]
        return items, page.cursor

    def _listened(self, post: Post, query: str, account: dict):
        """The listening stream's item for a public post, or None: our own, ignored, or addressed to us (that
        comes in as a mention, into the inbox)."""
        own_acct = account.get("handle", "").split("@")[0].lower()
        if not self.keep(post.author, account["id"]) or post.visibility not in ("public", "unlisted"):
            return None
        if own_acct and any(m.split("@")[0].lower() == own_acct for m in post.mentions):
            return None
        return self.post_item(post, query)

    def media_of(self, post: Post) -> list[dict]:
        """MediaAttachment entities: the server's copy first, the origin server's (remote_url) second."""
        found = []
        for media in post.media:
            kind = MEDIA_KINDS.get(str(media.get("type") or ""))
            if kind:
                urls = [u for u in (media.get("url"), media.get("remote_url")) if isinstance(u, str) and u]
                found.append({"urls": urls, "kind": kind, "alt": str(media.get("description") or "")})
        return found

    def deliver(self, client: MastodonClient, message, parent, body: str, signature: str) -> list[Post]:
        meta = parent.meta or {}
        visibility = meta.get("visibility") if meta.get("visibility") in VISIBILITIES else "public"
        if not message.is_public:
            visibility = "direct"
        mention = self.mention_for(meta)
        posted: list[Post] = []
        reply_to = meta.get("status_id") or parent.external_id
        parts = self.parts(body, signature, mention)  # refused before anything is uploaded
        media = [client.upload_image(data, mime, alt, filename=name) for data, mime, alt, name in self.images_of(message)]
        for index, text in enumerate(parts):
            status = client.post(text, visibility=visibility, in_reply_to_id=reply_to, media=media if index == 0 else [],
                                 idempotency_key=f"resonanz-{self.channel.pk}-{message.pk}-{index}")
            posted.append(status)
            reply_to = status.external_id
        return posted
