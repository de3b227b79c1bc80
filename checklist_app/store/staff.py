"""Staff list and small key/value settings: the Store's non-case tables, as a part the Store holds."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from checklist_app.store.errors import StoreError, translated

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

    def add_staff(self, name: str, role: str, pin_hash: str | None = None) -> int:
        """Add a staff member and return their id; a name may appear once per role."""
        with self._transaction() as db:
            if db.table("staff").count_where("name = ? AND role = ?", [name, role]):
                raise StoreError(f"{name} ({role}) is already on the staff list; nothing was added.")
            table = db.table("staff").insert({"name": name, "role": role, "pin_hash": pin_hash, "active": 1})
            staff_id = int(table.last_rowid or 0)
        return staff_id

    def list_staff(self, active_only: bool = True) -> list[dict[str, Any]]:
        """Staff as dicts with id, name, role, has_pin and active, ordered by name then role."""
        where = "active = 1" if active_only else None
        with translated(self.path):
            rows = self._reader().table("staff").rows_where(where, order_by="name, role")
            return [_staff_entry(row) for row in rows]

    def staff_pin_hash(self, staff_id: int) -> str | None:
        stored = self._staff_row(staff_id)["pin_hash"]
        return str(stored) if stored is not None else None

    def set_staff_active(self, staff_id: int, active: bool) -> None:
        with self._transaction() as db:
            self._staff_row(staff_id)
            db.table("staff").update(staff_id, {"active": 1 if active else 0})

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


def _staff_entry(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "role": row["role"],
        "has_pin": bool(row["pin_hash"]),
        "active": bool(row["active"]),
    }
