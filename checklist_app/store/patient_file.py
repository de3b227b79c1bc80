"""The hospital's patient list, in its own owner-only SQLite file beside the database.

It is a short-lived copy of what the hospital sent (ADT messages, FHIR searches), not the clinical
record: rows are replaced on update, deleted on merge and purged after a few days, which the case
database (append-only, checked by `verify`) must never see. So it lives in a file of its own, with
its own connection, shared by the listener's threads and the window under one lock: a write never
waits for the case database's writer, and the case database never waits for it.
Rows hold the record as JSON; the interfaces package owns its meaning (`interfaces/patient_store.py`).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from checklist_app.store import files
from checklist_app.store.errors import translated

PATIENT_FILE_VERSION = 1


@dataclass(frozen=True)
class PatientRow:
    """One stored patient: its key, the record as JSON, and when and from where it last came."""

    authority: str
    mrn: str
    record_json: str
    updated: str  # UTC ISO 8601
    source: str  # "adt" or "fhir"


class PatientFile:
    """Owner-only SQLite file (WAL, synchronous=FULL) of the patients the room may pick from. Thread-safe."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path).absolute()
        self._lock = threading.Lock()
        files.make_private_dir(self.path.parent)
        with files.private_umask(), translated(self.path):
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA busy_timeout = 2000")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS patients (authority TEXT NOT NULL, mrn TEXT NOT NULL, "
                "record_json TEXT NOT NULL, name_fold TEXT NOT NULL, birth_date TEXT, updated TEXT NOT NULL, "
                "source TEXT NOT NULL, PRIMARY KEY (authority, mrn))"
            )
            conn.execute("CREATE INDEX IF NOT EXISTS patients_updated ON patients (updated)")
            conn.execute(f"PRAGMA user_version = {PATIENT_FILE_VERSION:d}")
        self._conn: sqlite3.Connection | None = conn
        files.restrict(self.path, files.sibling(self.path, "-wal"), files.sibling(self.path, "-shm"))

    @contextmanager
    def _locked(self) -> Iterator[sqlite3.Connection]:
        with self._lock, translated(self.path):
            if self._conn is None:
                raise sqlite3.ProgrammingError("the patient list is closed")
            yield self._conn

    def upsert(self, row: PatientRow, *, name_fold: str, birth_date: str | None) -> None:
        """Add or replace the patient with this key, durably, before returning."""
        with self._locked() as conn:
            _put(conn, row, name_fold, birth_date)

    def replace(self, prior: tuple[str, str], row: PatientRow, *, name_fold: str, birth_date: str | None) -> None:
        """A merge: the prior key is deleted and `row` stored, in one transaction."""
        with self._locked() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute("DELETE FROM patients WHERE authority = ? AND mrn = ?", list(prior))
                _put(conn, row, name_fold, birth_date)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def search(
        self, *, name_fold: str = "", mrn: str | None = None, birth_date: str | None = None, limit: int = 50
    ) -> list[PatientRow]:
        """Rows whose folded name contains `name_fold`, with exactly this MRN and birth date when given."""
        where, args = ["instr(name_fold, ?) > 0"], [name_fold]
        if mrn is not None:
            where.append("mrn = ?")
            args.append(mrn)
        if birth_date is not None:
            where.append("birth_date = ?")
            args.append(birth_date)
        sql = (
            "SELECT authority, mrn, record_json, updated, source FROM patients WHERE "
            + " AND ".join(where)
            + " ORDER BY name_fold, mrn LIMIT ?"
        )
        with self._locked() as conn:
            return [PatientRow(*r) for r in conn.execute(sql, [*args, max(0, int(limit))])]

    def purge_before(self, cutoff: str) -> int:
        """Delete patients last updated before `cutoff` (UTC ISO 8601); how many."""
        with self._locked() as conn:
            return conn.execute("DELETE FROM patients WHERE updated < ?", [cutoff]).rowcount

    def count(self) -> int:
        with self._locked() as conn:
            return int(conn.execute("SELECT count(*) FROM patients").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()


def _put(conn: sqlite3.Connection, row: PatientRow, name_fold: str, birth_date: str | None) -> None:
    """Insert the patient, or update the one with the same key (a newer ADT message about them)."""
    conn.execute(
        "INSERT INTO patients (authority, mrn, record_json, name_fold, birth_date, updated, source) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (authority, mrn) DO UPDATE SET record_json = excluded.record_json, "
        "name_fold = excluded.name_fold, birth_date = excluded.birth_date, updated = excluded.updated, "
        "source = excluded.source",
        [row.authority, row.mrn, row.record_json, name_fold, birth_date, row.updated, row.source],
    )
