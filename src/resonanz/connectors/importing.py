"""The bulk import engine behind ``resonanz import``: CSV or JSONL history into conversations.

Rows become the same records ``ingest()`` creates (contact + identity, conversation, message,
events), written in batches of a few hundred rows per transaction with the lookups done once
per batch, so a history of millions of rows loads at thousands of rows per second.

- Idempotent: a row whose (channel, external id) is stored already is skipped, so an
  interrupted import (Ctrl-C, crash) continues where it stopped when run again; a batch is
  all or nothing.
- Threaded by reply links: a row replying to a stored row joins that row's conversation (a
  customer's reply only if the conversation is the same customer's, as in ``ingest()``); a row
  without a parent starts a conversation. Replies that come before their parent in the file
  wait until the parent is stored. At the end, customer rows whose parent never appeared start
  their own conversation, company replies without a known parent are skipped and reported.
- Imported customer messages are history: their pipeline state is "skipped" (no analysis,
  rules or automatic answers) unless ``analyze=True``; company replies are outbound messages
  with delivery status "sent", ``meta["author"]`` = the company's handle and no agent.
- The conversation's status follows its last message: waiting for the customer's answer
  ("resolved") when the company wrote last, "new" when the customer did.

The Customer-Support-on-Twitter layout (tweet_id, author_id, inbound, created_at, text,
response_tweet_id, in_response_to_tweet_id) is recognised without a mapping; anything else
needs a mapping (JSON: message field -> column or dotted path, see ``MAPPING_FIELDS``).
"""

from __future__ import annotations

import csv
import itertools
import json
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

from resonanz.connectors.drivers import get_driver
from resonanz.connectors.drivers.webhook import resolve
from resonanz.core.sanitize import clean_text, text_to_html
from resonanz.crm.models import Contact, Identity, normalize_handle
from resonanz.inbox.models import Conversation, ConversationEvent, Message

TWCS_COLUMNS = {"tweet_id", "author_id", "inbound", "created_at", "text", "in_response_to_tweet_id"}
TWCS_MAPPING = {
    "external_id": "tweet_id", "sender": "author_id", "inbound": "inbound", "sent_at": "created_at",
    "text": "text", "in_reply_to": "in_response_to_tweet_id",
}
GENERIC_MAPPING = {
    "external_id": "id", "sender": "sender", "sender_name": "sender_name", "text": "text", "subject": "subject",
    "sent_at": "sent_at", "in_reply_to": "in_reply_to", "inbound": "inbound",
}
MAPPING_FIELDS = {"external_id", "sender", "sender_name", "text", "subject", "sent_at", "in_reply_to", "inbound",
                  "inbound_values", "identity_kind", "public"}
TRUE_VALUES = {"true", "1", "yes", "y", "inbound", "in", "customer", "t"}
TWITTER_DATE = "%a %b %d %H:%M:%S %z %Y"
FLOAT_ID = re.compile(r"^(\d+)\.0+$")
MAX_CACHE = 500_000

# Reasons a row is skipped (the report groups by them).
BAD_ROW = "bad row"
MISSING_TEXT = "missing text"
UNKNOWN_PARENT = "unknown parent"
ALREADY = "already imported"
NO_THREAD = "company message that answers nothing"


@dataclass
class Row:
    line: int
    external_id: str
    sender: str
    inbound: bool
    text: str
    sent_at: datetime | None
    parent: str = ""
    sender_name: str = ""
    subject: str = ""
    parent_missing: bool = False


@dataclass
class Report:
    rows: int = 0
    inbound: int = 0
    outbound: int = 0
    conversations: int = 0
    contacts: int = 0
    orphans_started: int = 0
    skipped: Counter = field(default_factory=Counter)
    examples: dict = field(default_factory=lambda: defaultdict(list))
    interrupted: bool = False
    seconds: float = 0.0

    def skip(self, reason: str, line: int, detail: str = "") -> None:
        self.skipped[reason] += 1
        if len(self.examples[reason]) < 5:
            self.examples[reason].append(f"line {line}" + (f" ({detail})" if detail else ""))

    @property
    def imported(self) -> int:
        return self.inbound + self.outbound

    def lines(self) -> list[str]:
        rate = f", {self.rows / self.seconds:,.0f} rows/s" if self.seconds else ""
        out = [
            f"{'Interrupted' if self.interrupted else 'Done'}: {self.rows:,} rows read in {self.seconds:.1f} s{rate}.",
            f"Imported {self.imported:,} messages ({self.inbound:,} from customers, {self.outbound:,} replies) "
            f"into {self.conversations:,} new conversations; {self.contacts:,} new contacts.",
        ]
        if self.orphans_started:
            out.append(f"{self.orphans_started:,} customer messages replied to a message missing from the file "
                       "and started their own conversation.")
        if self.skipped:
            out.append(f"Skipped {sum(self.skipped.values()):,} rows:")
            for reason, n in self.skipped.most_common():
                out.append(f"  {reason}: {n:,} (e.g. {', '.join(self.examples[reason])})")
        else:
            out.append("Skipped nothing.")
        if self.interrupted:
            out.append("Run the same command again to continue; stored rows are skipped.")
        return out

    def as_dict(self) -> dict:
        return {"rows": self.rows, "inbound": self.inbound, "outbound": self.outbound,
                "conversations": self.conversations, "contacts": self.contacts,
                "skipped": dict(self.skipped), "interrupted": self.interrupted, "seconds": round(self.seconds, 2)}


class ImportFileError(Exception):
    pass


# --- reading ------------------------------------------------------------------------------------


def load_mapping(path: str | Path | None) -> dict | None:
    if not path:
        return None
    try:
        mapping = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ImportFileError(f"cannot read the mapping {path}: {exc}") from None
    if not isinstance(mapping, dict):
        raise ImportFileError("the mapping must be a JSON object like {\"text\": \"body\", \"sender\": \"email\"}")
    unknown = set(mapping) - MAPPING_FIELDS
    if unknown:
        raise ImportFileError(f"unknown mapping fields {', '.join(sorted(unknown))}; use "
                              f"{', '.join(sorted(MAPPING_FIELDS))}")
    return mapping


def file_format(path: Path, given: str = "") -> str:
    if given:
        return given
    return "jsonl" if path.suffix.lower() in (".jsonl", ".ndjson", ".json") else "csv"


def records(path: Path, fmt: str) -> Iterator[tuple[int, dict | None]]:
    """(line number, record) pairs; a record that cannot be read comes as None."""
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as handle:
        if fmt == "jsonl":
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    value = json.loads(line)
                except ValueError:
                    yield number, None
                    continue
                yield number, value if isinstance(value, dict) else None
        else:
            csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
            reader = csv.DictReader(handle)
            for number, record in enumerate(reader, start=2):
                yield number, record


def detect_mapping(first: dict | None, mapping: dict | None) -> tuple[dict, str]:
    if mapping:
        return {**GENERIC_MAPPING, **mapping}, "mapping"
    if first is not None and TWCS_COLUMNS <= set(first):
        return dict(TWCS_MAPPING), "twcs"
    return dict(GENERIC_MAPPING), "mapping"


def _id(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    match = FLOAT_ID.match(text)  # pandas wrote in_response_to_tweet_id as "3.0"
    return match.group(1) if match else text


def parse_when(value) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(float(value), tz=UTC)
    text = str(value).strip()
    if text.isdigit():
        return datetime.fromtimestamp(int(text), tz=UTC)
    try:
        return datetime.strptime(text, TWITTER_DATE)
    except ValueError:
        pass
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def to_row(number: int, record: dict | None, mapping: dict, report: Report) -> Row | None:
    if record is None:
        report.skip(BAD_ROW, number, "not readable")
        return None

    def get(name: str):
        path = mapping.get(name)
        if not path:
            return None
        return record[path] if path in record else resolve(record, path, None)

    external_id = _id(get("external_id"))
    sender = _id(get("sender"))
    if not external_id or not sender:
        report.skip(BAD_ROW, number, "no id" if not external_id else "no sender")
        return None
    text = clean_text(str(get("text") or "")).strip()
    if not text:
        report.skip(MISSING_TEXT, number)
        return None
    raw_inbound = get("inbound")
    if raw_inbound is None and "inbound" not in (mapping.get("_given") or ()):
        inbound = True
    elif isinstance(raw_inbound, bool):
        inbound = raw_inbound
    else:
        values = {str(v).lower() for v in mapping.get("inbound_values") or ()} or TRUE_VALUES
        inbound = str(raw_inbound).strip().lower() in values
    try:
        when = parse_when(get("sent_at"))
    except (ValueError, OverflowError, OSError):
        report.skip(BAD_ROW, number, "unreadable date")
        return None
    return Row(line=number, external_id=external_id[:300], sender=sender[:320], inbound=inbound, text=text,
               sent_at=when, parent=_id(get("in_reply_to"))[:300],
               sender_name=clean_text(str(get("sender_name") or ""), 200), subject=clean_text(str(get("subject") or ""), 300))


# --- one outbound record ------------------------------------------------------------------------


def record_outbound(conversation: Conversation, *, external_id: str, text: str, author: str = "",
                    sent_at: datetime | None = None, in_reply_to: str = "", is_public: bool = False) -> Message:
    """A reply the company sent elsewhere, stored as history: never handed to a driver."""
    from resonanz.inbox.actions import record

    when = sent_at or timezone.now()
    with transaction.atomic():
        message = Message.objects.create(
            conversation=conversation, channel=conversation.channel, direction=Message.Direction.OUTBOUND,
            external_id=external_id, in_reply_to=in_reply_to, author_user=None, text=text, html=text_to_html(text),
            is_public=is_public, delivery_status=Message.Delivery.SENT, sent_at=when,
            pipeline_state=Message.Pipeline.SKIPPED, meta={"author": author},
        )
        conv = Conversation.objects.select_for_update().get(pk=conversation.pk)
        conv.message_count += 1
        fields = ["message_count"]
        if when >= conv.last_activity_at:
            conv.last_activity_at, conv.waiting_for_us = when, False
            fields += ["last_activity_at", "waiting_for_us"]
        if not conv.first_response_at or when < conv.first_response_at:
            conv.first_response_at = when
            fields.append("first_response_at")
        conv.save(update_fields=fields)
        record(conv, "reply_imported", message_id=message.pk, author=author)
    return message


# --- the engine ---------------------------------------------------------------------------------


class _NewConversation:
    """A conversation created in the current batch, before it has a primary key."""

    __slots__ = ("obj", "contact_id")

    def __init__(self, obj: Conversation, contact_id: int) -> None:
        self.obj, self.contact_id = obj, contact_id


class Importer:
    def __init__(self, channel, *, layout: str = "mapping", identity_kind: str = "", is_public: bool = False,
                 analyze: bool = False, batch_size: int = 500, progress=None) -> None:
        self.channel = channel
        self.driver = get_driver(channel)
        self.identity_kind = identity_kind
        self.is_public = is_public
        self.analyze = analyze
        self.batch_size = batch_size
        self.progress = progress
        self.report = Report()
        # external id -> (conversation id, contact id) of stored messages; bounded, the database is the truth.
        self.threads: dict[str, tuple[int, int]] = {}
        self.contacts: dict[tuple[str, str], int] = {}
        self.waiting: dict[str, list[Row]] = defaultdict(list)
        self.can_return_ids = connection.features.can_return_rows_from_bulk_insert

    # public --------------------------------------------------------------------------------------
    def run(self, rows: Iterable[Row]) -> Report:
        started = timezone.now()
        try:
            batch: list[Row] = []
            for row in rows:
                batch.append(row)
                if len(batch) >= self.batch_size:
                    self._process(batch)
                    batch = []
            if batch:
                self._process(batch)
            self._finish_waiting()
        except KeyboardInterrupt:
            self.report.interrupted = True
        finally:
            self.report.seconds = (timezone.now() - started).total_seconds()
        return self.report

    # internals -----------------------------------------------------------------------------------
    def _kind(self, handle: str) -> str:
        return self.identity_kind or self.driver.identity_kind_for(handle)

    def _process(self, rows: list[Row], *, orphans: bool = False) -> None:
        with transaction.atomic():
            stored = self._store(rows, orphans=orphans)
        if self.progress is not None:
            self.progress.update(len(rows))
        # Rows that waited for a parent stored now go into the next batch.
        released = [child for ext in stored for child in self.waiting.pop(ext, ())]
        while released:
            chunk, released = released[: self.batch_size], released[self.batch_size :]
            with transaction.atomic():
                more = self._store(chunk, orphans=False, counted=True)
            released.extend(child for ext in more for child in self.waiting.pop(ext, ()))

    def _finish_waiting(self) -> None:
        """Rows whose parent never came: customers' rows start a conversation, replies are skipped."""
        while self.waiting:
            pending = {row.external_id for rows in self.waiting.values() for row in rows}
            roots = [key for key in self.waiting if key not in pending] or list(self.waiting)
            orphans = [row for key in roots for row in self.waiting.pop(key)]
            for i in range(0, len(orphans), self.batch_size):
                chunk = orphans[i : i + self.batch_size]
                with transaction.atomic():
                    stored = self._store(chunk, orphans=True, counted=True)
                released = [child for ext in stored for child in self.waiting.pop(ext, ())]
                while released:
                    part, released = released[: self.batch_size], released[self.batch_size :]
                    with transaction.atomic():
                        more = self._store(part, orphans=False, counted=True)
                    released.extend(child for ext in more for child in self.waiting.pop(ext, ()))

    def _remember(self, ext: str, conversation_id: int, contact_id: int) -> None:
        if len(self.threads) >= MAX_CACHE:
            self.threads.clear()
        self.threads[ext] = (conversation_id, contact_id)

    def _store(self, rows: list[Row], *, orphans: bool, counted: bool = False) -> list[str]:
        """Store one batch (inside the caller's transaction); returns the external ids now stored."""
        report = self.report
        if not counted:
            report.rows += len(rows)
        channel = self.channel
        # 1. redeliveries: in the file twice, or stored by an earlier run
        unique: dict[str, Row] = {}
        for row in rows:
            if row.external_id in unique:
                report.skip(ALREADY, row.line, "twice in the file")
            else:
                unique[row.external_id] = row
        for ext, conversation_id, contact_id in (
            Message.objects.filter(channel=channel, external_id__in=list(unique))
            .values_list("external_id", "conversation_id", "conversation__contact_id")
        ):
            report.skip(ALREADY, unique.pop(ext).line)
            self._remember(ext, conversation_id, contact_id)
        if not unique:
            return []
        # 2. parents stored before (this run's cache, else the database)
        missing = {r.parent for r in unique.values() if r.parent and r.parent not in self.threads
                   and r.parent not in unique}
        if missing:
            for ext, conversation_id, contact_id in (
                Message.objects.filter(channel=channel, external_id__in=list(missing))
                .values_list("external_id", "conversation_id", "conversation__contact_id")
            ):
                self._remember(ext, conversation_id, contact_id)
        # 3. order parents before children; rows whose parent is unknown wait (or, at the end, are orphans)
        ordered: list[Row] = []
        placed: set[str] = set()
        todo = list(unique.values())
        while todo:
            progress = False
            later = []
            for row in todo:
                if not row.parent or row.parent in self.threads or row.parent in placed:
                    ordered.append(row)
                    placed.add(row.external_id)
                    progress = True
                elif row.parent in unique:
                    later.append(row)
                elif orphans:
                    if row.inbound:
                        report.orphans_started += 1
                        row.parent_missing = True
                        ordered.append(row)
                        placed.add(row.external_id)
                        progress = True
                    else:
                        report.skip(UNKNOWN_PARENT, row.line, f"reply to {row.parent}")
                else:
                    self.waiting[row.parent].append(row)
            todo = later
            if not progress and todo:  # a reply cycle inside the batch: wait for the end
                for row in todo:
                    self.waiting[row.parent].append(row)
                break
        if not ordered:
            return []
        # 4. contacts of the customers
        self._resolve_contacts([r for r in ordered if r.inbound])
        # 5. conversations and messages
        now = timezone.now()
        local: dict[str, tuple[object, int]] = {}  # external id -> (conversation id or _NewConversation, contact id)
        new_conversations: list[_NewConversation] = []
        messages: list[tuple[Row, object, Message]] = []
        for row in ordered:
            parent = None
            if row.parent and not row.parent_missing:
                parent = local.get(row.parent) or self.threads.get(row.parent)
            when = min(row.sent_at, now) if row.sent_at else now
            if row.inbound:
                contact_id = self.contacts[(self._kind(row.sender), normalize_handle(self._kind(row.sender), row.sender))]
                if parent is not None and parent[1] == contact_id:
                    conversation = parent[0]
                else:
                    conv = Conversation(subject=row.subject or _subject_from(row.text), channel=channel,
                                        contact_id=contact_id, team=channel.default_team, created_at=when,
                                        last_activity_at=when, last_inbound_at=None, is_demo=channel.is_demo)
                    conversation = _NewConversation(conv, contact_id)
                    new_conversations.append(conversation)
            else:
                if parent is None:  # an outbound reply without a parent (orphans only reach here)
                    if row.parent:
                        report.skip(UNKNOWN_PARENT, row.line, f"reply to {row.parent}")
                    else:
                        report.skip(NO_THREAD, row.line)
                    continue
                conversation, contact_id = parent
            message = Message(
                channel=channel, direction=Message.Direction.INBOUND if row.inbound else Message.Direction.OUTBOUND,
                external_id=row.external_id, in_reply_to=row.parent, author_contact_id=contact_id if row.inbound else None,
                subject=row.subject, text=row.text, html=text_to_html(row.text), is_public=self.is_public,
                delivery_status=Message.Delivery.RECEIVED if row.inbound else Message.Delivery.SENT,
                sent_at=when, received_at=now if row.inbound else None,
                pipeline_state=Message.Pipeline.PENDING if (self.analyze and row.inbound) else Message.Pipeline.SKIPPED,
                meta={} if row.inbound else {"author": row.sender},
            )
            local[row.external_id] = (conversation, contact_id)
            messages.append((row, conversation, message))
        # aggregates per conversation, from the rows of this batch
        touched: dict[object, dict] = {}
        for row, conversation, message in messages:
            key = ("new", id(conversation)) if isinstance(conversation, _NewConversation) else conversation
            agg = touched.setdefault(key,
                                     {"ref": conversation, "n": 0, "last": None, "last_in": None, "first_out": None,
                                      "first": None})
            when = message.sent_at
            agg["n"] += 1
            if agg["first"] is None or when < agg["first"]:
                agg["first"] = when
            if agg["last"] is None or when >= agg["last"][0]:
                agg["last"] = (when, row.inbound)
            if row.inbound and (agg["last_in"] is None or when > agg["last_in"]):
                agg["last_in"] = when
            if not row.inbound and (agg["first_out"] is None or when < agg["first_out"]):
                agg["first_out"] = when
        for agg in touched.values():
            if isinstance(agg["ref"], _NewConversation):
                conv = agg["ref"].obj
                conv.created_at = conv.last_activity_at = agg["first"]
                conv.message_count = agg["n"]
                _apply(conv, agg)
        if new_conversations:
            self._bulk_create(Conversation, [c.obj for c in new_conversations])
            report.conversations += len(new_conversations)
        existing_ids = [k for k, agg in touched.items() if not isinstance(agg["ref"], _NewConversation)]
        if existing_ids:
            changed = []
            for conv in Conversation.objects.filter(pk__in=existing_ids):
                agg = touched[conv.pk]
                conv.message_count += agg["n"]
                _apply(conv, agg)
                changed.append(conv)
            Conversation.objects.bulk_update(changed, ["message_count", "last_activity_at", "last_inbound_at",
                                                       "waiting_for_us", "first_response_at", "status", "resolved_at"])
        messages.sort(key=lambda item: item[2].sent_at)
        for _row, conversation, message in messages:
            message.conversation = conversation.obj if isinstance(conversation, _NewConversation) else None
            if not isinstance(conversation, _NewConversation):
                message.conversation_id = conversation
        self._bulk_create(Message, [m for _r, _c, m in messages])
        events = [(c.obj.pk, "created", {"channel": channel.pk}) for c in new_conversations]
        for row, _conversation, message in messages:
            events.append((message.conversation_id, "message_received" if row.inbound else "reply_imported",
                           {"message_id": message.pk} if row.inbound else {"message_id": message.pk, "author": row.sender}))
        _insert_events(events, now)
        stored = []
        for row, _conversation, message in messages:
            self._remember(row.external_id, message.conversation_id,
                           message.author_contact_id if row.inbound else local[row.external_id][1])
            stored.append(row.external_id)
            if row.inbound:
                report.inbound += 1
            else:
                report.outbound += 1
        return stored

    def _bulk_create(self, model, objs: list) -> None:
        if self.can_return_ids:
            _fast_insert(model, objs)
        else:  # databases that cannot return ids from a bulk insert
            for obj in objs:
                obj.save(force_insert=True)

    def _resolve_contacts(self, rows: list[Row]) -> None:
        wanted: dict[tuple[str, str], str] = {}
        for row in rows:
            kind = self._kind(row.sender)
            key = (kind, normalize_handle(kind, row.sender))
            if key not in self.contacts and key not in wanted:
                wanted[key] = row.sender_name
        if not wanted:
            return
        by_kind: dict[str, list[str]] = defaultdict(list)
        for kind, handle in wanted:
            by_kind[kind].append(handle)
        for kind, handles in by_kind.items():
            for handle, contact_id in Identity.objects.filter(kind=kind, handle__in=handles).values_list(
                    "handle", "contact_id"):
                self.contacts[(kind, handle)] = contact_id
                wanted.pop((kind, handle), None)
        if not wanted:
            return
        if len(self.contacts) > MAX_CACHE:
            self.contacts.clear()
        keys = list(wanted)
        contacts = [Contact(name=wanted[k][:200], is_demo=self.channel.is_demo) for k in keys]
        self._bulk_create(Contact, contacts)
        self._bulk_create(Identity, [Identity(contact=c, kind=k[0], handle=k[1], display_name=wanted[k][:200])
                                     for k, c in zip(keys, contacts, strict=True)])
        for key, contact in zip(keys, contacts, strict=True):
            self.contacts[key] = contact.pk
        self.report.contacts += len(contacts)


def _fast_insert(model, objs: list, chunk: int = 400) -> None:
    """What ``bulk_create`` does (multi-row INSERT … RETURNING id, ids set on the objects), with a
    cheaper preparation of values: plain values pass through, dates and JSON are adapted once per
    value. Only for the field types the import writes; ``auto_now_add`` fields get one timestamp."""
    if not objs:
        return
    from django.db import models as m

    ops = connection.ops
    stamp = ops.adapt_datetimefield_value(timezone.now())
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    adapters = []
    for f in fields:
        if isinstance(f, m.DateTimeField):
            if getattr(f, "auto_now_add", False) or getattr(f, "auto_now", False):
                adapters.append(lambda value: stamp)
            else:
                adapters.append(lambda value: None if value is None else ops.adapt_datetimefield_value(value))
        elif isinstance(f, m.JSONField):
            adapters.append(lambda value, f=f: f.get_db_prep_save(value, connection))
        else:
            adapters.append(None)
    attnames = [f.attname for f in fields]
    for obj in objs:  # a related object saved earlier in the batch: take its id (as bulk_create does)
        for f in model._meta.concrete_fields:
            if f.is_relation and getattr(obj, f.attname) is None and f.is_cached(obj):
                related = f.get_cached_value(obj)
                if related is not None:
                    setattr(obj, f.attname, related.pk)
    table = ops.quote_name(model._meta.db_table)
    columns = ", ".join(ops.quote_name(f.column) for f in fields)
    pk = ops.quote_name(model._meta.pk.column)
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(objs), chunk):
            part = objs[start : start + chunk]
            params = []
            for obj in part:
                for name, adapt in zip(attnames, adapters, strict=True):
                    value = getattr(obj, name)
                    params.append(adapt(value) if adapt else value)
            cursor.execute(f"INSERT INTO {table} ({columns}) VALUES {', '.join([one] * len(part))} RETURNING {pk}",
                           params)
            for obj, (new_id,) in zip(part, cursor.fetchall(), strict=True):
                obj.pk = new_id
                obj._state.adding = False
                obj._state.db = "default"


def _insert_events(events: list[tuple[int, str, dict]], now: datetime) -> None:
    """The event log rows of a batch in one executemany: the same rows ``record()`` writes, without
    the ORM's per-field preparation (the largest cost of a bulk import)."""
    if not events:
        return
    table = connection.ops.quote_name(ConversationEvent._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in
                        ("conversation_id", "actor_id", "kind", "data", "reason", "created_at"))
    created = connection.ops.adapt_datetimefield_value(now)
    sql = f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s, %s, %s)"
    params = [(conversation_id, None, kind, json.dumps(data), "imported", created)
              for conversation_id, kind, data in events]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _apply(conv: Conversation, agg: dict) -> None:
    last_when, last_inbound = agg["last"]
    if last_when >= conv.last_activity_at:
        conv.last_activity_at = last_when
        conv.waiting_for_us = last_inbound
        if conv.status in (Conversation.Status.NEW, Conversation.Status.RESOLVED):
            conv.status = Conversation.Status.NEW if last_inbound else Conversation.Status.RESOLVED
            conv.resolved_at = None if last_inbound else last_when
    if agg["last_in"] and (conv.last_inbound_at is None or agg["last_in"] > conv.last_inbound_at):
        conv.last_inbound_at = agg["last_in"]
    if agg["first_out"] and (conv.first_response_at is None or agg["first_out"] < conv.first_response_at):
        conv.first_response_at = agg["first_out"]


def _subject_from(text: str) -> str:
    first = " ".join((text or "").split())
    return first[:77] + "…" if len(first) > 80 else first


# --- the whole file -----------------------------------------------------------------------------


def count_rows(path: Path, fmt: str) -> int | None:
    try:
        with open(path, "rb") as handle:
            lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    except OSError:
        return None
    return max(0, lines - (1 if fmt == "csv" else 0))


def import_file(path: str | Path, channel_name: str, *, mapping_path: str | Path | None = None, fmt: str = "",
                batch_size: int = 500, analyze: bool = False, progress_factory=None, limit: int | None = None) -> Report:
    """Import a CSV/JSONL file into the channel named ``channel_name`` (created as kind "import" if missing)."""
    from resonanz.connectors.actions import create_channel, update_channel
    from resonanz.connectors.models import Channel

    path = Path(path)
    if not path.is_file():
        raise ImportFileError(f"no such file: {path}")
    fmt = file_format(path, fmt)
    given = load_mapping(mapping_path)
    stream = records(path, fmt)
    first = next(stream, None)
    mapping, layout = detect_mapping(first[1] if first else None, given)
    mapping["_given"] = tuple(given or ())
    if layout == "twcs":
        mapping["_given"] = ("inbound",)
    channel = Channel.objects.filter(name__iexact=channel_name).first()
    if channel is None:
        settings = {"layout": layout}
        if layout == "twcs":
            settings.update(identity_kind="twitter", public=True)
        elif mapping.get("identity_kind"):
            settings["identity_kind"] = mapping["identity_kind"]
        channel = create_channel(kind="import", name=channel_name, settings=settings)
    identity_kind = mapping.get("identity_kind") or (channel.settings or {}).get("identity_kind") or ""
    public = bool(mapping.get("public", (channel.settings or {}).get("public", layout == "twcs")))
    total = count_rows(path, fmt)
    if limit is not None and total is not None:
        total = min(total, limit)
    progress = progress_factory(total) if progress_factory else None
    importer = Importer(channel, layout=layout, identity_kind=identity_kind, is_public=public, analyze=analyze,
                        batch_size=batch_size, progress=progress)

    def rows() -> Iterator[Row]:
        for n, (number, record) in enumerate(itertools.chain([first] if first else [], stream)):
            if limit is not None and n >= limit:
                return
            row = to_row(number, record, mapping, importer.report)
            if row is None:
                importer.report.rows += 1
                if progress is not None:
                    progress.update(1)
            else:
                yield row

    try:
        report = importer.run(rows())
    finally:
        if progress is not None:
            progress.close()
    if analyze and report.inbound:
        from resonanz.inbox.actions import _kick_pipeline

        transaction.on_commit(_kick_pipeline)
    settings = dict(channel.settings or {})
    settings["last_import"] = {"file": path.name, "finished_at": timezone.now().isoformat(timespec="seconds"),
                               **report.as_dict()}
    update_channel(channel, settings=settings)
    report.channel = channel  # type: ignore[attr-defined]
    return report
