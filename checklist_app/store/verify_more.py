"""The rest of verify (SPEC §6): the case list against the events, the staff chain, the schema.

Each check reports every problem it finds and carries on; none of them trusts a projection
(the case list, the staff list) that it is checking.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import date, timedelta
from functools import cache
from typing import Any

from checklist_app.domain.events import ADDENDUM, GENESIS_HASH, SIGNATURE, Event, parse_time
from checklist_app.store.rows import Problem, row_to_event
from checklist_app.sync.directory import STAFF, DirectoryEntry, entry_from_row, fold_staff

Database = sqlite3.Connection
StatusOf = Callable[[list[Event]], str]
# The widest offsets from UTC in use (UTC-12 to UTC+14): a case's service date is the local date of
# its first event on the workstation that wrote it, whatever its time zone.
_OFFSETS = (timedelta(hours=-12), timedelta(hours=14))


def case_row_problems(db: Database, status_of: StatusOf | None, case_id: str | None = None) -> list[Problem]:
    """Each case-list row against its own events: it has events, its created time, service date and status."""
    sql = "SELECT id, created, service_date, status FROM cases"
    rows = db.execute(sql + (" WHERE id = ?" if case_id else ""), [case_id] if case_id else []).fetchall()
    problems = []
    for cid, created, service_date, status in rows:
        events = _events(db, cid)
        if not events:
            message = f"case {cid}: a case record with no events (added outside the program?)"
            problems.append(Problem(cid, None, message))
            continue
        problems += _after_signature(cid, events)
        first = events[0]
        changed = []
        if created != first["recorded_time"]:
            changed.append("created")
        if not _plausible_day(service_date, first["recorded_time"]):
            changed.append("service_date")
        if status_of is not None and status != _status(status_of, events):
            changed.append("status")
        if changed:
            message = f"case {cid}: its list entry ({', '.join(changed)}) differs from the case's own events (edited?)"
            problems.append(Problem(cid, None, message))
    return problems


def _after_signature(case_id: str, rows: list[dict[str, Any]]) -> list[Problem]:
    """Once the operator has signed, only addenda follow (the store refuses anything else)."""
    problems, signed = [], False
    for row in rows:
        if signed and row["kind"] != ADDENDUM:
            message = (
                f"case {case_id} event {row['seq']}: a {row['kind']} after the operator's signature, which only "
                "addenda may follow (added outside the program?)"
            )
            problems.append(Problem(case_id, row["seq"], message))
        signed = signed or (row["kind"] == SIGNATURE and _role(row) == "operator")
    return problems


def _role(row: dict[str, Any]) -> Any:
    try:
        values = json.loads(row["values_json"])
    except (TypeError, ValueError):
        return None
    return values.get("role") if isinstance(values, dict) else None


def _events(db: Database, case_id: str) -> list[dict[str, Any]]:
    cursor = db.execute("SELECT * FROM events WHERE case_id = ? ORDER BY seq", [case_id])
    columns = [column[0] for column in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor]


def _plausible_day(service_date: Any, recorded: Any) -> bool:
    try:
        day = date.fromisoformat(str(service_date))
        moment = parse_time(str(recorded))
    except ValueError:
        return False
    return (moment + _OFFSETS[0]).date() <= day <= (moment + _OFFSETS[1]).date()


def _status(status_of: StatusOf, rows: list[dict[str, Any]]) -> str | None:
    try:
        return status_of([row_to_event(row) for row in rows])
    except Exception:  # noqa: BLE001 - an unreadable case is reported by the chain check; no status to compare
        return None


def staff_problems(db: Database) -> list[Problem]:
    """The staff directory's chain entry by entry, then the staff list against what the chain says."""
    if not _has_table(db, "staff_log"):
        return []  # a file older than the chained directory (read-only): nothing to check yet
    problems: list[Problem] = []
    good: list[DirectoryEntry] = []
    expected_seq, prev = 1, GENESIS_HASH
    for seq, kind, canonical, hash_ in db.execute("SELECT seq, kind, canonical, hash FROM staff_log ORDER BY seq"):
        where = f"staff directory entry {seq}"
        if seq != expected_seq:
            problems.append(Problem(None, None, f"{where}: found where entry {expected_seq} should be (deleted?)"))
        try:
            entry = entry_from_row(STAFF, seq, canonical, hash_)
        except (ValueError, KeyError, TypeError) as exc:
            problems.append(Problem(None, None, f"{where}: {exc} (edited?)"))
            expected_seq, prev = seq + 1, hash_
            continue
        if kind != entry.kind:
            problems.append(Problem(None, None, f"{where}: its kind column differs from the entry it holds (edited?)"))
        if entry.prev_hash != prev:
            problems.append(
                Problem(None, None, f"{where}: does not link to the entry before it (deleted or inserted?)")
            )
        good.append(entry)
        expected_seq, prev = seq + 1, hash_
    return problems + _list_problems(db, good)


def _list_problems(db: Database, entries: list[DirectoryEntry]) -> list[Problem]:
    people = fold_staff(entries)
    problems = []
    listed = set()
    for staff_id, name, role, pin_hash, active in db.execute("SELECT id, name, role, pin_hash, active FROM staff"):
        listed.add(str(staff_id))
        member = people.get(str(staff_id))
        if member is None:
            message = f"staff member {staff_id} ({name}): on the staff list but not in the directory's chain (added?)"
            problems.append(Problem(None, None, message))
            continue
        changed = [
            column
            for column, stored, chained in (
                ("name", name, member.name),
                ("role", role, member.role),
                ("PIN", pin_hash, member.pin_hash),
                ("active", bool(active), member.active),
            )
            if stored != chained
        ]
        if changed:
            message = (
                f"staff member {staff_id} ({member.name}): the staff list's {', '.join(changed)} differs from the "
                "directory's chain (edited?)"
            )
            problems.append(Problem(None, None, message))
    for person_id in sorted(set(people) - listed):
        name = people[person_id].name
        message = f"staff member {person_id} ({name}): in the directory's chain but not on the list (deleted?)"
        problems.append(Problem(None, None, message))
    return problems


def _has_table(db: Database, name: str) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [name]).fetchone() is not None


def schema_problems(db: Database) -> list[Problem]:
    """Tables, indexes, triggers and views that the program's migrations do not make (or that are missing)."""
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    expected = _expected_schema(version)
    found = _schema(db)
    problems = []
    for (kind, name), sql in sorted(found.items()):
        if (kind, name) not in expected:
            problems.append(Problem(None, None, f"schema: unexpected {kind} {name!r} (added outside the program?)"))
        elif kind == "table" and sql != expected[(kind, name)]:
            problems.append(Problem(None, None, f"schema: table {name!r} is not defined as the program made it"))
    for kind, name in sorted(set(expected) - set(found)):
        problems.append(Problem(None, None, f"schema: {kind} {name!r} is missing (dropped outside the program?)"))
    return problems


def _schema(db: Database) -> dict[tuple[str, str], str]:
    rows = db.execute("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")
    return {(kind, name): " ".join(str(sql).split()) for kind, name, sql in rows}


@cache
def _expected_schema(version: int) -> dict[tuple[str, str], str]:
    """What the migrations up to `version` make, in a throwaway in-memory database."""
    from sqlite_utils import Database as Wrapped

    from checklist_app.store.schema import MIGRATIONS

    conn = sqlite3.connect(":memory:")
    try:
        wrapped = Wrapped(conn)
        for migration in MIGRATIONS[: max(version, 0)]:
            migration(wrapped)
        return _schema(conn)
    finally:
        conn.close()


__all__ = ["case_row_problems", "schema_problems", "staff_problems"]
