"""Staff directory (an append-only hash chain, and the quick list made from it) and small settings.

Every change to the directory is an entry of the chain (`staff_log`), written in the same
transaction as the quick list (`staff`) the window shows. Who may sign, and their PIN hash, are
read from the chain, checked entry by entry, never from the list alone; `verify` compares the two.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from checklist_app.domain.events import GENESIS_HASH
from checklist_app.store.errors import StoreError, translated
from checklist_app.sync.directory import (
    DEACTIVATED,
    PERSON_ADDED,
    PIN_CHANGED,
    REACTIVATED,
    STAFF,
    DirectoryEntry,
    StaffMember,
    build_entry,
    check_chain,
    entry_from_row,
    fold_staff,
)

if TYPE_CHECKING:
    from sqlite_utils import Database


class StaffTable:
    """Staff members (PIN hashes are made elsewhere) and the meta table, through the Store's transactions."""

    def __init__(
        self,
        path: Path,
        transaction: Callable[[], AbstractContextManager[Database]],
        reader: Callable[[], Database],
    ) -> None:
        self.path = path
        self._transaction = transaction
        self._reader = reader

    def add_staff(self, name: str, role: str, pin_hash: str | None = None, *, at: datetime | None = None) -> int:
        """Add a staff member and return their id; a name may appear once per role."""
        with self._transaction() as db:
            if db.table("staff").count_where("name = ? AND role = ?", [name, role]):
                raise StoreError(f"{name} ({role}) is already on the staff list; nothing was added.")
            table = db.table("staff").insert({"name": name, "role": role, "pin_hash": pin_hash, "active": 1})
            staff_id = int(table.last_rowid or 0)
            body = {"person_id": str(staff_id), "name": name, "role": role, "pin_hash": pin_hash}
            append_entry(db.conn, PERSON_ADDED, body, at)
        return staff_id

    def set_pin(self, staff_id: int, pin_hash: str | None, *, at: datetime | None = None) -> None:
        """A new PIN (hash) for someone on the list: an entry of the chain."""
        with self._transaction() as db:
            self._staff_row(staff_id)
            db.table("staff").update(staff_id, {"pin_hash": pin_hash})
            append_entry(db.conn, PIN_CHANGED, {"person_id": str(staff_id), "pin_hash": pin_hash}, at)

    def set_staff_active(self, staff_id: int, active: bool, *, at: datetime | None = None) -> None:
        with self._transaction() as db:
            row = self._staff_row(staff_id)
            if bool(row["active"]) == active:
                return
            db.table("staff").update(staff_id, {"active": 1 if active else 0})
            append_entry(db.conn, REACTIVATED if active else DEACTIVATED, {"person_id": str(staff_id)}, at)

    def log_attempt(self, staff_id: int, kind: str, case_id: str, *, at: datetime | None = None) -> None:
        """A PIN refused or accepted at a signature (or refused while locked): an entry of the chain."""
        with self._transaction() as db:
            append_entry(db.conn, kind, {"person_id": str(staff_id), "case_id": case_id}, at)

    def entries(self) -> list[DirectoryEntry]:
        """The directory's chain, every entry checked against its hash and its place.

        Raises StoreError (the directory was changed outside the program: run verify) otherwise.
        """
        with translated(self.path):
            rows = self._reader().execute("SELECT seq, canonical, hash FROM staff_log ORDER BY seq").fetchall()
        try:
            entries = [entry_from_row(STAFF, seq, canonical, hash_) for seq, canonical, hash_ in rows]
            check_chain(entries)
        except (ValueError, KeyError, TypeError) as exc:
            raise StoreError(
                f"The staff directory in {self.path} was changed outside the program ({exc}); nobody can sign "
                "until it is restored from a backup. Run 'checklist-app verify'."
            ) from exc
        return entries

    def directory(self) -> dict[str, StaffMember]:
        """Everyone in the directory by person id (the staff list id, as text), as the chain leaves them."""
        return fold_staff(self.entries())

    def list_staff(self, active_only: bool = True) -> list[dict[str, Any]]:
        """Staff as dicts with id, name, role, has_pin and active, ordered by name then role."""
        where = "active = 1" if active_only else None
        with translated(self.path):
            rows = self._reader().table("staff").rows_where(where, order_by="name, role")
            return [_staff_entry(row) for row in rows]

    def staff_pin_hash(self, staff_id: int) -> str | None:
        """The PIN hash the directory's chain holds for this person (never the quick list's column)."""
        self._staff_row(staff_id)
        member = self.directory().get(str(staff_id))
        return member.pin_hash if member is not None else None

    def meta_get(self, key: str) -> str | None:
        with translated(self.path):
            row = self._reader().execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return None if row is None else row[0]

    def meta_set(self, key: str, value: str) -> None:
        with self._transaction() as db:
            db.table("meta").upsert({"key": key, "value": value}, pk="key")

    def _staff_row(self, staff_id: int) -> dict[str, Any]:
        from sqlite_utils.db import NotFoundError  # the store imports sqlite-utils on first use

        with translated(self.path):
            try:
                return self._reader().table("staff").get(staff_id)
            except NotFoundError:
                raise StoreError(f"There is no staff member with id {staff_id}.") from None


def append_entry(conn: sqlite3.Connection, kind: str, body: Mapping[str, Any], at: datetime | None) -> None:
    """Link one entry after the chain's last (inside the caller's transaction)."""
    last = conn.execute("SELECT seq, hash FROM staff_log ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev = (last[0], last[1]) if last else (0, GENESIS_HASH)
    canonical, hash_ = build_entry(STAFF, seq + 1, kind, body, prev, at or datetime.now(UTC))
    conn.execute(
        "INSERT INTO staff_log (seq, kind, canonical, hash) VALUES (?, ?, ?, ?)", [seq + 1, kind, canonical, hash_]
    )


def carry_over_staff(db: Database) -> None:
    """Migration 3: the staff already on the list become the chain's first entries."""
    now = datetime.now(UTC)
    for row in db.execute("SELECT id, name, role, pin_hash, active FROM staff ORDER BY id").fetchall():
        staff_id, name, role, pin_hash, active = row
        body = {"person_id": str(staff_id), "name": name, "role": role, "pin_hash": pin_hash}
        append_entry(db.conn, PERSON_ADDED, body, now)
        if not active:
            append_entry(db.conn, DEACTIVATED, {"person_id": str(staff_id)}, now)


def _staff_entry(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "role": row["role"],
        "has_pin": bool(row["pin_hash"]),
        "active": bool(row["active"]),
    }
