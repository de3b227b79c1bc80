"""The room's client of the department hub: push a case's events, resume, read the department's views.

Push protocol (docs/hub.md): a room sends a case's stored events in seq order, in batches, each
batch one call of the hub's `push_events` in one transaction. The hub recomputes every hash from
the canonical text, skips events it already holds with the same hash (so a push is idempotent and a
retry after any fault is safe), refuses a batch that does not continue its chain, and records a
different event at a known seq as a fork without overwriting anything. The hub's head is the truth:
after a crash on either side the room asks `heads()` and pushes what follows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

from checklist_app.domain.events import GENESIS_HASH, Event
from checklist_app.sync import department as dept
from checklist_app.sync.department import CaseFinding, Fork, Head, HubCase, PushResult
from checklist_app.sync.directory import CATALOGUE, STAFF, DirectoryEntry, check_chain, entry_from_row
from checklist_app.sync.errors import (
    ChainRefused,
    ForkRefused,
    HubCorrupt,
    HubRejected,
    HubSchemaMismatch,
    NotPermitted,
)
from checklist_app.sync.hub_pg import (
    APPLICATION_NAME,
    CONNECT_TIMEOUT_S,
    LOCK_TIMEOUT_MS,
    STATEMENT_TIMEOUT_MS,
    PgSession,
)
from checklist_app.sync.hub_schema import LATEST
from checklist_app.sync.wire import WireEvent, batches, chain_problems, from_canonical, to_wire

log = logging.getLogger("checklist_app.sync")

_CASE_COLUMNS = (
    "case_id, room, service_date, patient_name, mrn, procedure, levels, status, head_seq, head_hash, "
    "last_event_time, last_pushed"
)
_PUSH = "SELECT * FROM checklist_hub.push_events(%s, %s, %s::integer[], %b::text[], %b::text[])"  # binary: no escaping
_HUB_PROBLEMS = """
SELECT case_id, seq, 'its text does not match its hash' FROM checklist_hub.events
 WHERE hash <> encode(sha256(convert_to(canonical, 'UTF8')), 'hex')
UNION ALL
SELECT case_id, seq, 'it does not link to the event before' FROM (
    SELECT case_id, seq, prev_hash, lag(hash) OVER w AS before, lag(seq) OVER w AS seq_before
      FROM checklist_hub.events WINDOW w AS (PARTITION BY case_id ORDER BY seq)) linked
 WHERE seq <> coalesce(seq_before, 0) + 1 OR prev_hash <> coalesce(before, repeat('0', 64))
UNION ALL
SELECT c.case_id, c.head_seq, 'the case''s head is not its last event' FROM checklist_hub.cases c
  LEFT JOIN LATERAL (SELECT e.seq, e.hash FROM checklist_hub.events e WHERE e.case_id = c.case_id
                     ORDER BY e.seq DESC LIMIT 1) last ON true
 WHERE (c.head_seq, c.head_hash) IS DISTINCT FROM (coalesce(last.seq, 0), coalesce(last.hash, repeat('0', 64)))
ORDER BY 1, 2
"""


class Hub:
    """A connection to the department hub for one room (or the quality office). One per thread.

    Every method raises HubUnavailable (retry later), HubRejected (park and show) or HubBug.
    """

    def __init__(
        self,
        url: str,
        *,
        connect_timeout: int = CONNECT_TIMEOUT_S,
        statement_timeout_ms: int = STATEMENT_TIMEOUT_MS,
        lock_timeout_ms: int = LOCK_TIMEOUT_MS,
        application_name: str = APPLICATION_NAME,
        password: str | None = None,
    ) -> None:
        self.db = PgSession(
            url,
            connect_timeout=connect_timeout,
            statement_timeout_ms=statement_timeout_ms,
            lock_timeout_ms=lock_timeout_ms,
            application_name=application_name,
            on_connect=self._check_schema,
            password=password,
        )

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Hub:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _check_schema(self, db: PgSession) -> None:
        """Run on every new connection: refuse a hub whose schema this program does not know."""
        try:
            row = db.one("SELECT max(version) FROM checklist_hub.schema_version")
        except HubRejected:
            raise HubSchemaMismatch(
                f"The hub at {db.where} has no checklist schema (or this login may not read it): "
                "the department's DBA sets the hub up first (docs/hub.md)."
            ) from None
        version = int(row[0] or 0) if row else 0
        if version != LATEST:
            newer = version > LATEST
            raise HubSchemaMismatch(
                f"The hub at {db.where} has schema version {version}; this program knows {LATEST}. "
                + ("Update the program to use this hub." if newer else "The DBA upgrades the hub (docs/hub.md).")
                + " Nothing was sent."
            )

    def login_room(self) -> str | None:
        """The room code this login pushes as (None if the login is not a room of this hub)."""
        row = self.db.one("SELECT code FROM checklist_hub.rooms WHERE role_name = session_user")
        return None if row is None else str(row[0])

    # -- push ------------------------------------------------------------------------------------

    def push(self, room: str, case_id: str, events: Sequence[Event]) -> PushResult:
        """Push `events` of one case (any consecutive run of its stored events, in seq order).

        Idempotent: events the hub holds with the same hash are skipped. Raises ForkRefused,
        ChainRefused, OtherRoomsCase or NotPermitted (HubRejected), or HubUnavailable.
        """
        try:
            wire = to_wire(case_id, events)
        except ValueError as exc:
            raise ChainRefused(f"Nothing was pushed: {exc}.") from None
        accepted = skipped = 0
        head: Head = self.heads_of([case_id]).get(case_id, (0, GENESIS_HASH)) if not wire else (0, GENESIS_HASH)
        for batch in batches(wire):
            with self.db.transaction():
                outcome, added, same, head_seq, head_hash, fork_seq, fork_hash = self._push_batch(room, case_id, batch)
            accepted, skipped, head = accepted + added, skipped + same, (head_seq, head_hash)
            if outcome == "fork":
                offered = next(w.hash for w in batch if w.seq == fork_seq)
                log.warning("fork refused: case %s event %s", case_id, fork_seq)
                raise ForkRefused(case_id, fork_seq, fork_hash, offered)
        log.info("pushed case %s: %d new, %d already on the hub, head %d", case_id, accepted, skipped, head[0])
        return PushResult(case_id, accepted, skipped, head)

    def push_cases(self, room: str, cases: Sequence[tuple[str, Sequence[Event]]]) -> list[PushResult | HubRejected]:
        """Push several cases in **one** transaction (a catch-up: one commit for many cases).

        One outcome per case, in order: its PushResult, or the HubRejected it met (a fork is
        recorded and reported without stopping the others). If one case's events are refused in a
        way that aborts the transaction (a broken chain, another room's id), every case is pushed
        again on its own, so only that case is refused. Raises HubUnavailable, NotPermitted,
        HubSchemaMismatch or HubBug for the whole call.
        """
        wires: list[tuple[str, list[WireEvent]]] = []
        for case_id, events in cases:
            try:
                wires.append((case_id, to_wire(case_id, events)))
            except ValueError:
                return [self._push_alone(room, case_id, events) for case_id, events in cases]
        if any(not wire for _, wire in wires):
            return [self._push_alone(room, case_id, events) for case_id, events in cases]
        outcomes: list[PushResult | HubRejected] = []
        try:
            with self.db.transaction():
                outcomes = [self._push_wire(room, case_id, wire) for case_id, wire in wires]
        except (NotPermitted, HubSchemaMismatch):
            raise
        except HubRejected:
            return [self._push_alone(room, case_id, events) for case_id, events in cases]
        return outcomes

    def _push_wire(self, room: str, case_id: str, wire: list[WireEvent]) -> PushResult | HubRejected:
        """One case's batches inside the caller's transaction; a fork is returned, not raised."""
        accepted = skipped = 0
        head: Head = (0, GENESIS_HASH)
        for batch in batches(wire):
            outcome, added, same, head_seq, head_hash, fork_seq, fork_hash = self._push_batch(room, case_id, batch)
            accepted, skipped, head = accepted + added, skipped + same, (head_seq, head_hash)
            if outcome == "fork":
                log.warning("fork refused: case %s event %s", case_id, fork_seq)
                return ForkRefused(case_id, fork_seq, fork_hash, next(w.hash for w in batch if w.seq == fork_seq))
        return PushResult(case_id, accepted, skipped, head)

    def _push_alone(self, room: str, case_id: str, events: Sequence[Event]) -> PushResult | HubRejected:
        try:
            return self.push(room, case_id, events)
        except (NotPermitted, HubSchemaMismatch):
            raise
        except HubRejected as refusal:
            return refusal

    def _push_batch(self, room: str, case_id: str, batch: list[WireEvent]) -> tuple[Any, ...]:
        """One push_events call (inside the caller's transaction); returns its result row."""
        row = self.db.one(
            _PUSH,
            [room, case_id, [w.seq for w in batch], [w.hash for w in batch], [w.canonical for w in batch]],
        )
        assert row is not None, "push_events always returns one row"
        return row

    def heads(self, room: str) -> dict[str, Head]:
        """{case_id: (seq, hash)} of every case this room has on the hub: resume after these."""
        rows = self.db.rows(
            "SELECT case_id, head_seq, head_hash FROM checklist_hub.cases WHERE room = %s AND head_seq > 0", [room]
        )
        return {case_id: (seq, hash_) for case_id, seq, hash_ in rows}

    def heads_of(self, case_ids: Sequence[str]) -> dict[str, Head]:
        """{case_id: (seq, hash)} of these cases on the hub, whichever room pushed them."""
        rows = self.db.rows(
            "SELECT case_id, head_seq, head_hash FROM checklist_hub.cases WHERE case_id = ANY(%s) AND head_seq > 0",
            [list(case_ids)],
        )
        return {case_id: (seq, hash_) for case_id, seq, hash_ in rows}

    # -- department views ------------------------------------------------------------------------

    def cases(
        self,
        *,
        room: str | None = None,
        date_from: date | None = None,
        date_to: date | None = None,
        limit: int | None = None,
    ) -> list[HubCase]:
        """The department's cases, newest service date first (then case id), optionally filtered."""
        where, params = _case_filters(room, date_from, date_to)
        query = (
            f"SELECT {_CASE_COLUMNS} FROM checklist_hub.cases WHERE {' AND '.join(where)} "
            "ORDER BY service_date DESC, case_id DESC LIMIT %s"
        )
        return [HubCase(*row) for row in self.db.rows(query, [*params, limit])]

    def cases_json(
        self,
        *,
        room: str | None = None,
        date_from: date | None = None,
        date_to: date | None = None,
        limit: int | None = None,
    ) -> str:
        """The same list as `cases()`, as one JSON array built by the server (`department cases --json`):
        at 100,000 cases, decoding rows and building objects in Python would cost most of a second."""
        where, params = _case_filters(room, date_from, date_to)
        # row_to_json of a narrow row is the cheapest JSON PostgreSQL builds (about half the cost of
        # json_build_object); the aggregate's ORDER BY keeps the list's order guaranteed.
        query = (
            "SELECT coalesce(json_agg(c ORDER BY c.date DESC, c.id DESC), '[]')::text FROM ("
            "SELECT case_id AS id, room, service_date AS date, patient_name, mrn, procedure, "
            "coalesce(string_to_array(levels, ' '), '{}') AS levels, status, head_seq AS events "
            f"FROM checklist_hub.cases WHERE {' AND '.join(where)} "
            "ORDER BY service_date DESC, case_id DESC LIMIT %s) c"
        )
        row = self.db.one(query, [*params, limit])
        return str(row[0]) if row else "[]"

    def case_events(self, case_id: str) -> list[Event]:
        """Any room's case, read-only, for viewing or printing its note: [] if the hub has no such case.

        Every event is rebuilt from its stored text and re-checked (hash, links, head): HubCorrupt if
        the hub's copy does not verify, so an altered record is never printed as if it were sound.
        """
        rows = self.db.rows(
            "SELECT e.seq, e.hash, e.canonical, c.head_seq, c.head_hash FROM checklist_hub.events e "
            "JOIN checklist_hub.cases c USING (case_id) WHERE e.case_id = %s ORDER BY e.seq",
            [case_id],
        )
        try:
            events = [from_canonical(text, hash_) for _, hash_, text, _, _ in rows]
        except (ValueError, KeyError, TypeError) as exc:
            raise HubCorrupt(f"Case {case_id}: the hub's copy does not verify ({exc}).") from None
        problems = chain_problems(case_id, events)
        if rows and (rows[-1][3], rows[-1][4]) != (events[-1].seq, events[-1].hash):
            problems.append("its head is not its last event")
        if problems:
            raise HubCorrupt(f"Case {case_id}: the hub's copy does not verify ({problems[0]}).")
        return events

    def forks(self, case_id: str | None = None) -> list[Fork]:
        """Forks the hub refused and recorded, oldest first (all cases, or one)."""
        query = (
            "SELECT case_id, seq, room, hub_hash, offered_hash, first_offered, last_offered, offers "
            "FROM checklist_hub.forks" + (" WHERE case_id = %s" if case_id is not None else "") + " ORDER BY id"
        )
        return [Fork(*row) for row in self.db.rows(query, [case_id] if case_id is not None else [])]

    # -- the department check --------------------------------------------------------------------

    def department_verify(
        self, room: str, local_heads: Mapping[str, Head], local_hash_at: Callable[[str, int], str | None]
    ) -> list[CaseFinding]:
        """Every case of this room, here or on the hub: in step, not yet pushed, or deleted,
        truncated or rewritten here since it was pushed (`checklist-app department verify`).

        `local_heads` is {case_id: (seq, hash)} of the room's database; `local_hash_at(case, seq)`
        gives the hash of one local event (asked only where the room is ahead of the hub).
        """
        rows = self.db.rows(
            "SELECT case_id, room, head_seq, head_hash FROM checklist_hub.cases "
            "WHERE head_seq > 0 AND (room = %s OR case_id = ANY(%s))",
            [room, list(local_heads)],
        )
        hub = dept.heads_from_rows(rows)
        probes = dept.truncation_probes(hub, local_heads)
        hub_hash_at: dict[tuple[str, int], str] = {}
        if probes:
            found = self.db.rows(
                "SELECT e.case_id, e.seq, e.hash FROM checklist_hub.events e "
                "JOIN unnest(%s::text[], %s::integer[]) AS p(case_id, seq) USING (case_id, seq)",
                [[case for case, _ in probes], [seq for _, seq in probes]],
            )
            hub_hash_at = {(case, seq): hash_ for case, seq, hash_ in found}
        return dept.compare(room, hub, local_heads, local_hash_at, hub_hash_at)

    def verify_hub(self) -> list[str]:
        """The hub's own check: every stored event re-hashed from its text and every link re-walked."""
        return [f"Case {case_id} event {seq}: {what}" for case_id, seq, what in self.db.rows(_HUB_PROBLEMS)]

    # -- shared directories ----------------------------------------------------------------------

    def pull_staff(self, since: int = 0, since_hash: str | None = None) -> list[DirectoryEntry]:
        """Staff directory entries after `since` (the last seq the room holds, with its hash)."""
        return self._pull(STAFF, since, since_hash)

    def pull_catalogue(self, since: int = 0, since_hash: str | None = None) -> list[DirectoryEntry]:
        """Product catalogue versions after `since`; the last one is the catalogue in force."""
        return self._pull(CATALOGUE, since, since_hash)

    def _pull(self, directory: str, since: int, since_hash: str | None) -> list[DirectoryEntry]:
        rows = self.db.rows(
            "SELECT seq, hash, canonical FROM checklist_hub.directory WHERE directory = %s AND seq >= %s ORDER BY seq",
            [directory, max(since, 1)],
        )
        try:
            entries = [entry_from_row(directory, seq, text, hash_) for seq, hash_, text in rows]
            anchor = None
            if since > 0:
                if not entries or entries[0].seq != since:
                    raise ValueError(f"the hub's {directory} directory has no entry {since}, which this room holds")
                if since_hash is not None and entries[0].hash != since_hash:
                    raise ValueError(f"{directory} entry {since} differs from the one this room holds")
                anchor, entries = (since, entries[0].hash), entries[1:]
            check_chain(entries, anchor)
        except (ValueError, KeyError, TypeError) as exc:
            raise HubCorrupt(f"The hub's {directory} directory does not verify: {exc}.") from None
        return entries


def _case_filters(room: str | None, date_from: date | None, date_to: date | None) -> tuple[list[str], list[object]]:
    """The WHERE conditions and parameters of the department case list (pushed cases only)."""
    where: list[str] = ["head_seq > 0"]
    params: list[object] = []
    filters = (("room = %s", room), ("service_date >= %s", date_from), ("service_date <= %s", date_to))
    for condition, value in filters:
        if value is not None:
            where.append(condition)
            params.append(value)
    return where, params
