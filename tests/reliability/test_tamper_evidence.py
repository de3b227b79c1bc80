"""Tamper evidence at the command line: `checklist-app verify` exits 1 naming the case and the event.

The tampering is done with a plain sqlite3 connection, as someone with the file would do it
(the store's authorizer only guards the program's own connection).
"""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from checklist_app.domain.events import GENESIS_HASH
from checklist_app.store.rows import event_to_row, row_to_event

from .harness import cli_in_process, raw, run_cli
from .ledger import LEDGER


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two complete demo cases, written once by the real program; each test tampers with a copy."""
    path = tmp_path_factory.mktemp("pristine") / "checklist.sqlite3"
    outcome = run_cli(path.parent, "demo", "--cases", "2", "--seed", "11", "--db", str(path))
    assert outcome.code == 0, outcome
    assert run_cli(path.parent, "verify", "--db", str(path)).code == 0
    return path


@pytest.fixture
def db(pristine: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "checklist.sqlite3"
    shutil.copyfile(pristine, copy)
    copy.chmod(0o600)  # owner-only, as the program keeps it (a looser copy would get a notice line on stderr)
    return copy


COPIED = "case_id, seq, kind, step, values_json, clinical_time, recorded_time, actor, prev_hash, hash"


def case_ids(db: Path) -> tuple[str, str]:
    with raw(db) as conn:
        first, second = (row[0] for row in conn.execute("SELECT id FROM cases ORDER BY id"))
    return first, second


def tamper(db: Path, *statements: str) -> None:
    with raw(db) as conn:
        conn.execute("PRAGMA foreign_keys = OFF")
        for sql in statements:
            conn.execute(sql)


def last_seq(db: Path, case_id: str) -> int:
    with raw(db) as conn:
        return conn.execute("SELECT max(seq) FROM events WHERE case_id = ?", [case_id]).fetchone()[0]


def broken(capsys: pytest.CaptureFixture[str], db: Path) -> list[tuple[str, int]]:
    """Run verify; it must exit 1 and say which events are broken. Returns (case, event) pairs named."""
    outcome = cli_in_process(capsys, "verify", "--db", str(db))
    LEDGER.add("tamper.verify_runs")
    assert outcome.code == 1, outcome
    assert re.fullmatch(r"\d+ problem\(s\) found in .*\n", outcome.err), outcome.err
    named = re.findall(r"^BROKEN case (\S+) event (\d+): ", outcome.out, flags=re.MULTILINE)
    assert named, outcome.out
    LEDGER.add("tamper.detected")
    return [(case, int(seq)) for case, seq in named]


def test_edited_values_are_named_by_case_and_event(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case_a, case_b = case_ids(db)
    tamper(
        db,
        f"UPDATE events SET values_json = json_set(values_json, '$.volume', 1.5) "
        f"WHERE case_id = '{case_a}' AND seq = 9",
    )
    assert broken(capsys, db) == [(case_a, 9)]


def test_edited_actor_is_named_by_case_and_event(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case_a, case_b = case_ids(db)
    tamper(db, f"UPDATE events SET actor = 'Someone Else' WHERE case_id = '{case_b}' AND seq = 4")
    assert broken(capsys, db) == [(case_b, 4)]


def test_edited_clinical_time_is_named_by_case_and_event(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case_a, case_b = case_ids(db)
    tamper(
        db,
        f"UPDATE events SET clinical_time = substr(clinical_time, 1, 11) || '03' || substr(clinical_time, 14) "
        f"WHERE case_id = '{case_a}' AND seq = 6",
    )
    assert broken(capsys, db) == [(case_a, 6)]


def test_deleted_middle_event_is_named(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case_a, case_b = case_ids(db)
    tamper(db, f"DELETE FROM events WHERE case_id = '{case_a}' AND seq = 12")
    named = broken(capsys, db)
    assert named and all(case == case_a for case, _ in named) and (case_a, 13) in named


def test_deleted_last_event_is_named(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case_a, case_b = case_ids(db)
    last = last_seq(db, case_a)
    tamper(db, f"DELETE FROM events WHERE case_id = '{case_a}' AND seq = {last}")
    assert broken(capsys, db) == [(case_a, last)]


def test_inserted_event_at_the_end_is_named(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Even a forger who computes the new event's hash correctly is caught by the case record."""
    case_a, case_b = case_ids(db)
    last = last_seq(db, case_a)
    with raw(db) as conn:
        cursor = conn.execute(f"SELECT * FROM events WHERE case_id = '{case_a}' AND seq = {last}")
        row = dict(zip([c[0] for c in cursor.description], cursor.fetchone(), strict=True))
    event = row_to_event(row)
    forged = replace(event, seq=last + 1, kind="addendum", values={"text": "all fine"}).chained(event.hash)
    fields = event_to_row(forged)
    tamper(db, f"INSERT INTO events ({', '.join(fields)}) VALUES ({', '.join(_sql(v) for v in fields.values())})")
    assert broken(capsys, db) == [(case_a, last + 1)]


def test_inserted_event_in_the_middle_is_named(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case_a, case_b = case_ids(db)
    last = last_seq(db, case_a)
    tamper(
        db,
        f"UPDATE events SET seq = seq + 1000 WHERE case_id = '{case_a}' AND seq >= 8",
        f"UPDATE events SET seq = seq - 999 WHERE case_id = '{case_a}' AND seq >= 1000",
        f"INSERT INTO events ({COPIED}) SELECT {COPIED.replace('seq', '8')} "
        f"FROM events WHERE case_id = '{case_a}' AND seq = 7",
    )
    named = broken(capsys, db)
    assert {case for case, _ in named} == {case_a} and (case_a, 8) in named and (case_a, last + 1) in named


def test_reordered_events_are_named(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case_a, case_b = case_ids(db)
    tamper(
        db,
        f"UPDATE events SET seq = -1 WHERE case_id = '{case_b}' AND seq = 5",
        f"UPDATE events SET seq = 5 WHERE case_id = '{case_b}' AND seq = 6",
        f"UPDATE events SET seq = 6 WHERE case_id = '{case_b}' AND seq = -1",
    )
    named = broken(capsys, db)
    assert {case for case, _ in named} == {case_b} and {(case_b, 5), (case_b, 6)} <= set(named)


def test_event_moved_to_another_case_is_named(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case_a, case_b = case_ids(db)
    last_a, last_b = last_seq(db, case_a), last_seq(db, case_b)
    tamper(
        db, f"UPDATE events SET case_id = '{case_b}', seq = {last_b + 1} WHERE case_id = '{case_a}' AND seq = {last_a}"
    )
    named = broken(capsys, db)
    assert (case_a, last_a) in named and (case_b, last_b + 1) in named


def test_tampering_is_reported_by_the_real_program_too(db: Path) -> None:
    case_a, case_b = case_ids(db)
    tamper(db, f"UPDATE events SET values_json = '{{}}' WHERE case_id = '{case_b}' AND seq = 3")
    outcome = run_cli(db.parent, "verify", "--db", str(db))
    LEDGER.add("tamper.detected")
    assert outcome.code == 1 and f"BROKEN case {case_b} event 3: " in outcome.out, outcome


def test_case_record_showing_another_patient_is_caught_by_verify(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The case list shows the cases table; if its patient differs from the case's own events, say so."""
    case_a, case_b = case_ids(db)
    tamper(db, f"UPDATE cases SET patient_name = 'Someone Else', mrn = 'X999' WHERE id = '{case_a}'")
    outcome = cli_in_process(capsys, "verify", "--db", str(db))
    LEDGER.add("tamper.verify_runs")
    assert outcome.code == 1 and case_a in outcome.out, (
        "verify says intact while `cases` lists case A under another patient's name and MRN"
    )


@pytest.mark.xfail(
    strict=True,
    reason="known limit of an unkeyed per-case hash chain: whoever can write the file can delete a whole "
    "case (its record and all its events) without trace; needs an anchor outside the case (see docs)",
)
def test_whole_case_deleted_with_its_record_is_caught_by_verify(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case_a, case_b = case_ids(db)
    tamper(db, f"DELETE FROM events WHERE case_id = '{case_b}'", f"DELETE FROM cases WHERE id = '{case_b}'")
    assert cli_in_process(capsys, "verify", "--db", str(db)).code == 1


@pytest.mark.xfail(
    strict=True,
    reason="known limit of an unkeyed hash chain: a forger who recomputes every later hash and the case "
    "record's head is not detectable from the file alone; needs an anchor outside the file (see docs)",
)
def test_rewritten_chain_with_recomputed_hashes_is_caught_by_verify(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case_a, case_b = case_ids(db)
    with raw(db) as conn:
        cursor = conn.execute(f"SELECT * FROM events WHERE case_id = '{case_a}' ORDER BY seq")
        names = [c[0] for c in cursor.description]
        rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    prev = GENESIS_HASH
    statements = []
    for row in rows:
        event = row_to_event(row)
        if event.seq == 9:
            event = replace(event, actor="Someone Else")
        event = event.chained(prev)
        prev = event.hash
        statements.append(
            f"UPDATE events SET actor = {_sql(event.actor)}, prev_hash = '{event.prev_hash}', hash = '{event.hash}' "
            f"WHERE id = {row['id']}"
        )
    statements.append(f"UPDATE cases SET head_hash = '{prev}' WHERE id = '{case_a}'")
    tamper(db, *statements)
    assert cli_in_process(capsys, "verify", "--db", str(db)).code == 1


def test_window_shows_the_tamper_banner_on_a_tampered_case(db: Path, qtbot, tmp_path: Path) -> None:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QWidget

    from checklist_app.service import ChecklistService
    from checklist_app.ui.window import build_window

    case_a, case_b = case_ids(db)
    tamper(db, f"UPDATE events SET actor = 'Someone Else' WHERE case_id = '{case_a}' AND seq = 4")
    service = ChecklistService.open(db)
    try:
        window = build_window(service, QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
        qtbot.addWidget(window)
        window.show()
        window.open_case(case_b)  # an intact case: no banner
        banner = window.findChild(QWidget, "tamper_banner")
        assert banner is not None and not banner.isVisible()
        window.open_case(case_a)
        qtbot.waitUntil(banner.isVisible)
        assert "ALTERED" in banner.text() and case_a in banner.text() and "event 4" in banner.text()
        LEDGER.add("tamper.window_banner")
    finally:
        service.close()


def _sql(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"
