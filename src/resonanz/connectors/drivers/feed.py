"""The feed channel: polls RSS and Atom URLs and stores each new entry once as a public post.

Settings: ``{"feeds": [{"url": "https://…/feed.xml", "interval": 900}, …], "timeout": 15}``.
``interval`` (seconds, per feed) defaults to the channel's poll interval. Each fetch is a
conditional GET (ETag / Last-Modified kept per feed in the channel's ``SourceState``). An entry is
known by its id (``<guid>`` / ``<id>``), else its link, else a hash of title and date; a changed
entry (same id, new title or text) updates its post instead of adding one. Every feed is fetched
in its own try: a broken, missing or slow feed is recorded on its SourceState and in the channel's
health, and the other feeds are still read.
"""

from __future__ import annotations

import calendar
import hashlib
import logging
from datetime import UTC, datetime, timedelta

import feedparser
import requests
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from resonanz.connectors import intake
from resonanz.connectors.drivers import register
from resonanz.connectors.drivers.base import Driver, DriverError, InboundPost, SendResult
from resonanz.connectors.models import SourceState
from resonanz.core import outbound
from resonanz.core.errors import ActionError

log = logging.getLogger("resonanz.connectors.feed")
MAX_FEED_BYTES = 10 * 1024 * 1024
USER_AGENT = "Resonanz feed reader (+https://github.com/resonanz)"


class FeedError(Exception):
    pass


def feed_list(settings: dict) -> list[dict]:
    """The configured feeds, validated: a list of {"url", "interval"}."""
    feeds = (settings or {}).get("feeds") or []
    if isinstance(feeds, str | dict):
        feeds = [feeds]
    out = []
    for item in feeds:
        if isinstance(item, str):
            item = {"url": item}
        if not isinstance(item, dict) or not str(item.get("url", "")).startswith(("http://", "https://")):
            raise DriverError(f"Each feed needs an http(s) url; got {item!r}.")
        try:
            outbound.check_url(str(item["url"]).strip())  # file:, gopher:, internal addresses: refused here
        except outbound.RefusedURL as exc:
            raise DriverError(exc.message) from None
        interval = item.get("interval")
        try:
            interval = int(interval) if interval not in (None, "") else None
        except (TypeError, ValueError):
            raise DriverError(f"The interval of {item['url']} must be a number of seconds.") from None
        out.append({"url": str(item["url"]).strip(), "interval": interval})
    return out


def fetch(url: str, *, etag: str = "", last_modified: str = "", timeout: float = 15.0) -> requests.Response:
    headers = {"User-Agent": USER_AGENT, "Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        response = outbound.get(url, headers=headers, timeout=(min(timeout, 10.0), timeout), stream=True,
                                allow_redirects=True)
    except outbound.OutboundError as exc:  # internal address, other scheme, or no answer (never which port state)
        raise FeedError(exc.message) from None
    except requests.Timeout:
        raise FeedError(f"timed out after {timeout:g} s") from None
    except requests.RequestException as exc:
        raise FeedError(f"could not connect: {exc.__class__.__name__}") from None
    with response:
        body = b""
        for chunk in response.iter_content(65536):
            body += chunk
            if len(body) > MAX_FEED_BYTES:
                raise FeedError(f"larger than {MAX_FEED_BYTES // 1024 // 1024} MB")
        response._content = body
    return response


def _when(entry) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
            except (OverflowError, ValueError, TypeError):
                continue
    return None


def entry_to_post(entry, *, source: str, source_title: str) -> InboundPost:
    link = entry.get("link") or ""
    when = _when(entry)
    title = entry.get("title") or ""
    external_id = entry.get("id") or link
    if not external_id:
        external_id = "sha256:" + hashlib.sha256(f"{title}|{when}|{entry.get('summary', '')}".encode()).hexdigest()
    html = ""
    for content in entry.get("content") or []:
        if content.get("value"):
            html = content["value"]
            break
    html = html or entry.get("summary") or ""
    detail = entry.get("author_detail") or {}
    author = entry.get("author") or detail.get("name") or ""
    handle = detail.get("email") or detail.get("href") or author
    return InboundPost(external_id=external_id, html=html, title=title, author=author, author_handle=handle,
                       link=link, published_at=when, source=source, source_title=source_title)


@register("feed")
class FeedDriver(Driver):
    label = _("RSS/Atom feeds")
    identity_kind = "web"
    public = True
    polls = True
    can_send = False
    settings_help = (
        'Settings JSON: {"feeds": [{"url": "https://example.com/feed.xml", "interval": 900}], "timeout": 15}. '
        "interval is in seconds per feed (default: the channel's poll interval). New entries go to the "
        "listening stream as public posts; nothing is sent back."
    )

    def _timeout(self) -> float:
        try:
            return float((self.channel.settings or {}).get("timeout") or 15)
        except (TypeError, ValueError):
            return 15.0

    def poll(self, *, force: bool = False) -> int:
        """Fetch every due feed; returns the number of new posts. Raises after all feeds if any failed."""
        feeds = feed_list(self.channel.settings)
        now = timezone.now()
        new, failures = 0, []
        for feed in feeds:
            state, _ = SourceState.objects.get_or_create(channel=self.channel, key=feed["url"])
            interval = feed["interval"] or self.channel.poll_interval
            if not force and state.last_fetched_at and state.last_fetched_at + timedelta(seconds=interval) > now:
                continue
            try:
                new += self.poll_feed(state)
            except Exception as exc:  # one feed's failure never stops the others
                detail = str(exc) if isinstance(exc, FeedError | DriverError) else f"{exc.__class__.__name__}: {exc}"
                log.warning("feed %s of channel %s failed: %s", feed["url"], self.channel, detail)
                state.last_error, state.last_error_at = detail[:2000], timezone.now()
                state.consecutive_errors += 1
                state.save(update_fields=["last_error", "last_error_at", "consecutive_errors", "last_fetched_at",
                                          "last_status"])
                failures.append(f"{feed['url']}: {detail}")
        if failures:
            raise DriverError(f"{len(failures)} of {len(feeds)} feeds failed ({new} new posts from the others): "
                              + "; ".join(failures))
        return new

    def poll_feed(self, state: SourceState) -> int:
        state.last_fetched_at = timezone.now()
        cursor = state.cursor or {}
        response = fetch(state.key, etag=cursor.get("etag", ""), last_modified=cursor.get("last_modified", ""),
                         timeout=self._timeout())
        state.last_status = response.status_code
        if response.status_code == 304:
            return self._ok(state, 0)
        if response.status_code in (404, 410):
            raise FeedError(f"the feed is gone (HTTP {response.status_code})")
        if response.status_code >= 400:
            raise FeedError(f"HTTP {response.status_code}")
        permanent = [r for r in response.history if r.status_code in (301, 308)]
        state.final_url = response.url if permanent else ""
        parsed = feedparser.parse(response.content, response_headers={
            "content-type": response.headers.get("Content-Type", "application/xml"),
            "content-location": response.url,
        })
        if parsed.bozo and not parsed.entries:
            reason = getattr(parsed, "bozo_exception", None)
            raise FeedError(f"not a readable RSS/Atom feed ({reason.__class__.__name__ if reason else 'unknown'}: "
                            f"{str(reason)[:200]})")
        if not parsed.entries and not parsed.feed.get("title"):
            raise FeedError("not an RSS/Atom feed (no channel and no entries)")
        source_title = parsed.feed.get("title") or ""
        posts = [entry_to_post(entry, source=state.key, source_title=source_title) for entry in parsed.entries]
        results = intake.submit(self.channel, posts)
        for result in results:
            if isinstance(result, ActionError):  # an empty entry: skipped, the others are kept
                log.info("skipping an entry of %s: %s", state.key, result)
        state.cursor = {"etag": response.headers.get("ETag", "")[:500],
                        "last_modified": response.headers.get("Last-Modified", "")[:100]}
        state.title = source_title[:300]
        state.items_seen = len(parsed.entries)
        return self._ok(state, intake.created(results))

    @staticmethod
    def _ok(state, new: int) -> int:
        state.last_ok_at = timezone.now()
        state.consecutive_errors = 0
        state.save()
        return new

    def send(self, message) -> SendResult:
        link = (message.conversation.messages.exclude(meta={}).values_list("meta", flat=True).first() or {}).get("link")
        detail = "feeds are read-only; answer on the site" + (f": {link}" if link else "")
        return SendResult(status="stored", detail=detail)

    def check_connection(self) -> tuple[bool, str]:
        feeds = feed_list(self.channel.settings)
        if not feeds:
            return False, 'no feeds configured; settings: {"feeds": [{"url": "https://…", "interval": 900}]}'
        problems, fine = [], []
        for feed in feeds:
            try:
                response = fetch(feed["url"], timeout=self._timeout())
                if response.status_code >= 400:
                    raise FeedError(f"HTTP {response.status_code}")
                parsed = feedparser.parse(response.content)
                if parsed.bozo and not parsed.entries:
                    raise FeedError("not a readable RSS/Atom feed")
                fine.append(f"{feed['url']}: {len(parsed.entries)} entries")
            except FeedError as exc:
                problems.append(f"{feed['url']}: {exc}")
        if problems:
            return False, "; ".join(problems + fine)
        return True, "; ".join(fine)
