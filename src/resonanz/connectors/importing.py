"""The import channel's reader behind ``resonanz import``: CSV or JSONL history into conversations.

Rows become InboundMessage items marked as history and go through the same intake and ingestion
core as every other message (``inbox.ingestion``: one transaction per batch, lookups once per batch,
multi-row inserts), so a history of millions of rows loads at thousands of rows per second.

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

from django.utils import timezone

from resonanz.connectors import intake
from resonanz.connectors.actions import create_channel, update_channel
from resonanz.connectors.drivers.webhook import resolve
from resonanz.connectors.intake import InboundMessage
from resonanz.connectors.models import Channel
from resonanz.core.errors import ActionError
from resonanz.core.sanitize import clean_text

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
    if text.isascii() and text.isdigit():
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


# --- the engine ---------------------------------------------------------------------------------


class Importer:
    """Feeds rows to the intake in batches, parents before children; the ingestion core writes them.

    A row whose parent is neither stored nor earlier in the file waits (it is refused by the intake
    with ``requires_parent``) until its parent is stored; at the end, customers' rows whose parent never
    came start their own conversation and company replies without a known parent are skipped.
    """

    def __init__(self, channel, *, layout: str = "mapping", identity_kind: str = "", is_public: bool = False,
                 analyze: bool = False, batch_size: int = 500, progress=None) -> None:
        self.channel = channel
        self.identity_kind = identity_kind
        self.is_public = is_public
        self.analyze = analyze
        self.batch_size = batch_size
        self.progress = progress
        self.report = Report()
        self.waiting: dict[str, list[Row]] = defaultdict(list)

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

    def _process(self, rows: list[Row]) -> None:
        self.report.rows += len(rows)
        stored = self._store(rows, orphans=False)
        if self.progress is not None:
            self.progress.update(len(rows))
        self._release(stored)

    def _release(self, stored: list[str]) -> None:
        """Rows that waited for a parent stored now go in the next batches."""
        released = [child for ext in stored for child in self.waiting.pop(ext, ())]
        while released:
            chunk, released = released[:self.batch_size], released[self.batch_size:]
            more = self._store(chunk, orphans=False)
            released.extend(child for ext in more for child in self.waiting.pop(ext, ()))

    def _finish_waiting(self) -> None:
        """Rows whose parent never came: customers' rows start a conversation, replies are skipped."""
        while self.waiting:
            pending = {row.external_id for rows in self.waiting.values() for row in rows}
            roots = [key for key in self.waiting if key not in pending] or list(self.waiting)
            orphans = [row for key in roots for row in self.waiting.pop(key)]
            for i in range(0, len(orphans), self.batch_size):
                self._release(self._store(orphans[i:i + self.batch_size], orphans=True))

    def _store(self, rows: list[Row], *, orphans: bool) -> list[str]:
        """Hand one batch to the intake (one transaction); returns the external ids now stored."""
        report = self.report
        unique: dict[str, Row] = {}
        for row in rows:
            if row.external_id in unique:
                report.skip(ALREADY, row.line, "twice in the file")
            else:
                unique[row.external_id] = row
        ordered = _parents_first(list(unique.values()))
        items = []
        for row in ordered:
            if orphans and row.parent and row.inbound:
                row.parent_missing = True
            items.append(InboundMessage(
                external_id=row.external_id, sender_handle=row.sender, sender_name=row.sender_name,
                text=row.text, subject=row.subject, sent_at=row.sent_at, is_public=self.is_public,
                in_reply_to="" if row.parent_missing else row.parent, identity_kind=self.identity_kind,
                history=True, outbound=not row.inbound, analyze=self.analyze and row.inbound,
                requires_parent=bool(row.parent) and not row.parent_missing,
            ))
        stored = []
        for row, result in zip(ordered, intake.submit(self.channel, items), strict=True):
            if isinstance(result, ActionError):
                if result.field != "in_reply_to":
                    report.skip(BAD_ROW, row.line, str(result))
                elif not row.parent:
                    report.skip(NO_THREAD, row.line)
                elif not orphans:
                    self.waiting[row.parent].append(row)
                else:
                    report.skip(UNKNOWN_PARENT, row.line, f"reply to {row.parent}")
                continue
            if not result.created:
                report.skip(ALREADY, row.line)
                stored.append(row.external_id)
                continue
            stored.append(row.external_id)
            report.conversations += result.new_conversation
            report.contacts += result.new_contact
            if row.inbound:
                report.inbound += 1
                report.orphans_started += row.parent_missing
            else:
                report.outbound += 1
        return stored


def _parents_first(rows: list[Row]) -> list[Row]:
    """Order a batch so a parent comes before the rows that reply to it (the file may be in any order)."""
    by_id = {row.external_id: row for row in rows}
    placed: set[str] = set()
    ordered: list[Row] = []

    def place(row: Row, depth: int = 0) -> None:
        if row.external_id in placed:
            return
        parent = by_id.get(row.parent)
        if parent is not None and parent.external_id not in placed and depth < 1000:
            placed.add(row.external_id)  # a cycle of replies ends here
            place(parent, depth + 1)
            placed.discard(row.external_id)
        placed.add(row.external_id)
        ordered.append(row)

    for row in rows:
        place(row)
    return ordered


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
    settings = dict(channel.settings or {})
    settings["last_import"] = {"file": path.name, "finished_at": timezone.now().isoformat(timespec="seconds"),
                               **report.as_dict()}
    update_channel(channel, settings=settings)
    report.channel = channel  # type: ignore[attr-defined]
    return report
