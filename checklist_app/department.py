"""The room's side of the department hub: the background push worker, the anchor check, other rooms' cases.

Qt-free. The worker is a plain thread with its **own read-only store** (WAL lets it read while the
window writes); it never writes to the room's database and never touches the service's snapshots,
so the tick path cannot feel the hub. It reports a `PushStatus` through a callback (the window
turns that into a queued signal). Everything network-facing is in `sync/` (hub client, pusher).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Collection
from contextlib import suppress
from pathlib import Path

from .domain.clock import Clock, SystemClock
from .domain.events import Event
from .domain.state import CaseState
from .site import SiteConfig
from .store import Store, StoreError, open_store
from .sync.case_ids import hub_case_id, named_case_id
from .sync.config import DepartmentConfig
from .sync.department import CaseFinding, HubCase
from .sync.hub import Hub
from .sync.pusher import Marks, Pusher, PushStatus

log = logging.getLogger("checklist_app.department")


class StoreRecord:
    """The pusher's view of a room's record: a read-only store opened in the worker's own thread."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def case_heads(self, only: Collection[str] | None = None) -> dict[str, int]:
        return self.store.event_counts(None if only is None else list(only))

    def events(self, case_id: str, after: int = 0, limit: int | None = None) -> list[Event]:
        return self.store.events_after(case_id, after, limit)


def connect(config: DepartmentConfig, **options: object) -> Hub:
    """A hub client for this room (one per thread)."""
    return Hub(config.url, password=config.password, **options)  # type: ignore[arg-type]


def marks_path(db_path: Path) -> Path:
    """The pusher's cache of the hub's heads, beside the database (deleting it loses nothing)."""
    return db_path.with_name(db_path.name + ".hub-marks.json")


def adopt_room(store: Store, room: str) -> bool:
    """The migration to department case ids: record the room code in the database once.

    New cases are then named ROOM-YYYYMMDD-NNN; older cases keep their ids and chains and are filed
    on the hub as ROOM/YYYYMMDD-NNN (sync/case_ids.py). True if the code was recorded now. Raises
    StoreError if the database belongs to another room. A read-only store is only checked.
    """
    recorded = store.room_code()
    if recorded is not None and recorded != room:
        raise StoreError(
            f"The database {store.path} belongs to room {recorded}, not {room}: check the room code "
            "(department.toml or CHECKLIST_APP_ROOM). Nothing was changed."
        )
    if recorded is None and not store.readonly:
        return store.adopt_room_code(room)
    return False


class PushWorker:
    """The background thread that pushes the room's events to the hub, round after round.

    `on_status` is called from the worker thread after every round. `wake()` starts the next round
    at once (the window calls it after each stored change); `stop()` ends the thread (a round in
    flight finishes or fails on its short timeouts first; nothing is lost either way).
    """

    def __init__(
        self,
        db_path: Path,
        config: DepartmentConfig,
        *,
        on_status: Callable[[PushStatus], None] | None = None,
        clock: Clock | None = None,
        connect_hub: Callable[[], Hub] | None = None,
    ) -> None:
        self.db_path, self.config = Path(db_path), config
        self.on_status = on_status or (lambda status: None)
        self.clock = clock or SystemClock()
        self._connect = connect_hub or (lambda: connect(config))
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._hints_lock = threading.Lock()
        self._hints: set[str] = set()
        self._full = False
        self._thread = threading.Thread(target=self._run, name="department-push", daemon=True)
        self.status = PushStatus("starting")
        self.rounds = 0

    def start(self) -> PushWorker:
        self._thread.start()
        return self

    def wake(self, case_id: str | None = None) -> None:
        """Start the next round now; with `case_id` (a case just changed) that round looks at it alone."""
        with self._hints_lock:
            if case_id is None:
                self._full = True
            else:
                self._hints.add(case_id)
        self._wake.set()

    def _take_hints(self) -> set[str] | None:
        """The cases to look at in this round (None: all of them)."""
        with self._hints_lock:
            hints, full = self._hints, self._full
            self._hints, self._full = set(), False
        return None if full or not hints else hints

    def stop(self, timeout: float = 30.0) -> bool:
        """Ask the thread to end and wait up to `timeout` seconds; True if it has ended."""
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        # Below the window's thread for the CPU (Linux schedules threads one by one): a catch-up
        # never competes with a tick for a core.
        with suppress(AttributeError, OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
        try:
            store = open_store(self.db_path, readonly=True)
        except StoreError as exc:
            self._report(PushStatus("refused", message=f"The worker cannot read the room's database: {exc}"))
            return
        marks = Marks(marks_path(self.db_path), f"{self.config.url} {self.config.room}")
        pusher = Pusher(self.config.room, StoreRecord(store), self._connect, self.clock, marks=marks)
        try:
            while not self._stopping.is_set():
                woken = self._wake.is_set()
                self._wake.clear()
                self._report(self._round(pusher, self._take_hints() if woken else None))
                self._wake.wait(pusher.next_delay)
        finally:
            pusher.close()
            store.close()

    def _round(self, pusher: Pusher, only: set[str] | None) -> PushStatus:
        try:
            return pusher.run_once(only)
        except Exception as exc:  # noqa: BLE001 - the worker reports and carries on; it never dies silently
            log.exception("department push round failed")
            return PushStatus("refused", message=f"Unexpected error in the department worker ({type(exc).__name__}).")

    def _report(self, status: PushStatus) -> None:
        self.status = status
        self.rounds += 1
        try:
            self.on_status(status)
        except Exception:  # noqa: BLE001 - a broken listener must not stop the pushes
            log.exception("department status listener failed")


# -- the anchor check ---------------------------------------------------------------------------


def verify_against_hub(store: Store, hub: Hub, room: str) -> list[CaseFinding]:
    """Every local case head against the hub (`checklist-app department verify`), in hub ids.

    Reads each case's stored events (not the case row), so a rewritten event is caught even when
    whoever rewrote it fixed the row's head too.
    """
    heads: dict[str, tuple[int, str]] = {}
    by_hub: dict[str, str] = {}
    for row in store.list_cases():
        events = store.events(row.id)
        hub_id = hub_case_id(room, row.id)
        by_hub[hub_id] = row.id
        if events:
            heads[hub_id] = (events[-1].seq, events[-1].hash)

    def hash_at(hub_id: str, seq: int) -> str | None:
        events = store.events(by_hub.get(hub_id, named_case_id(hub_id)))
        return events[seq - 1].hash if 0 < seq <= len(events) else None

    return hub.department_verify(room, heads, hash_at)


# -- other rooms' cases, read-only ----------------------------------------------------------------


def fold_case(events: list[Event], site: SiteConfig) -> CaseState:
    """A case from the hub as a frozen, read-only snapshot (for viewing and printing its note)."""
    if not events:
        raise StoreError("The hub has no such case.")
    procedure = events[0].values.get("setup", {}).get("procedure")
    template = site.templates.get(procedure)
    if template is None:
        raise StoreError(f"No template installed for {procedure}: this case cannot be shown here.")
    state = CaseState(template, site.catalogue, site.settings, site.coding)
    try:
        for event in events:
            state.apply(event)
        return state.freeze()
    except (KeyError, ValueError, TypeError) as exc:  # e.g. a record made by a newer or foreign program
        raise StoreError(
            f"Case {events[0].case_id} from the hub cannot be shown here: this program cannot read its "
            f"record ({type(exc).__name__}: {exc}). It is intact on the hub."
        ) from None


class DepartmentCases:
    """The department's read-only views for the window and the command line (never a writer)."""

    def __init__(self, config: DepartmentConfig, site: SiteConfig, *, connect_hub: Callable[[], Hub] | None = None):
        self.config, self.site = config, site
        self._connect = connect_hub or (lambda: connect(config))

    def cases(self, **filters: object) -> list[HubCase]:
        with self._connect() as hub:
            return hub.cases(**filters)  # type: ignore[arg-type]

    def case(self, hub_id: str) -> CaseState:
        with self._connect() as hub:
            return fold_case(hub.case_events(hub_id), self.site)
