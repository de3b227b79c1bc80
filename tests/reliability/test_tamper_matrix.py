"""The tamper matrix (issue 12, item 7): every column of every table changed, rows deleted, inserted,
reordered and truncated, the staff directory and the schema, each with its expected verdict.

Verdicts:
  file       `checklist-app verify` alone exits 1
  reference  verify alone passes (the file cannot show it), `verify --reference REF` of the printed
             note exits 1
  manifest   verify alone passes, `verify --manifest FILE` of the last backup exits 1
  anchors    both: the printed note's reference and the backup's manifest each catch it
  hub        indistinguishable from genuine growth after the last anchor: only a live copy kept
             elsewhere (the department hub, issue 9) can tell; verify --reference shows the growth
  none       not part of the record: the program never reads it as record content

The table in docs/reliability.md is this list; keep them together.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from checklist_app.domain.clock import FakeClock
from checklist_app.domain.events import GENESIS_HASH, Event, format_time
from checklist_app.service import ChecklistService
from checklist_app.store import open_store
from checklist_app.store.anchors import manifest_path
from checklist_app.store.rows import event_to_row, row_to_event
from checklist_app.store.staff import append_entry
from checklist_app.sync.directory import PIN_CHANGED

from .harness import cli_in_process, raw, run_cli
from .ledger import LEDGER


@dataclass(frozen=True)
class World:
    """What each attack may refer to: the two signed cases, the anchors taken before any tampering."""

    db: Path
    case_a: str
    case_b: str
    references: dict[str, str]
    manifest: Path
    ada: int  # a staff member with a PIN


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> World:
    folder = tmp_path_factory.mktemp("matrix")
    db = folder / "room.sqlite3"
    assert run_cli(folder, "demo", "--cases", "2", "--seed", "3", "--db", str(db)).code == 0
    service = ChecklistService(open_store(db), clock=FakeClock())
    try:
        ada = next(p["id"] for p in service.staff("operator") if p["name"] == "Dr Ada Demo")
        service.staff_directory.change_pin(staff_id=ada, pin="97531")
        cases = sorted(c.id for c in service.list_cases())
        references = {case: service.records.record_reference(case) for case in cases}
        manifest = service.records.backup(folder / "backup.sqlite3")
    finally:
        service.close()
    return World(db, cases[0], cases[1], references, manifest, ada)


@pytest.fixture
def world(pristine: World, tmp_path: Path) -> World:
    db = tmp_path / "room.sqlite3"
    shutil.copyfile(pristine.db, db)
    return replace(pristine, db=db)


def sql(*statements: str) -> Callable[[World], list[str]]:
    return lambda w: [s.format(a=w.case_a, b=w.case_b, ada=w.ada) for s in statements]


def rows_of(w: World, case_id: str) -> list[dict]:
    with raw(w.db) as conn:
        cursor = conn.execute("SELECT * FROM events WHERE case_id = ? ORDER BY seq", [case_id])
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def q(value: object) -> str:
    return "NULL" if value is None else "'" + str(value).replace("'", "''") + "'"


def rewrite(w: World, case_id: str, change: Callable[[Event], Event], keep: int | None = None) -> list[str]:
    """Statements that rewrite a case's chain from its rows, every hash recomputed, the record made to match."""
    rows = rows_of(w, case_id)
    statements, prev, count = [], GENESIS_HASH, 0
    kept: list[Event] = []
    for row in rows:
        if keep is not None and row["seq"] > keep:
            statements.append(f"DELETE FROM events WHERE id = {row['id']}")
            continue
        event = change(row_to_event(row)).chained(prev)
        new = event_to_row(event)
        sets = ", ".join(f"{k} = {q(v)}" for k, v in new.items())
        statements.append(f"UPDATE events SET {sets} WHERE id = {row['id']}")
        prev, count = event.hash, event.seq
        kept.append(event)
    status = status_of(kept)  # the forger makes the case list's status agree with the events too
    statements.append(
        f"UPDATE cases SET head_hash = '{prev}', event_count = {count}, status = '{status}' WHERE id = '{case_id}'"
    )
    return statements


def status_of(events: list[Event]) -> str:
    from checklist_app.caselog import CaseLog
    from checklist_app.site import load_site_config

    return CaseLog(None, FakeClock(), load_site_config()).status_of(events)  # type: ignore[arg-type]


def forged_append(w: World, kind: str) -> list[str]:
    """An event appended after case A's last, hashed correctly, with the case record moved on to it."""
    last = row_to_event(rows_of(w, w.case_a)[-1])
    values = {"text": "forged"} if kind == "addendum" else {}
    event = Event(
        w.case_a, last.seq + 1, kind, last.clinical_time, last.recorded_time, "Dr Ada Demo", values=values
    ).chained(last.hash)
    row = event_to_row(event)
    columns = ", ".join(row)
    return [
        f"INSERT INTO events ({columns}) VALUES ({', '.join(q(v) for v in row.values())})",
        f"UPDATE cases SET head_hash = '{event.hash}', event_count = {event.seq}, status = "
        f"'{'amended' if kind == 'addendum' else 'signed'}' WHERE id = '{w.case_a}'",
    ]


FORGED_PIN = "scrypt$16384$8$1$c2FsdA==$Zm9yZ2Vk"


def forged_staff_entry(w: World) -> list[str]:
    """A PIN change appended to the staff chain with a correct hash, and the list made to match."""
    with raw(w.db) as conn:
        conn.execute("BEGIN")
        append_entry(
            conn, PIN_CHANGED, {"person_id": str(w.ada), "pin_hash": "scrypt$16384$8$1$c2FsdA==$Zm9yZ2Vk"}, None
        )
        conn.execute("UPDATE staff SET pin_hash = 'scrypt$16384$8$1$c2FsdA==$Zm9yZ2Vk' WHERE id = ?", [w.ada])
        conn.execute("COMMIT")
    return []


def change_column(table: str, column: str, where: str, expression: str | None = None) -> Callable[[World], list[str]]:
    new = expression or (
        f"CASE WHEN typeof({column}) = 'integer' THEN {column} + 1 "
        f"WHEN {column} IS NULL THEN 'x' ELSE {column} || 'x' END"
    )
    return sql(f"UPDATE {table} SET {column} = {new} WHERE {where}")


EVENT_A5 = "case_id = '{a}' AND seq = 5"
CASE_A = "id = '{a}'"

# (name, attack, verdict, victim case for a reference check)
MATRIX: list[tuple[str, Callable[[World], list[str]], str]] = [
    # -- cases: every column changed ---------------------------------------------------------------
    *[
        (f"change cases.{col}", change_column("cases", col, CASE_A, expr), "file")
        for col, expr in [
            ("id", None),
            ("created", None),
            ("service_date", "date(service_date, '+3 day')"),
            ("patient_name", None),
            ("mrn", None),
            ("procedure", None),
            ("levels", None),
            ("status", "'in_progress'"),
            ("event_count", None),
            ("head_hash", None),
        ]
    ],
    # -- events: every column changed (event 5 of case A) ------------------------------------------
    ("change events.id", change_column("events", "id", EVENT_A5, "id + 100000"), "none"),
    *[
        (f"change events.{col}", change_column("events", col, EVENT_A5, expr), "file")
        for col, expr in [
            ("case_id", "'{b}', seq = seq + 1000"),
            ("seq", "seq + 1000"),
            ("kind", "'not_applicable'"),
            ("step", None),
            ("level", None),
            ("side", None),
            ("values_json", "json_set(values_json, '$.tampered', 1)"),
            ("clinical_time", "replace(clinical_time, ':', ';')"),
            ("recorded_time", "replace(recorded_time, ':', ';')"),
            ("actor", None),
            ("reason", None),
            ("late_reason", None),
            ("ref", None),
            ("prev_hash", None),
            ("hash", None),
        ]
    ],
    (
        "duplicate JSON key in values",
        change_column("events", "values_json", EVENT_A5, "'{{\"x\":1,' || substr(values_json, 2)"),
        "file",
    ),
    (
        "non-finite number in values",
        change_column("events", "values_json", EVENT_A5, "'{{\"x\":1e999,' || substr(values_json, 2)"),
        "file",
    ),
    # -- events: delete, insert, reorder, truncate, rewrite -----------------------------------------
    ("delete a middle event", sql("DELETE FROM events WHERE " + EVENT_A5), "file"),
    (
        "delete the last event",
        sql("DELETE FROM events WHERE case_id = '{a}' AND seq = (SELECT max(seq) FROM events WHERE case_id = '{a}')"),
        "file",
    ),
    (
        "insert an event in the middle",
        sql(
            "UPDATE events SET seq = seq + 1000 WHERE case_id = '{a}' AND seq > 5",
            "INSERT INTO events (case_id, seq, kind, values_json, clinical_time, recorded_time, actor, prev_hash, "
            "hash) SELECT case_id, 6, kind, values_json, clinical_time, recorded_time, actor, hash, hash FROM events "
            "WHERE " + EVENT_A5,
        ),
        "file",
    ),
    (
        "append a step after the signature (hashes and record recomputed)",
        lambda w: forged_append(w, "step_done"),
        "file",
    ),
    ("append an addendum (hashes and record recomputed)", lambda w: forged_append(w, "addendum"), "hub"),
    (
        "reorder two events",
        sql(
            "UPDATE events SET seq = -1 WHERE case_id = '{a}' AND seq = 4",
            "UPDATE events SET seq = 4 WHERE case_id = '{a}' AND seq = 5",
            "UPDATE events SET seq = 5 WHERE case_id = '{a}' AND seq = -1",
        ),
        "file",
    ),
    ("move an event to the other case", change_column("events", "case_id", EVENT_A5, "'{b}', seq = 1000"), "file"),
    (
        "truncate the chain's tail, record made to match",
        lambda w: rewrite(w, w.case_a, lambda e: e, keep=10),
        "anchors",
    ),
    (
        "rewrite an event, every later hash and the record recomputed",
        lambda w: rewrite(w, w.case_a, lambda e: replace(e, actor="Someone Else") if e.seq == 9 else e),
        "anchors",
    ),
    (
        "delete a whole case with its record",
        sql("DELETE FROM events WHERE case_id = '{b}'", "DELETE FROM cases WHERE id = '{b}'"),
        "anchors",
    ),
    ("delete a case record, keep its events", sql("DELETE FROM cases WHERE id = '{b}'"), "file"),
    (
        "insert a case record without events",
        sql(
            "INSERT INTO cases (id, created, service_date, patient_name, mrn, procedure, levels, status, event_count, "
            "head_hash) SELECT '29990101-001', created, service_date, patient_name, mrn, procedure, levels, "
            "'in_progress', 0, '" + GENESIS_HASH + "' FROM cases WHERE id = '{a}'"
        ),
        "file",
    ),
    # -- the staff directory ------------------------------------------------------------------------
    *[
        (f"change staff.{col}", change_column("staff", col, "id = {ada}", expr), "file")
        for col, expr in [
            ("id", "id + 1000"),
            ("name", None),
            ("role", "'nurse'"),
            ("pin_hash", "'scrypt$16384$8$1$c2FsdA==$Zm9yZ2Vk'"),
            ("active", "0"),
        ]
    ],
    ("delete a staff member from the list", sql("DELETE FROM staff WHERE id = {ada}"), "file"),
    (
        "insert a staff member into the list only",
        sql("INSERT INTO staff (name, role, pin_hash, active) VALUES ('Dr Intruder', 'operator', NULL, 1)"),
        "file",
    ),
    *[
        (f"change staff_log.{col}", change_column("staff_log", col, "seq = 2", expr), "file")
        for col, expr in [("seq", "seq + 1000"), ("kind", "'deactivated'"), ("canonical", None), ("hash", None)]
    ],
    ("delete a staff directory entry", sql("DELETE FROM staff_log WHERE seq = 2"), "file"),
    (
        "cut the staff directory's last entry (the PIN change), list made to match",
        sql(
            "DELETE FROM staff_log WHERE seq = (SELECT max(seq) FROM staff_log)",
            "UPDATE staff SET pin_hash = NULL WHERE id = {ada}",
        ),
        "manifest",
    ),
    ("append a PIN change to the staff chain (hash correct, list made to match)", forged_staff_entry, "hub"),
    # -- the schema and the rest ----------------------------------------------------------------------
    ("add a trigger", sql("CREATE TRIGGER quiet AFTER INSERT ON events BEGIN SELECT 1; END"), "file"),
    ("add a view", sql("CREATE VIEW everyone AS SELECT * FROM cases"), "file"),
    ("add a table", sql("CREATE TABLE shadow (x)"), "file"),
    ("drop an index", sql("DROP INDEX cases_by_status"), "file"),
    ("insert a meta setting", sql("INSERT INTO meta (key, value) VALUES ('anything', 'x')"), "none"),
]


def verify(capsys, db: Path, *extra: str) -> int:
    LEDGER.add("tamper.verify_runs")
    return cli_in_process(capsys, "verify", "--db", str(db), *extra).code


@pytest.mark.parametrize(("name", "attack", "verdict"), MATRIX, ids=[m[0] for m in MATRIX])
def test_tamper_matrix(world: World, capsys, name: str, attack, verdict: str) -> None:
    statements = attack(world)
    with raw(world.db) as conn:
        conn.execute("PRAGMA foreign_keys = OFF")
        for statement in statements:
            conn.execute(statement)
    alone = verify(capsys, world.db)
    references = [a for ref in world.references.values() for a in ("--reference", ref)]
    by_reference = verify(capsys, world.db, *references)
    by_manifest = verify(capsys, world.db, "--manifest", str(world.manifest))
    got = {
        "file": alone == 1,
        "reference": alone == 0 and by_reference == 1,
        "manifest": alone == 0 and by_manifest == 1,
        "anchors": alone == 0 and by_reference == 1 and by_manifest == 1,
        "hub": alone == 0 and by_reference == 0 and by_manifest == 0,
        "none": alone == 0 and by_reference == 0 and by_manifest == 0,
    }
    assert got[verdict], (name, verdict, {"alone": alone, "reference": by_reference, "manifest": by_manifest})
    if verdict != "none" and verdict != "hub":
        LEDGER.add("tamper.detected")


def test_the_manifest_beside_the_backup_is_where_backup_put_it(pristine: World) -> None:
    assert pristine.manifest == manifest_path(pristine.db.with_name("backup.sqlite3"))


def test_the_matrix_names_each_column_of_every_record_table(pristine: World) -> None:
    with raw(pristine.db) as conn:
        for table in ("cases", "events", "staff", "staff_log"):
            columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
            named = {m[0].split(f"change {table}.")[1] for m in MATRIX if m[0].startswith(f"change {table}.")}
            assert set(columns) <= named, (table, set(columns) - named)


def test_recorded_time_format_is_what_the_matrix_edits() -> None:
    from datetime import UTC, datetime

    assert ":" in format_time(datetime(2026, 1, 1, tzinfo=UTC))
