"""Integrity check: the SQLite file itself, then every case's hash chain, re-walked from its rows."""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from itertools import groupby
from operator import itemgetter
from typing import Any

from checklist_app.domain.events import GENESIS_HASH, Event
from checklist_app.store.rows import Problem, row_to_event
from checklist_app.store.verify_more import case_row_problems, schema_problems, staff_problems

# Plain sqlite3, not sqlite-utils: the window checks a case's chain when it opens it, and importing
# sqlite-utils there would cost more than everything else the window does to resume a case.
Database = sqlite3.Connection
Head = tuple[int, str]


def _query(db: Database, sql: str, params: Iterable[Any] = ()) -> Iterator[dict[str, Any]]:
    """Rows as dicts keyed by column name."""
    cursor = db.execute(sql, list(params))
    columns = [column[0] for column in cursor.description]
    for row in cursor:
        yield dict(zip(columns, row, strict=True))


# What a case's events say its status is (the fold needs the templates, which the store does not hold).
StatusOf = Callable[[list[Event]], str]


def verify_database(db: Database, status_of: StatusOf | None = None) -> list[Problem]:
    """Every problem found; an empty list means the file and every chain are intact.

    Each part runs on its own: a part that cannot read the file is reported and the others still run.
    """
    problems: list[Problem] = []
    parts: list[Callable[[], list[Problem]]] = [
        lambda: _file_problems(db),
        lambda: schema_problems(db),
        lambda: _orphan_problems(db),
        lambda: _chain_problems(db),
        lambda: _record_problems(db),
        lambda: case_row_problems(db, status_of),
        lambda: staff_problems(db),
    ]
    for part in parts:
        try:
            problems += part()
        except (sqlite3.DatabaseError, ValueError) as exc:
            message = f"The database file is damaged and could not be read completely: {exc}."
            problems.append(Problem(None, None, message))
    return problems


def _file_problems(db: Database) -> list[Problem]:
    rows = db.execute("PRAGMA integrity_check").fetchall()
    if [tuple(row) for row in rows] == [("ok",)]:
        return []
    return [Problem(None, None, f"database file: {row[0]}") for row in rows]


def _orphan_problems(db: Database) -> list[Problem]:
    """Rows whose foreign key points nowhere, e.g. events whose case record is missing."""
    problems = []
    for table, rowid, parent, _ in db.execute("PRAGMA foreign_key_check").fetchall():
        if table != "events":
            problems.append(Problem(None, None, f"{table} row {rowid}: refers to a missing {parent} record"))
            continue
        case_id, seq = db.execute("SELECT case_id, seq FROM events WHERE id = ?", [rowid]).fetchone()
        message = f"case {case_id} event {seq}: belongs to no case record (case deleted or event added?)"
        problems.append(Problem(case_id, seq, message))
    return problems


# The case list shows these columns; each must say what the case's first event says.
_RECORD_FIELDS = {
    "patient_name": ("patient", "name"),
    "mrn": ("patient", "mrn"),
    "procedure": ("procedure",),
}


def verify_one_case(db: Database, case_id: str, status_of: StatusOf | None = None) -> list[Problem]:
    """The checks of `verify_database` for one case: its chain and its case record (fast, for opening it)."""
    try:
        head = db.execute("SELECT event_count, head_hash FROM cases WHERE id = ?", [case_id]).fetchone()
        rows = _query(db, "SELECT * FROM events WHERE case_id = ? ORDER BY seq", [case_id])
        problems = check_chain(case_id, rows, tuple(head) if head else None)
        return problems + _record_problems(db, case_id) + case_row_problems(db, status_of, case_id)
    except (sqlite3.DatabaseError, ValueError) as exc:
        return [Problem(case_id, None, f"case {case_id} could not be read completely: {exc}.")]


def _record_problems(db: Database, case_id: str | None = None) -> list[Problem]:
    """Case records (the fast case list) that no longer match the case's own opening event."""
    problems = []
    query = (
        "SELECT c.id, c.patient_name, c.mrn, c.procedure, c.levels, e.values_json FROM cases c "
        "JOIN events e ON e.case_id = c.id AND e.seq = 1"
    )
    params: list[str] = []
    if case_id is not None:
        query += " WHERE c.id = ?"
        params.append(case_id)
    for row in _query(db, query, params):
        try:
            setup = json.loads(row["values_json"]).get("setup")
        except (ValueError, AttributeError):
            setup = None
        if not isinstance(setup, dict):
            continue  # nothing to compare with; an edited opening event fails its own hash check
        expected = {column: _dig(setup, path) for column, path in _RECORD_FIELDS.items()}
        expected["levels"] = " ".join(str(p.get("level")) for p in setup.get("levels", []))
        changed = [column for column, value in expected.items() if row[column] != value]
        if changed:
            message = (
                f"case {row['id']}: its list entry ({', '.join(changed)}) differs from the case's own record (edited?)"
            )
            problems.append(Problem(row["id"], None, message))
    return problems


def _dig(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _chain_problems(db: Database) -> list[Problem]:
    heads: dict[str, Head] = {
        row["id"]: (row["event_count"], row["head_hash"])
        for row in _query(db, "SELECT id, event_count, head_hash FROM cases")
    }
    problems: list[Problem] = []
    walked = set()
    # One pass in (case_id, seq) order, served by the UNIQUE(case_id, seq) index.
    rows = _query(db, "SELECT * FROM events ORDER BY case_id, seq")
    for case_id, case_rows in groupby(rows, key=itemgetter("case_id")):
        walked.add(case_id)
        problems += check_chain(case_id, case_rows, heads.get(case_id))
    for case_id, head in heads.items():
        if case_id not in walked:
            problems += _head_problems(case_id, head, (0, GENESIS_HASH))
    return problems


def check_chain(case_id: str, rows: Iterable[dict[str, Any]], recorded: Head | None) -> list[Problem]:
    """Problems in one case's rows (given in seq order) and against its case record's head."""
    problems: list[Problem] = []
    expected_seq, prev_hash, count = 1, GENESIS_HASH, 0
    for row in rows:
        seq = row["seq"]
        where = f"case {case_id} event {seq}"
        if seq != expected_seq:
            message = f"{where}: found where event {expected_seq} should be (deleted, inserted or reordered?)"
            problems.append(Problem(case_id, seq, message))
        if row["prev_hash"] != prev_hash:
            message = f"{where}: does not link to the event before it (deleted, inserted or reordered?)"
            problems.append(Problem(case_id, seq, message))
        problem = _content_problem(case_id, row)
        if problem:
            problems.append(problem)
        expected_seq, prev_hash, count = seq + 1, row["hash"], count + 1
    if recorded is not None:
        problems += _head_problems(case_id, recorded, (count, prev_hash))
    return problems


def _content_problem(case_id: str, row: dict[str, Any]) -> Problem | None:
    where = f"case {case_id} event {row['seq']}"
    odd = json_oddities(row.get("values_json"))
    if odd:
        return Problem(case_id, row["seq"], f"{where}: its values hold {odd}, which the program never writes (edited?)")
    try:
        event = row_to_event(row)
        matches = event.case_id == case_id and event.compute_hash() == row["hash"]
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        return Problem(case_id, row["seq"], f"{where}: cannot be read back ({exc}); edited?")
    if not matches:
        return Problem(case_id, row["seq"], f"{where}: contents do not match its hash (edited?)")
    return None


class _Odd(ValueError):
    pass


def json_oddities(text: Any) -> str | None:
    """What in a stored JSON text two readers could read differently: a repeated key, NaN or infinity.

    (json.loads keeps the last of two equal keys and reads NaN; another reader may keep the first,
    so a repeated key would let the text say two things under one hash.)
    """
    if not isinstance(text, str):
        return None

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _ in items]
        repeated = sorted({key for key in keys if keys.count(key) > 1})
        if repeated:
            raise _Odd(f"a repeated key ({repeated[0]!r})")
        return dict(items)

    def constant(name: str) -> Any:
        raise _Odd(f"a number that is not finite ({name})")

    def number(literal: str) -> float:
        value = float(literal)
        if not math.isfinite(value):
            raise _Odd(f"a number that is not finite ({literal})")
        return value

    try:
        json.loads(text, object_pairs_hook=pairs, parse_constant=constant, parse_float=number)
    except _Odd as odd:
        return str(odd)
    except ValueError:
        return None  # not JSON at all: reported when the row is read back
    return None


def _head_problems(case_id: str, recorded: Head, stored: Head) -> list[Problem]:
    """The case record's event_count/head_hash must match the last stored event."""
    (listed, listed_hash), (count, last_hash) = recorded, stored
    if listed > count:
        message = f"case {case_id} event {listed}: missing; the case record lists {listed} events, {count} are stored"
        return [Problem(case_id, listed, message + " (last event deleted?)")]
    if listed < count:
        message = f"case {case_id} event {count}: not in the case record, which lists {listed} events (event added?)"
        return [Problem(case_id, count, message)]
    if listed_hash != last_hash:
        message = f"case {case_id} event {count}: is not the last event its case record vouches for (replaced?)"
        return [Problem(case_id, count or None, message)]
    return []
