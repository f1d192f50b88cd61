"""Group commit: concurrent small ingestions (one API message, one webhook) share one transaction and commit.

Why: a request that stores one message spends most of its write on its own BEGIN, look-ups and COMMIT (on
PostgreSQL a round trip and an fsync per commit); under concurrent load these commits queue behind each other
anyway. Here a request that arrives while another is committing waits for that commit to finish and then goes
with everyone else who arrived meanwhile: one ``ingestion.store`` per channel over all their messages (each
look-up and insert once for the group) and one COMMIT. Each request is answered only after the commit that
holds its message, so a 201 still means "durable". A request that finds nobody committing commits at once:
no waiting is added when there is no load.

Leader and followers, not a writer thread: the first waiting request's own thread writes the group with its own
database connection, so there is no extra connection, nothing to start or stop, and settings (timeouts) apply
as for any request. A caller inside an open transaction (a test, an outer atomic block) never comes here: its
message must commit with its transaction (``ingest_many`` stores it inline).

Failures stay per message. A message the core refuses comes back as its ActionError, as before. If the shared
transaction fails for a reason tied to rows (another process stored the same external id or created the same
sender at the same moment, a deadlock, a value the database refuses), it is rolled back and every request of the
group is stored again on its own, so one bad row never costs the others. A database that is unavailable
(busy beyond its timeout, restarting) fails every request of the group with that error: nothing was stored, and
the API answers 503 so the client sends again (idempotent on the external id).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import InterfaceError, OperationalError, transaction

#: the most messages one shared transaction holds (a longer queue is committed in several groups)
MAX_GROUP = 500
#: requests with more messages than this commit on their own (they amortize their commit already)
MAX_TICKET = 50
#: SQLSTATEs of PostgreSQL errors that concern rows, not the server: a deadlock, a serialization failure
_ROW_STATES = {"40P01", "40001"}


@dataclass(eq=False)
class Ticket:
    """One caller's messages, waiting for a commit (or for the caller's turn to lead one)."""

    channel: object
    items: list
    is_demo: bool
    done: threading.Event = field(default_factory=threading.Event)
    lead: bool = False
    results: list | None = None
    error: BaseException | None = None

    def outcome(self) -> list:
        if self.error is not None:
            raise self.error
        assert self.results is not None
        return self.results


@dataclass
class Stats:
    """Counts since start: how many groups were committed and how many requests and messages they held."""

    groups: int = 0
    tickets: int = 0
    messages: int = 0
    fallbacks: int = 0


class GroupCommit:
    """Queue of callers; one of them at a time writes a group (see the module docstring).

    ``store_group(tickets)`` writes all tickets inside the open transaction and sets each one's results;
    ``store_alone(ticket)`` stores one ticket in its own transaction(s) and returns its results (the path
    after a failed group); ``after_commit(results)`` runs once the group committed (events, pipeline kick).
    """

    def __init__(self, store_group: Callable[[list[Ticket]], None], store_alone: Callable[[Ticket], list],
                 after_commit: Callable[[list], None], *, max_group: int = MAX_GROUP) -> None:
        self._store_group, self._store_alone, self._after_commit = store_group, store_alone, after_commit
        self._max_group = max_group
        self._lock = threading.Lock()
        self._waiting: list[Ticket] = []
        self._leading = False
        self.stats = Stats()

    def waiting(self) -> int:
        """Tickets queued and not yet taken into a group (for tests and monitoring)."""
        with self._lock:
            return len(self._waiting)

    def submit(self, channel, items: list, *, is_demo: bool = False) -> list:
        """Store ``items`` of ``channel`` with whoever else is waiting; returns once they are committed."""
        ticket = Ticket(channel, list(items), is_demo)
        with self._lock:
            self._waiting.append(ticket)
            lead = not self._leading  # nobody leads: the queue was empty, this ticket is first
            self._leading = True
        if not lead:
            ticket.done.wait()
            if not ticket.lead:
                return ticket.outcome()
        self._lead()
        return ticket.outcome()

    def _take(self) -> list[Ticket]:
        with self._lock:
            group, count = [], 0
            while self._waiting and (not group or count + len(self._waiting[0].items) <= self._max_group):
                ticket = self._waiting.pop(0)
                group.append(ticket)
                count += len(ticket.items)
            return group

    def _lead(self) -> None:
        group = self._take()  # the leader's own ticket is first in the queue, so it is in this group
        try:
            self._commit(group)
        finally:
            for ticket in group:
                if ticket.results is None and ticket.error is None:  # interrupted: never leave anyone waiting
                    ticket.error = RuntimeError("the group commit was interrupted; nothing is known to be stored")
            with self._lock:
                if self._waiting:  # the next caller in the queue leads the next group from its own thread
                    successor = self._waiting[0]
                    successor.lead = True
                    successor.done.set()
                else:
                    self._leading = False
            for ticket in group:
                ticket.done.set()

    def _commit(self, group: list[Ticket]) -> None:
        self.stats.groups += 1
        self.stats.tickets += len(group)
        self.stats.messages += sum(len(t.items) for t in group)
        try:
            with transaction.atomic():
                self._store_group(group)
        except (OperationalError, InterfaceError) as exc:
            if _sqlstate(exc) not in _ROW_STATES:  # the database itself failed: nothing stored, all retry
                for ticket in group:  # each thread raises an exception object of its own
                    ticket.results, ticket.error = None, exc if ticket is group[0] else _copy(exc)
                return
            self._one_by_one(group)
            return
        except Exception:  # noqa: BLE001  (a race on a unique key, a refused value: each ticket again alone)
            self._one_by_one(group)
            return
        self._after_commit([r for ticket in group for r in ticket.results or ()])

    def _one_by_one(self, group: list[Ticket]) -> None:
        self.stats.fallbacks += 1
        for ticket in group:
            ticket.results = None
            try:
                ticket.results = self._store_alone(ticket)
            except Exception as exc:  # noqa: BLE001  (this caller's error, raised in its own thread)
                ticket.error = exc


def _copy(exc: BaseException) -> BaseException:
    try:
        clone = copy.copy(exc)
    except Exception:  # noqa: BLE001  (an exception that cannot be copied is shared)
        return exc
    clone.__cause__, clone.__traceback__ = exc.__cause__, None
    return clone


def _sqlstate(exc: BaseException) -> str:
    cause = exc.__cause__
    return str(getattr(cause, "sqlstate", "") or getattr(cause, "pgcode", "") or "")
