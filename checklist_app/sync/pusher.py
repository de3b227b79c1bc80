"""The push loop of a room's background worker, without threads: one `run_once()` is one round.

A round compares the room's case heads (how many events each case holds) with the hub's, pushes
what follows the hub's head of each case, and says where things stand (`PushStatus`). The hub's
head is the truth: after start-up and after any fault the pusher asks `heads()` again, so a kill at
any moment (room or hub) costs a repeat at most, never a loss or a duplicate (pushes are idempotent).
The pusher only reads the room's record (through `RoomRecord`) and never writes to it; what it
remembers between runs (`Marks`, a small file) is a cache for the status line, never a decision.

Failures: the hub away, slow, read-only or restarting (HubUnavailable) → back off (1, 2, 4 ... 60 s)
and retry; a case the hub refuses (fork, broken chain, another room's id, a copy that does not
verify) → that case is parked with its message and the others go on; a login or schema the hub
refuses, or a defect → everything waits the longest back-off and the message is shown.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import tempfile
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from checklist_app.domain.clock import Clock
from checklist_app.domain.events import Event
from checklist_app.sync.case_ids import hub_case_id, local_case_id
from checklist_app.sync.department import PushResult
from checklist_app.sync.errors import HubError, HubRejected, HubUnavailable
from checklist_app.sync.hub import Hub

log = logging.getLogger("checklist_app.sync")

POLL_S = 15.0  # in step: look over every case this often (the window wakes the worker after each change)
MAX_BACKOFF_S = 60.0
CASES_PER_ROUND = 200  # a long catch-up reports progress between rounds
EVENTS_PER_COMMIT = 2000  # a catch-up commits many cases at once: one fsync on the hub per ~30 cases
LANES = 2  # connections a catch-up pushes over at once (each group of cases is its own transaction)


class RoomRecord(Protocol):
    """What the pusher reads of the room's own record (a read-only store in the worker's thread)."""

    def case_heads(self, only: Collection[str] | None = None) -> dict[str, int]:
        """{case id: number of stored events} of every case (or of `only`)."""
        ...

    def events(self, case_id: str, after: int = 0, limit: int | None = None) -> list[Event]:
        """A case's stored events after seq `after` (the first `limit`), in seq order (hashes included)."""
        ...


@dataclass(frozen=True)
class PushStatus:
    """Where the room's record stands against the hub, for the status line and the logs."""

    state: str  # "in_step", "waiting", "unavailable", "refused" (login, schema or defect), "starting"
    waiting_events: int = 0
    waiting_cases: int = 0
    since: datetime | None = None  # recorded time of the oldest event not yet on the hub
    last_contact: datetime | None = None
    message: str = ""  # the last failure, one line (no patient data)
    parked: Mapping[str, str] = field(default_factory=dict)  # case id -> why the hub refuses it

    @property
    def problem(self) -> bool:
        """Something a person must look at (not a passing outage)."""
        return self.state == "refused" or bool(self.parked)

    def text(self) -> str:
        """One calm line: 'department: 12 events waiting since 10:42'."""
        waiting = ""
        if self.waiting_events:
            plural = "" if self.waiting_events == 1 else "s"
            waiting = f"{self.waiting_events} event{plural} waiting" + (
                f" since {_clock_time(self.since)}" if self.since else ""
            )
        parts = {
            "in_step": "up to date",
            "starting": "connecting",
            "waiting": waiting or "up to date",
            "unavailable": "hub not reachable, kept here" + (f"; {waiting}" if waiting else ""),
            "refused": "the hub refused this room (see department status)" + (f"; {waiting}" if waiting else ""),
        }
        line = f"department: {parts.get(self.state, self.state)}"
        if self.parked:
            count = len(self.parked)
            line += f"; {count} case{'' if count == 1 else 's'} refused by the hub"
        return line


def _clock_time(moment: datetime) -> str:
    return moment.astimezone().strftime("%H:%M")


class Marks:
    """The hub heads last seen, kept in a small JSON file beside the database (a cache, never the truth)."""

    def __init__(self, path: Path | None, key: str) -> None:
        self.path, self.key = path, key

    def load(self) -> dict[str, int]:
        if self.path is None or not self.path.is_file():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            heads = data["heads"] if data.get("hub") == self.key else {}
            return {str(case): int(seq) for case, seq in heads.items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return {}  # a damaged cache only makes the status line pessimistic until the hub answers

    def save(self, heads: Mapping[str, int]) -> None:
        if self.path is None:
            return
        text = json.dumps({"hub": self.key, "heads": dict(heads)}, sort_keys=True)
        try:
            handle, temp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(temp, self.path)
        except OSError as exc:
            log.warning("cannot keep the hub marks in %s: %s", self.path, exc)


class Pusher:
    """One room's push rounds against one hub. Not thread-safe: one pusher per worker thread."""

    def __init__(
        self,
        room: str,
        record: RoomRecord,
        connect: Callable[[], Hub],
        clock: Clock,
        *,
        marks: Marks | None = None,
        cases_per_round: int = CASES_PER_ROUND,
    ) -> None:
        self.room, self.record, self.clock = room, record, clock
        self._connect = connect
        self._hub: Hub | None = None
        self._marks = marks or Marks(None, "")
        self._known: dict[str, int] = self._marks.load()  # local id -> hub head seq, last seen
        self._local: dict[str, int] = {}  # local id -> stored events, as last read
        self._fresh = False  # _known was read from the hub since the last fault
        self._parked: dict[str, tuple[int, str]] = {}  # local id -> (local count when parked, why)
        self._since: dict[tuple[str, int], datetime] = {}
        self._failures = 0
        self._last_contact: datetime | None = None
        self._cases_per_round = cases_per_round
        self._more = False  # the last round left pushable cases for the next one
        self._lanes: list[Hub] = []  # extra connections of a catch-up (LANES - 1 of them)
        self.status = PushStatus("starting")

    @property
    def next_delay(self) -> float:
        """Seconds until the next round: the poll interval, or the back-off after failures."""
        if self.status.state in ("unavailable", "refused"):
            return min(MAX_BACKOFF_S, 2.0 ** max(self._failures - 1, 0))
        if self.status.state == "waiting" and self._more:
            return 0.0  # more to push (a long catch-up): go on at once
        return POLL_S

    def close(self) -> None:
        for hub in (self._hub, *self._lanes):
            if hub is not None:
                hub.close()
        self._hub, self._lanes = None, []

    def run_once(self, only: Collection[str] | None = None) -> PushStatus:
        """One round: refresh the hub's heads if needed, push what is waiting, return the status.

        `only` (the cases the window just changed) limits the round to those cases once the hub's
        heads are known; without it every case is looked at.
        """
        targeted = bool(only) and self._fresh and bool(self._local)
        if targeted:
            self._local.update(self.record.case_heads(only))
        else:
            self._local = self.record.case_heads()
        local = {case: self._local[case] for case in only or () if case in self._local} if targeted else self._local
        problem: HubError | None = None
        self._more = False
        try:
            if not self._fresh:
                self._refresh()
            pending = self._pending(local)
            self._push_cases(pending[: self._cases_per_round])
            self._more = len(pending) > self._cases_per_round
            self._failures = 0
        except HubError as exc:  # unavailable: retry later; a refused login or schema, or a defect: shown
            problem = exc
        if problem is not None:
            self._failures += 1
            self._fresh = False
            self.close()
        self._marks_changed()
        self.status = self._status(self._local, problem)
        return self.status

    # -- the round's parts -------------------------------------------------------------------------

    def _hub_client(self) -> Hub:
        if self._hub is None:
            self._hub = self._connect()
        return self._hub

    def _refresh(self) -> None:
        heads = self._hub_client().heads(self.room)
        known = {}
        for hub_id, (seq, _hash) in heads.items():
            local_id = local_case_id(self.room, hub_id)
            if local_id is not None:
                known[local_id] = seq
        self._known = known
        self._fresh = True
        self._last_contact = self.clock.now()

    def _pending(self, local: Mapping[str, int]) -> list[tuple[str, int]]:
        """Cases with events the hub lacks, oldest id first, parked ones left out until they change."""
        pending = []
        for case_id in sorted(local):
            count = local[case_id]
            parked = self._parked.get(case_id)
            if parked is not None and parked[0] == count:
                continue
            if count > self._known.get(case_id, 0):
                pending.append((case_id, count))
        return pending

    def _push_cases(self, pending: list[tuple[str, int]]) -> None:
        """Push the pending cases, several to a transaction (one commit per EVENTS_PER_COMMIT events)."""
        groups: list[list[tuple[str, int, list[Event]]]] = []
        group: list[tuple[str, int, list[Event]]] = []
        size = 0
        for case_id, count in pending:
            # From the hub's head itself: the hub skips it if it is the same event, and refuses it as a
            # fork (recorded, never overwritten) if this room's record now holds a different one there.
            start = max(self._known.get(case_id, 0) - 1, 0)
            try:
                events = [event for event in self.record.events(case_id, after=start) if event.seq <= count]
            except Exception as exc:  # noqa: BLE001 - one unreadable case must not stop the others
                self._parked[case_id] = (count, f"Case {case_id} cannot be read here ({exc}); run 'verify'.")
                continue
            group.append((case_id, count, events))
            size += len(events)
            if size >= EVENTS_PER_COMMIT:
                groups.append(group)
                group, size = [], 0
        if group:
            groups.append(group)
        if len(groups) == 1:
            self._apply(groups[0], self._push_group(self._hub_client(), groups[0]))
        elif groups:
            self._push_in_lanes(groups)

    def _push_in_lanes(self, groups: list[list[tuple[str, int, list[Event]]]]) -> None:
        """A catch-up: the groups (disjoint cases, each its own transaction) over LANES connections at
        once, so the hub's checks of one group run while the next is sent. Outcomes are applied here,
        in this thread; the first failure is raised after every lane has stopped."""
        hubs: queue.SimpleQueue[Hub] = queue.SimpleQueue()
        hubs.put(self._hub_client())
        while len(self._lanes) < LANES - 1:
            self._lanes.append(self._connect())
        for lane in self._lanes:
            hubs.put(lane)

        def push(group: list[tuple[str, int, list[Event]]]) -> list[PushResult | HubRejected]:
            hub = hubs.get()
            try:
                return self._push_group(hub, group)
            finally:
                hubs.put(hub)

        failure: HubError | None = None
        with ThreadPoolExecutor(max_workers=LANES, thread_name_prefix="department-lane") as lanes:
            futures = [(group, lanes.submit(push, group)) for group in groups]
            for group, future in futures:
                try:
                    self._apply(group, future.result())
                except HubError as exc:
                    failure = failure or exc
        if failure is not None:
            raise failure

    def _push_group(self, hub: Hub, group: list[tuple[str, int, list[Event]]]) -> list[PushResult | HubRejected]:
        items = [(hub_case_id(self.room, case_id), events) for case_id, _count, events in group]
        return hub.push_cases(self.room, items)  # HubUnavailable and the like: the whole round stops

    def _apply(self, group: list[tuple[str, int, list[Event]]], outcomes: list[PushResult | HubRejected]) -> None:
        for (case_id, count, _events), outcome in zip(group, outcomes, strict=True):
            if isinstance(outcome, HubRejected):  # a fork, a broken chain, another room's id: waits for a person
                self._parked[case_id] = (count, str(outcome))
                log.warning("case %s parked: %s", case_id, outcome)
            else:
                self._parked.pop(case_id, None)
                self._known[case_id] = outcome.head[0]
        self._last_contact = self.clock.now()

    def _marks_changed(self) -> None:
        if self._fresh:
            self._marks.save(self._known)

    def _status(self, local: Mapping[str, int], problem: HubError | None) -> PushStatus:
        waiting_events = waiting_cases = 0
        since: datetime | None = None
        keep: dict[tuple[str, int], datetime] = {}
        truncated = {}
        for case_id, count in local.items():
            on_hub = self._known.get(case_id, 0)
            if count < on_hub:
                truncated[case_id] = (
                    f"Case {case_id}: the hub holds {on_hub} events, this room only {count}; run 'department verify'."
                )
            if count <= on_hub:
                continue
            waiting_cases += 1
            waiting_events += count - on_hub
            moment = self._since.get((case_id, on_hub)) or self._first_waiting(case_id, on_hub)
            if moment is not None:
                keep[(case_id, on_hub)] = moment
                since = moment if since is None or moment < since else since
        self._since = keep
        parked = {case: why for case, (_count, why) in self._parked.items()} | truncated
        if problem is None:
            state = "waiting" if waiting_events else "in_step"
        else:
            state = "unavailable" if isinstance(problem, HubUnavailable) else "refused"
        return PushStatus(
            state=state,
            waiting_events=waiting_events,
            waiting_cases=waiting_cases,
            since=since,
            last_contact=self._last_contact,
            message="" if problem is None else str(problem),
            parked=parked,
        )

    def _first_waiting(self, case_id: str, on_hub: int) -> datetime | None:
        try:
            events = self.record.events(case_id, after=on_hub, limit=1)
        except Exception as exc:  # noqa: BLE001 - the status line must never stop the worker
            log.warning("cannot read case %s for the status line: %s", case_id, exc)
            return None
        return events[0].recorded_time if events else None
