"""The Store: one SQLite file (WAL, synchronous=FULL) holding cases and their append-only event chains.

sqlite-utils does the schema, case creation, staff and verify. The statements on the start-up
and tick paths (open, list cases, read a case, append) are plain SQL on the same connection, so
the window can open without importing sqlite-utils (~80 ms); it is imported on first use.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from checklist_app.domain.events import ADDENDUM, GENESIS_HASH, SIGNATURE, Event, format_time, record_reference
from checklist_app.store import anchors, files, schema
from checklist_app.store import backup as backups
from checklist_app.store.errors import StoreError, StoreReadOnly, corrupt, read_only, translated
from checklist_app.store.opening import check_ours, connect
from checklist_app.store.outbox import Outbound, OutboxRow, OutboxTable, enqueue, outbox_rows
from checklist_app.store.rows import CASE_COLUMNS, CaseRow, Problem, case_record, event_to_row, row_to_event
from checklist_app.store.staff import StaffTable
from checklist_app.store.verify import StatusOf, verify_database, verify_one_case

if TYPE_CHECKING:
    from sqlite_utils import Database

Head = tuple[int, str]  # (event_count, hash of the last event) of one case


LOCKED_STATUSES = ("signed", "amended")
_ROOM_CODE = "room_code"  # meta key: the department room code, recorded once
MAX_CACHED_CASES = 64


class Store:
    """The only door to the database: durable appends, reads, verify and backup.

    A writer holds `<db>.lock` for its whole life, so its cache of chain heads stays true.
    """

    def __init__(self, path: Path, *, readonly: bool = False, max_page_count: int | None = None) -> None:
        self.path = Path(path).absolute()
        self.readonly = readonly
        # Per-case caches, bounded: a workstation open for weeks touches thousands of cases.
        self._chains = _ChainHeads()
        self._lock: files.WriterLock | None = None
        self._conn: sqlite3.Connection | None = None
        self._owner = threading.get_ident()  # the one thread that may write
        self.version = 0
        self.staff = StaffTable(self.path, self._transaction, self._reader)  # staff list and meta
        self.messages = OutboxTable(self._connection, self._writing)  # the outbox beyond the enqueue
        self._db: Database | None = None
        self.notices: list[str] = []  # one line per file whose loose mode was tightened on opening
        new = files.is_new_file(self.path)
        if readonly and new:
            raise StoreError(f"There is no checklist database at {self.path} to open read-only.")
        if not new:
            self.notices = self._tighten()
        try:
            with files.private_umask():
                self._open(new, max_page_count)
        except BaseException:
            self.close()
            raise

    def _open(self, new: bool, max_page_count: int | None) -> None:
        if not self.readonly:
            if not new:
                if not os.access(self.path, os.W_OK):
                    raise read_only(self.path)
                if not os.access(self.path.parent, os.W_OK):
                    raise StoreReadOnly(
                        f"The folder {self.path.parent} is read-only: the database keeps its journal beside it, "
                        "so nothing could be saved. Copy the database to a writable folder, or view it read-only."
                    )
                check_ours(self.path)
            files.make_private_dir(self.path.parent)
            self._lock = files.WriterLock.acquire(self.path)
        with translated(self.path):
            conn = self._conn = connect(self.path, self.readonly)
            conn.set_authorizer(_refuse_event_rewrites)
            conn.execute("PRAGMA recursive_triggers = ON")  # what sqlite-utils' Database sets when it wraps us
            conn.execute("PRAGMA busy_timeout = 2000")
            conn.execute("PRAGMA foreign_keys = ON")
            # Read-only checks first: a file that is not ours must not be touched, not even its header.
            version = schema.existing_version(conn, self.path)
            # Read-only, an older layout is read as it is (cases and events never changed shape);
            # only a writer upgrades it.
            self.version = version
            conn.execute("PRAGMA synchronous = FULL")
            if not self.readonly:
                conn.execute("PRAGMA journal_mode = WAL")
                if version < schema.LATEST:
                    self._migrate(version)
                    self.version = schema.LATEST
            if max_page_count is not None:
                conn.execute(f"PRAGMA max_page_count = {int(max_page_count):d}")
        if not self.readonly:
            if new:
                files.restrict(self.path)
            files.restrict(files.sibling(self.path, "-wal"), files.sibling(self.path, "-shm"))
        self.notices += self._tighten()  # a -wal or -shm SQLite made just now copies the file's mode

    def _tighten(self) -> list[str]:
        """Files made with a loose mode before (an older version, a copy, a restore by hand) are made
        owner-only when opened, with one line each for the caller to show."""
        family = [self.path, *(files.sibling(self.path, s) for s in ("-wal", "-shm", ".lock"))]
        return files.tighten(family, self.path.parent if _is_data_folder(self.path.parent) else None)

    def _migrate(self, version: int) -> None:
        with self._transaction() as db:
            schema.migrate(db, version)

    # -- plumbing -----------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(f"The database {self.path} is closed.")
        return self._conn

    def _reader(self) -> Database:
        """The connection wrapped in sqlite-utils' Database (imported and made on first use)."""
        conn = self._connection()
        if self._db is None:
            from sqlite_utils import Database

            # recursive_triggers is already set in _open; the Database must not issue a PRAGMA mid-transaction.
            self._db = Database(conn, execute_plugins=False, recursive_triggers=False)
        return self._db

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT; on any error everything is rolled back and re-raised."""
        if self.readonly:
            raise StoreReadOnly(f"The database {self.path} is open read-only; nothing can be saved in this window.")
        if threading.get_ident() != self._owner:
            # One writer, one thread: a background worker reads through its own read-only Store and
            # hands what it must write back to the thread that opened this one.
            raise RuntimeError(f"the store of {self.path} writes only from the thread that opened it")
        conn = self._connection()
        with translated(self.path):
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                _rollback(conn)
                raise

    @contextmanager
    def _transaction(self) -> Iterator[Database]:
        """`_writing()` through sqlite-utils, for the table helpers (schema, new cases, staff)."""
        with self._writing():
            yield self._reader()

    def pragmas(self) -> dict[str, Any]:
        """The durability settings in force: journal_mode, synchronous (2 = FULL), foreign_keys."""
        conn = self._connection()
        with translated(self.path):
            return {
                name: conn.execute(f"PRAGMA {name}").fetchone()[0]
                for name in ("journal_mode", "synchronous", "foreign_keys")
            }

    @property
    def schema_version(self) -> int:
        with translated(self.path):
            return schema.user_version(self._connection())

    # -- events -------------------------------------------------------------------------------

    def append(
        self,
        case_id: str,
        events: list[Event],
        *,
        case_row: dict[str, Any] | None = None,
        status: str | None = None,
        outbox: Sequence[Outbound] = (),
    ) -> list[Event]:
        """Durably add `events` (and a new case record, or a status, and the messages they cause) in
        one transaction. Returns the events linked into the case's hash chain, only after COMMIT.

        `outbox` rows are enqueued in the same transaction as the events that cause them, so a
        message exists exactly when its events do; a second enqueue of the same message (same
        `dedupe_key`) is refused and rolls the whole transaction back.
        """
        events = list(events)
        strangers = [event.seq for event in events if event.case_id != case_id]
        if strangers:
            raise ValueError(f"events {strangers} belong to another case than {case_id}")
        record = None if case_row is None else case_record(case_id, case_row)
        if record and events and record["created"] != format_time(events[0].recorded_time):
            # verify holds the case list to this: a case was created when its opening event was recorded.
            raise ValueError(f"case_row created {record['created']!r} is not when the opening event was recorded")
        with self._writing() as conn:
            if record and not events:
                raise StoreError(f"Case {case_id} cannot be created without its opening event; nothing was saved.")
            head = _start_case(self._reader(), record) if record else self._chains.head(conn, case_id)
            if not record:
                self._chains.refuse_after_signature(conn, case_id, events)
            chained = _link(case_id, events, head)
            # Plain statements on the tick path: sqlite-utils' table helpers introspect the schema on
            # every call, which would triple the statements per tick.
            for event in chained:
                row = event_to_row(event)
                columns = ", ".join(row)
                conn.execute(
                    f"INSERT INTO events ({columns}) VALUES ({', '.join('?' for _ in row)})", list(row.values())
                )
            for message in outbox:
                enqueue(conn, case_id, message)
            new_head = (head[0] + len(chained), chained[-1].hash) if chained else head
            if chained or status is not None:
                conn.execute(
                    "UPDATE cases SET event_count = ?, head_hash = ?, status = COALESCE(?, status) WHERE id = ?",
                    [new_head[0], new_head[1], status, case_id],
                )
        self._chains.committed(case_id, new_head, status or (record or {}).get("status"))
        return chained

    def events(self, case_id: str) -> list[Event]:
        """The case's events in seq order, exactly as stored (hashes included)."""
        with translated(self.path):
            rows = _dicts(self._connection().execute("SELECT * FROM events WHERE case_id = ? ORDER BY seq", [case_id]))
        try:
            return [row_to_event(row) for row in rows]
        except (ValueError, TypeError) as exc:
            raise corrupt(self.path, f"an event of case {case_id} cannot be read back: {exc}") from exc

    def events_after(self, case_id: str, seq: int, limit: int | None = None) -> list[Event]:
        """The case's events after `seq` (the first `limit` of them), in seq order: a reader catching
        up, such as the hub's push worker."""
        with translated(self.path):
            cursor = self._connection().execute(
                "SELECT * FROM events WHERE case_id = ? AND seq > ? ORDER BY seq LIMIT ?",
                [case_id, seq, -1 if limit is None else limit],
            )
            rows = _dicts(cursor)
        try:
            return [row_to_event(row) for row in rows]
        except (ValueError, TypeError) as exc:
            raise corrupt(self.path, f"an event of case {case_id} cannot be read back: {exc}") from exc

    def event_counts(self, case_ids: Sequence[str] | None = None) -> dict[str, int]:
        """{case id: number of stored events} of every case, or of `case_ids` (those that exist)."""
        with translated(self.path):
            conn = self._connection()
            if case_ids is None:
                return dict(conn.execute("SELECT id, event_count FROM cases"))
            marks = ", ".join("?" for _ in case_ids)
            return dict(conn.execute(f"SELECT id, event_count FROM cases WHERE id IN ({marks})", list(case_ids)))

    def case_exists(self, case_id: str) -> bool:
        with translated(self.path):
            return self._connection().execute("SELECT 1 FROM cases WHERE id = ?", [case_id]).fetchone() is not None

    def list_cases(
        self, *, limit: int | None = None, statuses: tuple[str, ...] = (), recorded_only: bool = False
    ) -> list[CaseRow]:
        """Cases newest first (service date, then id), optionally only those in `statuses`, and only
        those with events (`recorded_only`: a case row without events is no case to resume)."""
        conditions = [f"status IN ({', '.join('?' for _ in statuses)})"] if statuses else []
        if recorded_only:
            conditions.append("EXISTS (SELECT 1 FROM events WHERE events.case_id = cases.id)")
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        sql = f"SELECT {', '.join(CASE_COLUMNS)} FROM cases{where} ORDER BY service_date DESC, id DESC"
        with translated(self.path):
            rows = self._connection().execute(sql + (f" LIMIT {int(limit):d}" if limit is not None else ""), statuses)
            return [CaseRow(*row) for row in rows]

    def next_case_id(self, service_date: date) -> str:
        """The next free id for that day: YYYYMMDD-NNN, NNN counting from 001; with a room code
        recorded (`adopt_room_code`), ROOM-YYYYMMDD-NNN, unique across the department's rooms."""
        room = self.room_code()
        start = f"{room}-{service_date:%Y%m%d}-" if room else f"{service_date:%Y%m%d}-"
        with translated(self.path):
            number = (
                self._connection()
                .execute(
                    "SELECT count(*) FROM cases WHERE service_date = ? AND substr(id, 1, ?) = ?",
                    [service_date.isoformat(), len(start), start],
                )
                .fetchone()[0]
                + 1
            )
        while True:
            candidate = f"{start}{number:03d}"
            if not self.case_exists(candidate):
                return candidate
            number += 1

    def room_code(self) -> str | None:
        """The department room code recorded in this database (None: a room on its own)."""
        with translated(self.path):
            row = self._connection().execute("SELECT value FROM meta WHERE key = ?", [_ROOM_CODE]).fetchone()
        return None if row is None else str(row[0])

    def adopt_room_code(self, code: str) -> bool:
        """Record the room code once (True if it was recorded now). From then on new cases are named
        ROOM-YYYYMMDD-NNN; cases made before keep their ids (and their chains). A database recorded
        for one room is refused for another: its cases are filed on the hub under that room."""
        with self._writing() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", [_ROOM_CODE]).fetchone()
            if row is not None and row[0] != code:
                raise StoreError(
                    f"The database {self.path} belongs to room {row[0]}, not {code}: its cases are on the "
                    "department hub under that room. Nothing was changed; check the room code."
                )
            if row is None:
                conn.execute("INSERT INTO meta (key, value) VALUES (?, ?)", [_ROOM_CODE, code])
        return row is None

    def outbox(self, *, statuses: tuple[str, ...] = ()) -> list[OutboxRow]:
        """The outbox, oldest first (only `statuses` if given); empty on a database older than it."""
        if self.version < 2:
            return []
        with translated(self.path):
            return outbox_rows(self._connection(), statuses)

    # -- integrity, backup, lifetime ------------------------------------------------------------

    def verify(self, status_of: StatusOf | None = None) -> list[Problem]:
        """Check the file, the schema, every case's chain and list entry, and the staff chain; [] means intact.

        `status_of` (the events of a case -> its status) lets verify check the case list's status too.
        """
        return verify_database(self._connection(), status_of)

    def verify_case(self, case_id: str, status_of: StatusOf | None = None) -> list[Problem]:
        """Re-walk one case's chain and check its record; [] means intact (quick: for opening a case)."""
        return verify_one_case(self._connection(), case_id, status_of)

    def verify_manifest(self, manifest: Path) -> list[Problem]:
        """Cases missing, shortened or rewritten since the backup whose manifest this is.

        Raises ValueError if the file is not a manifest or was itself changed.
        """
        doc = anchors.read_manifest(Path(manifest))
        with translated(self.path):
            return anchors.check_manifest(self._connection(), doc, str(manifest))

    def verify_reference(self, reference: str) -> tuple[list[Problem], int]:
        """A record reference printed on a note against the file: (problems, the case's event count now)."""
        with translated(self.path):
            return anchors.check_reference(self._connection(), reference)

    def record_reference(self, case_id: str) -> str:
        """The case's record reference now (`case:seq:hash-prefix`), from its last stored event."""
        events = self.events(case_id)
        if not events:
            raise StoreError(f"There is no case {case_id}.")
        return record_reference(case_id, events[-1].seq, events[-1].hash)

    def backup(
        self, dest: Path, *, force: bool = False, known: Sequence[Path] = (), written: datetime | None = None
    ) -> Path:
        """A consistent owner-only copy at `dest` and its manifest beside it (returned), safe while the
        program keeps running. Never replaces a file unless `force`, and never a live or `known` database."""
        return backups.backup_database(
            self._connection(), self.path, Path(dest), written=written or datetime.now(UTC), force=force, known=known
        )

    def training_cases(self) -> set[str]:
        """The cases opened as training (the demo's simulated cases), as their opening events say."""
        sql = "SELECT case_id FROM events WHERE seq = 1 AND json_extract(values_json, '$.training') = 1"
        with translated(self.path):
            return {row[0] for row in self._connection().execute(sql)}

    def close(self) -> None:
        """Close the connection and release the writer lock (safe to call twice)."""
        conn, lock = self._conn, self._lock
        self._conn = self._db = self._lock = None
        self._chains = _ChainHeads()
        try:
            if conn is not None:
                conn.close()
        finally:
            if lock is not None:
                lock.release()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def open_store(path: Path, readonly: bool = False) -> Store:
    """Open (creating if needed) the checklist database at `path`."""
    return Store(Path(path), readonly=readonly)


def restore(backup_file: Path, dest: Path, *, known: Sequence[Path] = ()) -> int:
    """Restore a backup into the new file `dest` (never an existing one), verified before it appears
    (its chains, and against its manifest when one lies beside it). Returns the number of cases."""
    backup_file = Path(backup_file).absolute()
    if files.is_new_file(backup_file):
        raise StoreError(f"There is no backup at {backup_file}.")
    check_ours(backup_file)
    manifest = anchors.manifest_path(backup_file)

    def verify(copy: Path) -> list[Problem]:
        with Store(copy, readonly=True) as store:
            problems = store.verify()
            return problems + (store.verify_manifest(manifest) if manifest.exists() else [])

    return backups.restore_database(backup_file, Path(dest), known=known, verify=verify)


def _link(case_id: str, events: list[Event], head: Head) -> list[Event]:
    """Chain `events` after `head`, refusing any seq that does not continue the case."""
    count, prev_hash = head
    chained = []
    for offset, event in enumerate(events, start=1):
        if event.seq != count + offset:
            raise StoreError(
                f"Case {case_id} event {event.seq} is out of sequence (expected {count + offset}); nothing was saved."
            )
        linked = event.chained(prev_hash)
        chained.append(linked)
        prev_hash = linked.hash
    return chained


class _ChainHeads:
    """Each case's chain head and status as last committed, kept for at most MAX_CACHED_CASES cases.

    The head lets a tick append without re-reading the chain; the status lets the store itself
    refuse anything but an addendum on a signed case, whatever code path tries to write to it.
    """

    def __init__(self) -> None:
        self._heads: OrderedDict[str, Head] = OrderedDict()
        # Signed or not, as this writer committed it or as the case's events say (never the status column).
        self._status: OrderedDict[str, bool] = OrderedDict()  # True: signed

    def head(self, db: sqlite3.Connection, case_id: str) -> Head:
        """The case's chain head: from memory, or two indexed lookups when the cache is cold."""
        if case_id in self._heads:
            return self._heads[case_id]
        row = db.execute("SELECT event_count, head_hash FROM cases WHERE id = ?", [case_id]).fetchone()
        if row is None:
            raise StoreError(f"Case {case_id} does not exist; nothing was saved.")
        last = db.execute(
            "SELECT seq, hash FROM events WHERE case_id = ? ORDER BY seq DESC LIMIT 1", [case_id]
        ).fetchone()
        if tuple(row) != (tuple(last) if last else (0, GENESIS_HASH)):
            # Never extend a chain that no longer matches its record: that would bury the damage.
            raise StoreError(
                f"Case {case_id}: its stored events do not match its record (run verify); nothing was saved."
            )
        return (row[0], row[1])

    def refuse_after_signature(self, conn: sqlite3.Connection, case_id: str, events: list[Event]) -> None:
        """A signed case takes addenda only. Whether it is signed comes from its events, never from
        the case list's status column (a projection anyone with the file could edit)."""
        if case_id not in self._status:
            _remember(self._status, case_id, signed_by_events(conn, case_id))
        if self._status[case_id] and any(event.kind != ADDENDUM for event in events):
            raise StoreError(f"Case {case_id} is signed: only an addendum can be added. Nothing was saved.")

    def committed(self, case_id: str, head: Head, status: str | None) -> None:
        """Remember what a transaction just committed (a status of None leaves the known one)."""
        _remember(self._heads, case_id, head)
        if status is not None:
            _remember(self._status, case_id, status in LOCKED_STATUSES)


def _is_data_folder(folder: Path) -> bool:
    """The program's own data folder is made owner-only; a folder the user chose (--db) is left as it is."""
    from checklist_app import paths

    try:
        return files.same_file(folder, paths.data_dir())
    except OSError:
        return False


def signed_by_events(conn: sqlite3.Connection, case_id: str) -> bool:
    """True if the case's events hold the operator's signature (what locks a case, SPEC §6)."""
    row = conn.execute(
        "SELECT 1 FROM events WHERE case_id = ? AND kind = ? AND json_extract(values_json, '$.role') = 'operator' "
        "LIMIT 1",
        [case_id, SIGNATURE],
    ).fetchone()
    return row is not None


def _start_case(db: Database, record: dict[str, Any]) -> Head:
    if db.table("cases").count_where("id = ?", [record["id"]]):
        raise StoreError(f"Case {record['id']} already exists; nothing was saved.")
    db.table("cases").insert({**record, "event_count": 0, "head_hash": GENESIS_HASH})
    return (0, GENESIS_HASH)


def _remember(cache: OrderedDict[str, Any], key: str, value: Any) -> None:
    """Keep `value` as the newest entry of a per-case cache of at most MAX_CACHED_CASES entries."""
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > MAX_CACHED_CASES:
        cache.popitem(last=False)


def _rollback(conn: sqlite3.Connection) -> None:
    # SQLite may already have rolled back (e.g. after SQLITE_FULL); the original error is what matters.
    with suppress(sqlite3.Error):
        if conn.in_transaction:
            conn.execute("ROLLBACK")


def _dicts(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    """Rows as dicts keyed by column name, as sqlite-utils' rows_where gives them."""
    columns = [column[0] for column in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor]


def _refuse_event_rewrites(action: int, table: str | None, *_: object) -> int:
    """SQLite authorizer: this connection may never UPDATE, DELETE or DROP the events table."""
    forbidden = (sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_DELETE, sqlite3.SQLITE_DROP_TABLE)
    if action in forbidden and table == "events":
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK
