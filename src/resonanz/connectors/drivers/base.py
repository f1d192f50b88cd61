"""The channel contract: what every driver declares and does.

A driver is one module per channel kind. It declares what the channel is (``label``, ``public``,
how replies are signed, the longest reply it accepts) and what it can do (``polls``, ``accepts_push``,
``accepts_api``, ``can_send``), and does it: ``receive()`` for polling, ``handle_request()`` for
requests a platform pushes to ``/hooks/<slug>/``, ``send()`` for replies, ``check_connection()`` for the
administrator. What it receives it hands to ``connectors.intake.submit``; it never touches another app's
models. The registry in ``connectors.drivers`` is the only list of kinds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import ClassVar

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from resonanz.connectors import intake
from resonanz.connectors.intake import DeliveryUpdate, InboundMessage, InboundPost, SourceChange

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
PHONE = re.compile(r"\+?[0-9][0-9 ()/-]{6,20}")

__all__ = ["ChannelField", "ConnectField", "DeliveryUpdate", "Driver", "DriverError", "InboundMessage",
           "InboundPost", "ReplyTemplate", "SendResult", "SourceChange"]


class DriverError(Exception):
    """A channel could not do what was asked; the text tells the administrator what to fix."""


@dataclass(frozen=True)
class ConnectField:
    """One field of a kind's connect form. A ``secret`` goes into the encrypted credentials and is never
    shown again (masked); the others are settings. ``lines``: a list, one entry per line; ``choices``: a
    choice of (value, label)."""

    key: str
    label: str
    help: str = ""
    secret: bool = False
    lines: bool = False
    choices: tuple[tuple[str, str], ...] = ()
    required: bool = True


@dataclass
class SendResult:
    # "sent"; "stored" (kept until the channel can deliver or a client collects it); "retry" (a passing
    # problem: stays queued and is sent again by the sweep); "failed"
    status: str
    external_id: str = ""
    detail: str = ""


@dataclass(frozen=True)
class ChannelField:
    """One value the administrator gives a channel, with the platform's name for it and where to find it.

    ``secret`` fields go into the encrypted credentials and are never shown again; the others into settings.
    """

    name: str
    label: str
    help: str = ""
    secret: bool = False
    required: bool = True
    initial: str = ""


@dataclass(frozen=True)
class ReplyTemplate:
    """A message the platform approved in advance (WhatsApp templates), the only way to write after the
    customer-service window closed. ``body`` shows the placeholders {{1}}, {{2}} … that ``params`` fill."""

    name: str
    language: str
    body: str
    params: int = 0
    category: str = ""
    components: tuple = field(default=(), compare=False)

    @property
    def key(self) -> str:
        return f"{self.name}:{self.language}"

    def render(self, values: list[str]) -> str:
        text = self.body
        for n, value in enumerate(values, start=1):
            text = text.replace("{{" + str(n) + "}}", value)
        return text


class Driver:
    #: set by ``@register``; the value stored in Channel.kind
    kind: ClassVar[str] = ""
    #: what the administrator sees in lists and menus
    label: ClassVar[str] = ""
    #: the identity kind of a sender (crm.Identity.Kind)
    identity_kind: ClassVar[str] = "other"
    #: replies are readable by everyone (a social network) unless the agent chooses a private one
    public: ClassVar[bool] = False
    #: new channels of this kind sign public replies with the agent's initials ("… ^AB") by default
    signs_replies: ClassVar[bool] = False
    #: the longest reply the platform accepts (characters), or None; longer replies are refused before they
    #: are queued unless the driver splits them into a thread (``splits_replies``)
    reply_limit: ClassVar[int | None] = None
    splits_replies: ClassVar[bool] = False
    #: replies may carry images (uploaded with their alt text); the reply form offers it
    sends_images: ClassVar[bool] = False
    #: replies may carry files of any allowed type (documents, images), sent as real attachments (email)
    sends_files: ClassVar[bool] = False
    #: the files a reply may carry besides (or instead of) ``sends_images``: per kind ("image", "document") the
    #: largest size in bytes the platform takes and the content types it accepts (empty: any); a kind not listed
    #: is refused before the reply is queued, with the platform's rule in the message
    reply_media: ClassVar[dict[str, tuple[int, tuple[str, ...]]]] = {}
    #: images carry a description (alt text) where the platform shows one; the reply form then asks for it
    describes_images: ClassVar[bool] = True
    #: a public channel that can also answer privately (a direct message); the reply form offers it
    private_replies: ClassVar[bool] = False
    #: customers' public comments can be hidden or deleted on the platform from the conversation
    #: (``moderate_comment``); the conversation page offers it on each comment
    moderates_comments: ClassVar[bool] = False
    #: fetches messages on the worker's schedule (``receive``/``poll``)
    polls: ClassVar[bool] = False
    #: keeps a connection open for events the platform pushes (``stream``, run by ``resonanz stream``)
    streams: ClassVar[bool] = False
    #: platforms push requests to /hooks/<slug>/, answered by ``handle_request``
    accepts_push: ClassVar[bool] = False
    #: client systems post messages to /api/channels/<id>/inbound/
    accepts_api: ClassVar[bool] = False
    #: customers write through a public contact form at /contact/<slug>/
    has_public_form: ClassVar[bool] = False
    #: replies can go out through this channel (otherwise they are stored, e.g. for imports)
    can_send: ClassVar[bool] = True
    #: channels whose senders may be known by anything (API, webhooks, imports): handles that look like an
    #: email address or a phone number become email/phone identities, so the customer's messages there
    #: meet their email and form messages on one contact
    recognises_handles: ClassVar[bool] = False
    #: Resonanz generates the signing secret senders use (shown once to the administrator)
    generates_secret: ClassVar[bool] = False
    #: shown under the settings field of the channel form
    settings_help: ClassVar[str] = ""
    #: the values the platform issues (ids, tokens, secrets), as form fields on the channel's admin page
    fields: ClassVar[tuple[ChannelField, ...]] = ()
    #: free-text replies are allowed only this long after the customer's last message (WhatsApp: 24 hours);
    #: after that only a ``ReplyTemplate`` may be sent
    reply_window: ClassVar[timedelta | None] = None
    #: the connect form's own fields for this kind (channel administration shows them for the chosen kind)
    connect_fields: ClassVar[tuple[ConnectField, ...]] = ()

    def __init__(self, channel) -> None:
        self.channel = channel

    # --- what the channel is -------------------------------------------------------------------

    def identity_kind_for(self, handle: str) -> str:
        """The identity kind of a sender's handle on this channel."""
        if self.recognises_handles:
            handle = handle.strip()
            if EMAIL.fullmatch(handle):
                return "email"
            if PHONE.fullmatch(handle):
                return "phone"
        return self.identity_kind

    def sign(self, text: str, agent) -> str:
        """A public reply carries the agent's initials ("… ^AB") where the channel says so (authentic replies)."""
        initials = getattr(agent, "initials", "") if agent is not None else ""
        if not (self.channel.sign_replies and initials) or text.rstrip().endswith(f"^{initials}"):
            return text
        return f"{text} ^{initials}"

    def check_reply(self, text: str, conversation=None) -> str:
        """Why ``text`` cannot go out on this channel ("" if it can), asked before a reply is queued.

        The default refuses replies over ``reply_limit`` unless the driver splits them into a thread."""
        limit = self.reply_limit
        if limit and len(text) > limit and not self.splits_replies:
            return (f"The reply has {len(text)} characters; {self.channel.kind_label} accepts at most "
                    f"{limit}. Shorten it.")
        return ""

    def check_files(self, files: list[dict], conversation=None) -> str:
        """Why these files cannot go out in this conversation ("" if they can), beyond ``reply_media``'s types and
        sizes: asked before a reply is queued."""
        return ""

    def connected_account(self) -> dict | None:
        """The platform account this channel acts as (handle, display_name, avatar_url), for its admin page."""
        return None

    def addresses(self) -> list[tuple[str, str]]:
        """Where the outside world reaches this channel, for its admin page: (label, address) pairs."""
        found = []
        if self.accepts_api:
            found.append((str(_("Inbound address")), f"POST /api/channels/{self.channel.pk}/inbound/"))
        if self.accepts_push:
            found.append((str(_("Webhook address")), f"/hooks/{self.channel.slug}/"))
        return found

    def clean_settings(self, settings: dict) -> dict:
        """The channel's settings checked and normalised before they are stored; raise DriverError to refuse."""
        return settings

    def window_closes_at(self, conversation) -> datetime | None:
        """When free text stops being allowed in ``conversation`` (None: no window on this channel)."""
        if self.reply_window is None:
            return None
        last = getattr(conversation, "last_inbound_at", None)
        return last + self.reply_window if last else None

    def window_open(self, conversation, now: datetime | None = None) -> bool:
        closes = self.window_closes_at(conversation)
        return self.reply_window is None or (closes is not None and (now or timezone.now()) < closes)

    def reply_templates(self) -> list[ReplyTemplate]:
        """The approved templates an agent may send outside the window."""
        return []

    def check_window(self, conversation, meta: dict) -> str:
        """Why a reply may not be queued now ("" when it may): a closed window without a template."""
        if self.reply_window is not None and not (meta or {}).get("template") and not self.window_open(conversation):
            return str(_("The window for free replies has closed; send an approved template instead."))
        return ""

    def invite_link(self, contact_id: int) -> str:
        """A link that opens a chat with the company and ties it to this contact (Telegram's deep links), or ""."""
        return ""

    @staticmethod
    def files_of(message) -> list[dict]:
        """The files the agent attached to ``message``: filename, content_type, content, kind, alt."""
        alt = (message.meta or {}).get("alt") or {}
        found = []
        for attachment in message.attachments.all().order_by("id"):
            if not attachment.file:
                continue
            with attachment.file.open("rb") as handle:
                content = handle.read()
            kind = "image" if attachment.content_type.startswith("image/") else "document"
            found.append({"filename": attachment.filename, "content_type": attachment.content_type,
                          "content": content, "kind": kind, "alt": str(alt.get(str(attachment.pk), ""))})
        return found

    # --- receiving ------------------------------------------------------------------------------

    def receive(self) -> list:
        """Fetch new items (InboundMessage, InboundPost, DeliveryUpdate) for ``poll``."""
        return []

    def poll(self) -> int:
        """Fetch and hand over what is new; returns how many items were new.

        The default hands everything received to the intake, which ignores redeliveries. Drivers that
        must acknowledge at the source (flag an IMAP mail as seen) override this to acknowledge only
        after the intake stored the item.
        """
        return intake.created(intake.submit(self.channel, self.receive()))

    def stream_names(self) -> list[str]:
        """The streams ``resonanz stream`` keeps open for this channel, one connection each."""
        return ["user"] if self.streams else []

    def stream(self, *, max_events: int | None = None, name: str = "user") -> int:
        """Read the platform's event stream ``name`` until it ends (or ``max_events``); returns the events
        handled."""
        return 0

    def handle_request(self, request: HttpRequest) -> HttpResponse:
        """A request the platform pushed to /hooks/<slug>/: verify its signature, answer handshakes, hand
        the items to the intake. Only drivers with ``accepts_push`` are asked."""
        return JsonResponse({"error": "this channel does not accept pushed requests"}, status=404)

    # --- sending --------------------------------------------------------------------------------

    @staticmethod
    def mail_attachments(message) -> list[tuple[str, str, bytes]]:
        """(filename, content type, content) of every file stored with the reply, as mail attachments."""
        found = []
        for attachment in message.attachments.all():
            if attachment.file:
                with attachment.file.open("rb") as handle:
                    found.append((attachment.filename, attachment.content_type, handle.read()))
        return found

    @staticmethod
    def answered_message(message):
        """The customer's message a reply answers: the comment or mention named by a private reply
        (``meta["private_reply_to"]``: the reply sits in the customer's private conversation, the comment in the
        public one), else the customer's latest message in the reply's conversation (None if there is none)."""
        ref = (message.meta or {}).get("private_reply_to")
        if ref:
            found = type(message).objects.filter(pk=ref, channel_id=message.channel_id, direction="inbound").first()
            if found is not None:
                return found
        return (message.conversation.messages.filter(channel=message.channel_id, direction="inbound")
                .exclude(external_id=None).exclude(external_id="").order_by("-sent_at", "-id").first())

    def send(self, message) -> SendResult:
        """Deliver an outbound message; the default keeps it (channels without an outlet)."""
        return SendResult(status="stored", detail="this channel has no way to send; the reply is kept")

    def check_connection(self) -> tuple[bool, str]:
        return True, "nothing to connect to"

    def moderate_comment(self, message, action: str) -> None:
        """Hide ("hide"), show again ("unhide") or delete ("delete") a customer's public comment where it was
        published; raises DriverError saying why it could not."""
        raise DriverError(f"{self.channel.kind_label} cannot hide or delete comments.")
