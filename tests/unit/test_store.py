"""The store, specified: durable appends, an append-only hash chain that verify() re-walks, clear failures."""

from __future__ import annotations

import os
import re
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checklist_app.domain.events import GENESIS_HASH, Event, format_time
from checklist_app.store import (
    MIGRATIONS,
    CaseRow,
    Problem,
    Store,
    StoreCorrupt,
    StoreError,
    StoreFull,
    StoreLocked,
    StoreReadOnly,
    open_store,
)
from checklist_app.store.errors import translate

CASE = "20261122-001"
T0 = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
STORE_SOURCE = Path(__file__).resolve().parents[2] / "checklist_app" / "store"


def event(seq: int, case_id: str = CASE, **changes: object) -> Event:
    fields: dict = {
        "case_id": case_id,
        "seq": seq,
        "kind": "case_started" if seq == 1 else "step_done",
        "clinical_time": T0 + timedelta(minutes=seq),
        "recorded_time": T0 + timedelta(minutes=seq, seconds=5),
        "actor": "Nurse A",
        "step": None if seq == 1 else f"step_{seq}",
        "values": {"x": seq, "note": "ok"},
    }
    fields.update(changes)
    return Event(**fields)


def case_row(case_id: str = CASE, service_date: date = date(2026, 11, 22), **changes: object) -> dict:
    row = {
        "id": case_id,
        "created": T0 + timedelta(minutes=1, seconds=5),  # when event 1 is recorded (verify checks it)
        "service_date": service_date,
        "patient_name": "Test Patient",
        "mrn": "MRN0001",
        "procedure": "kyphoplasty",
        "levels": "T12 L1",
        "status": "in_progress",
    }
    row.update(changes)
    return row


def new_case(store: Store, count: int, case_id: str = CASE, service_date: date = date(2026, 11, 22)) -> list[Event]:
    events = [event(seq, case_id) for seq in range(1, count + 1)]
    return store.append(case_id, events, case_row=case_row(case_id, service_date))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "checklist.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    with Store(db_path) as opened:
        yield opened


@contextmanager
def raw(path: Path) -> Iterator[sqlite3.Connection]:
    """A plain sqlite3 connection, as a tamperer would use, bypassing the store."""
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        yield conn


def saved_case(db_path: Path, count: int = 5) -> None:
    with Store(db_path) as writer:
        new_case(writer, count)


def problems_after_tampering(db_path: Path, *statements: str) -> list[Problem]:
    with raw(db_path) as conn:
        for sql in statements:
            conn.execute(sql)
    with Store(db_path, readonly=True) as reader:
        return reader.verify()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def can_write_despite(path: Path) -> bool:
    """True when permissions do not stop us (e.g. running as root, as CI does)."""
    return os.access(path, os.W_OK)


# -- opening, permissions, schema -----------------------------------------------------------------


def test_durability_pragmas_are_in_force(store: Store) -> None:
    assert store.pragmas() == {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1}


def test_new_database_file_is_owner_only_and_new_folder_is_private(store: Store, db_path: Path) -> None:
    new_case(store, 1)
    assert mode(db_path.parent) == 0o700
    for name in (db_path.name, db_path.name + "-wal", db_path.name + "-shm", db_path.name + ".lock"):
        assert mode(db_path.parent / name) == 0o600, name


def test_zero_byte_file_is_migrated_and_schema_version_recorded(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.write_bytes(b"")
    path.chmod(0o644)
    with Store(path) as opened:
        assert opened.schema_version == len(MIGRATIONS) == 3
        assert opened.list_cases() == []
    assert mode(path) == 0o600
    with raw(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"cases", "events", "staff", "meta", "outbox", "hub_marks"} <= tables
        assert conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'").fetchone()[0] == 0


def test_events_table_refuses_a_duplicate_seq_even_outside_the_store(store: Store, db_path: Path) -> None:
    new_case(store, 2)
    with raw(db_path) as conn, pytest.raises(sqlite3.IntegrityError):
        conn.execute(
            "INSERT INTO events (case_id, seq, kind, values_json, clinical_time, recorded_time, actor) "
            f"VALUES ('{CASE}', 2, 'x', '{{}}', 't', 't', 'a')"
        )


def test_newer_schema_version_is_refused_and_file_left_unchanged(db_path: Path) -> None:
    saved_case(db_path, 1)
    with raw(db_path) as conn:
        conn.execute("PRAGMA user_version = 99")
    before = db_path.read_bytes()
    with pytest.raises(StoreError, match="newer version of the program"):
        Store(db_path)
    with pytest.raises(StoreError, match="newer version"):
        Store(db_path, readonly=True)
    assert db_path.read_bytes() == before


# -- appending ------------------------------------------------------------------------------------


def test_append_then_reopen_returns_identical_events_with_hashes(db_path: Path) -> None:
    with Store(db_path) as writer:
        appended = new_case(writer, 3)
        appended += writer.append(CASE, [event(4, values={"volume_ml": 2.5, "nested": {"a": [1, "b"]}})])
    with Store(db_path, readonly=True) as reader:
        reread = reader.events(CASE)
    assert reread == appended
    assert [e.hash for e in reread] == [e.hash for e in appended]
    assert all(e.clinical_time.tzinfo is not None for e in reread)


def test_appended_events_chain_from_genesis(store: Store) -> None:
    first, second, third = new_case(store, 3)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash and third.prev_hash == second.hash
    assert all(e.hash == e.compute_hash() for e in (first, second, third))


def test_append_continues_a_case_after_reopening(db_path: Path) -> None:
    saved_case(db_path, 2)
    with Store(db_path) as writer:
        (third,) = writer.append(CASE, [event(3)])
        assert third.prev_hash == writer.events(CASE)[1].hash
        assert writer.verify() == []


def test_out_of_sequence_seq_is_refused_with_nothing_written(store: Store) -> None:
    new_case(store, 2)
    for bad_seq in (2, 4, 0):
        with pytest.raises(StoreError, match="out of sequence"):
            store.append(CASE, [event(bad_seq)], status="done")
    assert [e.seq for e in store.events(CASE)] == [1, 2]
    assert store.list_cases()[0].event_count == 2
    assert store.list_cases()[0].status == "in_progress"


def test_failed_batch_leaves_nothing_behind(store: Store) -> None:
    with pytest.raises(StoreError, match="out of sequence"):
        store.append(CASE, [event(1), event(3)], case_row=case_row())
    assert not store.case_exists(CASE)
    assert store.events(CASE) == []
    assert [e.seq for e in new_case(store, 2)] == [1, 2]
    assert store.verify() == []


def test_failed_batch_on_existing_case_keeps_its_head(store: Store) -> None:
    new_case(store, 2)
    with pytest.raises(StoreError):
        store.append(CASE, [event(3), event(5)])
    (third,) = store.append(CASE, [event(3)])
    assert third.prev_hash == store.events(CASE)[1].hash
    assert store.verify() == []


def test_append_to_unknown_case_is_refused(store: Store) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        store.append("20261122-009", [event(1, "20261122-009")])


def test_starting_an_existing_case_again_is_refused(store: Store) -> None:
    new_case(store, 1)
    with pytest.raises(StoreError, match="already exists"):
        store.append(CASE, [event(1)], case_row=case_row())
    assert len(store.events(CASE)) == 1


def test_event_of_another_case_is_refused_before_writing(store: Store) -> None:
    with pytest.raises(ValueError, match="another case"):
        store.append(CASE, [event(1, "20261122-002")], case_row=case_row())
    assert not store.case_exists(CASE)


def test_status_is_saved_with_the_events(store: Store) -> None:
    new_case(store, 1)
    store.append(CASE, [event(2)], status="signed")
    store.append(CASE, [], status="closed")
    (row,) = store.list_cases()
    assert (row.status, row.event_count) == ("closed", 2)


def test_append_cost_does_not_grow_with_the_case(store: Store) -> None:
    short, long = "20261122-001", "20261122-002"
    new_case(store, 9, short)
    new_case(store, 999, long)

    def statements_for(case_id: str, seq: int) -> list[str]:
        traced: list[str] = []
        store._conn.set_trace_callback(traced.append)  # white-box: the SQL one append runs
        try:
            store.append(case_id, [event(seq, case_id)])
        finally:
            store._conn.set_trace_callback(None)
        return [re.sub(r"'(?:[^']|'')*'|\b\d+(\.\d+)?\b|sqlite_utils_\w+", "?", sql) for sql in traced]

    at_10, at_1000 = statements_for(short, 10), statements_for(long, 1000)
    assert at_10 == at_1000
    assert not [sql for sql in at_1000 if re.search(r"from\s+[\"\[]?events", sql, re.IGNORECASE)]


def test_cold_cache_head_lookup_uses_indexes_not_scans(db_path: Path) -> None:
    saved_case(db_path, 50)
    with Store(db_path) as writer:
        traced: list[str] = []
        writer._conn.set_trace_callback(traced.append)
        writer.append(CASE, [event(51)])
        writer._conn.set_trace_callback(None)
        selects = [sql for sql in traced if sql.lstrip().upper().startswith("SELECT") and "events" in sql]
        assert selects
        for sql in selects:
            plan = " ".join(str(row[-1]) for row in writer._conn.execute("EXPLAIN QUERY PLAN " + sql))
            assert "INDEX" in plan.upper() and not re.search(r"SCAN (TABLE )?events\b(?! USING)", plan), plan


def test_store_connection_itself_cannot_rewrite_events(store: Store) -> None:
    new_case(store, 2)
    for sql in (f"UPDATE events SET actor = 'X' WHERE case_id = '{CASE}'", "DELETE FROM events", "DROP TABLE events"):
        with pytest.raises(sqlite3.DatabaseError, match="not authorized"):
            store._conn.execute(sql)
    assert len(store.events(CASE)) == 2


def test_no_store_source_updates_or_deletes_events() -> None:
    events = r"""["'\[`]?events\b"""
    table = r"""(\[\s*["']events["']\s*\]|table\(\s*["']events["']\s*\))\s*\.\s*"""
    patterns = [
        rf"UPDATE\s+(OR\s+\w+\s+)?{events}",
        rf"DELETE\s+FROM\s+{events}",
        rf"REPLACE\s+INTO\s+{events}",
        rf"DROP\s+TABLE\s+(IF\s+EXISTS\s+)?{events}",
        r"INSERT\s+OR\s+REPLACE",
        rf"{table}(update|delete|delete_where|upsert|upsert_all|transform|drop|truncate)\b",
        r"replace\s*=\s*True",
    ]
    forbidden = re.compile("|".join(patterns), re.IGNORECASE)
    sources = sorted(STORE_SOURCE.glob("*.py"))
    assert sources
    offenders = [f"{p.name}: {m.group(0)}" for p in sources for m in forbidden.finditer(p.read_text())]
    assert offenders == []


# -- verify ---------------------------------------------------------------------------------------


def test_verify_of_clean_database_finds_nothing(store: Store) -> None:
    new_case(store, 5)
    new_case(store, 3, "20261122-002")
    assert store.verify() == []


def test_verify_detects_edited_values_naming_case_and_event(db_path: Path) -> None:
    saved_case(db_path)
    problems = problems_after_tampering(
        db_path, f"""UPDATE events SET values_json = '{{"note":"ok","x":99}}' WHERE case_id = '{CASE}' AND seq = 3"""
    )
    assert Problem(CASE, 3, f"case {CASE} event 3: contents do not match its hash (edited?)") in problems


def test_verify_detects_edited_time_even_with_a_recomputed_hash(db_path: Path) -> None:
    saved_case(db_path)
    with Store(db_path, readonly=True) as reader:
        original = reader.events(CASE)[2]
    forged = replace(original, clinical_time=original.clinical_time - timedelta(hours=1)).chained(original.prev_hash)
    problems = problems_after_tampering(
        db_path,
        f"UPDATE events SET clinical_time = '{format_time(forged.clinical_time)}', "
        f"hash = '{forged.hash}' WHERE case_id = '{CASE}' AND seq = 3",
    )
    assert any(p.seq == 4 and "does not link" in p.message for p in problems), problems


def test_verify_detects_deleted_middle_event(db_path: Path) -> None:
    saved_case(db_path)
    problems = problems_after_tampering(db_path, f"DELETE FROM events WHERE case_id = '{CASE}' AND seq = 3")
    assert any(p.case_id == CASE and p.seq == 4 and "does not link" in p.message for p in problems)
    assert any(p.seq == 4 and "where event 3 should be" in p.message for p in problems)
    assert all(CASE in p.message for p in problems)


def test_verify_detects_deleted_last_event(db_path: Path) -> None:
    saved_case(db_path)
    problems = problems_after_tampering(db_path, f"DELETE FROM events WHERE case_id = '{CASE}' AND seq = 5")
    message = f"case {CASE} event 5: missing; the case record lists 5 events, 4 are stored (last event deleted?)"
    assert problems == [Problem(CASE, 5, message)]


def test_verify_detects_inserted_event(db_path: Path) -> None:
    saved_case(db_path)
    with Store(db_path, readonly=True) as reader:
        last = reader.events(CASE)[-1]
    sneaked = event(6).chained(last.hash)  # a perfectly chained extra event the program never wrote
    problems = problems_after_tampering(
        db_path,
        "INSERT INTO events (case_id, seq, kind, step, values_json, clinical_time, recorded_time, actor, "
        f"prev_hash, hash) VALUES ('{CASE}', 6, 'step_done', 'step_6', '{{\"note\":\"ok\",\"x\":6}}', "
        f"'{format_time(sneaked.clinical_time)}', '{format_time(sneaked.recorded_time)}', 'Nurse A', "
        f"'{last.hash}', '{sneaked.hash}')",
    )
    assert [(p.case_id, p.seq) for p in problems] == [(CASE, 6)]
    assert "not in the case record" in problems[0].message


def test_verify_detects_two_events_with_swapped_seq(db_path: Path) -> None:
    saved_case(db_path)
    problems = problems_after_tampering(
        db_path,
        f"UPDATE events SET seq = -1 WHERE case_id = '{CASE}' AND seq = 2",
        f"UPDATE events SET seq = 2 WHERE case_id = '{CASE}' AND seq = 3",
        f"UPDATE events SET seq = 3 WHERE case_id = '{CASE}' AND seq = -1",
    )
    flagged = {p.seq for p in problems}
    assert {2, 3} <= flagged
    assert any("contents do not match its hash" in p.message for p in problems)


def test_verify_detects_swapped_contents_of_two_events(db_path: Path) -> None:
    saved_case(db_path)
    columns = ("kind", "step", "values_json", "clinical_time", "recorded_time", "actor", "prev_hash", "hash")
    with raw(db_path) as conn:
        select = f"SELECT {', '.join(columns)} FROM events WHERE case_id = ? AND seq = ?"
        second, third = (conn.execute(select, [CASE, seq]).fetchone() for seq in (2, 3))
        assignments = ", ".join(f"{column} = ?" for column in columns)
        for seq, contents in ((2, third), (3, second)):
            conn.execute(f"UPDATE events SET {assignments} WHERE case_id = ? AND seq = ?", [*contents, CASE, seq])
    with Store(db_path, readonly=True) as reader:
        problems = reader.verify()
    assert {p.seq for p in problems} >= {2, 3}
    assert any("contents do not match its hash" in p.message for p in problems)
    assert any("does not link" in p.message for p in problems)


def test_verify_detects_events_without_a_case_record(db_path: Path) -> None:
    saved_case(db_path, 2)
    problems = problems_after_tampering(db_path, f"DELETE FROM cases WHERE id = '{CASE}'")
    assert {(p.case_id, p.seq) for p in problems} == {(CASE, 1), (CASE, 2)}
    assert all("belongs to no case record" in p.message for p in problems)


def test_verify_reports_unreadable_event_instead_of_crashing(db_path: Path) -> None:
    saved_case(db_path, 2)
    problems = problems_after_tampering(db_path, "UPDATE events SET values_json = '{broken' WHERE seq = 2")
    assert any(p.seq == 2 and "cannot be read back" in p.message for p in problems)


def test_verify_works_on_a_read_only_store_while_the_writer_is_open(store: Store, db_path: Path) -> None:
    new_case(store, 4)
    with Store(db_path, readonly=True) as reader:
        assert reader.verify() == []
        assert len(reader.events(CASE)) == 4


# -- concurrency and damaged files ----------------------------------------------------------------


def test_second_writer_is_refused_while_read_only_open_works(store: Store, db_path: Path) -> None:
    new_case(store, 1)
    with pytest.raises(StoreLocked, match=rf"another checklist window \(process {os.getpid()}\)"):
        Store(db_path)
    with Store(db_path, readonly=True) as reader:
        assert [e.seq for e in reader.events(CASE)] == [1]
    store.append(CASE, [event(2)])


CRASHING_WRITER = """
import os, sys
from datetime import date, datetime, timezone
from pathlib import Path
from checklist_app.domain.events import Event
from checklist_app.store import Store
t = datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)
store = Store(Path(sys.argv[1]))
events = [Event(case_id=sys.argv[2], seq=i, kind="step_done", clinical_time=t, recorded_time=t, actor="A")
          for i in (1, 2, 3)]
store.append(sys.argv[2], events, case_row={"id": sys.argv[2], "created": t, "service_date": date(2026, 11, 22),
                                            "status": "open"})
os._exit(0)  # die without closing: the WAL still holds the commit, the lock dies with the process
"""


def test_acknowledged_appends_survive_a_killed_process(db_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    subprocess.run([sys.executable, "-c", CRASHING_WRITER, str(db_path), CASE], check=True, env=env, timeout=60)
    assert (db_path.parent / (db_path.name + "-wal")).stat().st_size > 0
    with Store(db_path) as writer:
        assert [e.seq for e in writer.events(CASE)] == [1, 2, 3]
        writer.append(CASE, [event(4)])
        assert writer.verify() == []


def test_closing_releases_the_writer_lock(db_path: Path) -> None:
    Store(db_path).close()
    with open_store(db_path) as again:
        assert again.pragmas()["journal_mode"] == "wal"


def _png() -> bytes:
    return b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256)) * 4


def _truncated_db(path: Path, keep: str) -> bytes:
    saved_case(path, 200)
    data = path.read_bytes()
    return data[: len(data) // 2] if keep == "half" else data[:4096]


@pytest.mark.parametrize("content", ["garbage", "png", "header_only", "truncated_half", "truncated_page"])
def test_damaged_file_is_refused_as_corrupt_and_left_unchanged(tmp_path: Path, content: str) -> None:
    path = tmp_path / "case.db"
    data = {
        "garbage": b"this is not a database at all\n" * 100,
        "png": _png(),
        "header_only": b"SQLite format 3\x00" + b"\x00" * 40,
    }.get(content) or _truncated_db(tmp_path / "source.db", content.removeprefix("truncated_"))
    path.write_bytes(data)
    for readonly in (False, True):
        with pytest.raises(StoreCorrupt, match="not a checklist database.*It has not been changed"):
            Store(path, readonly=readonly)
    assert path.read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("case.db")) == ["case.db"]


def test_sqlite_file_of_another_program_is_refused_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with raw(path) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
    before = path.read_bytes()
    with pytest.raises(StoreCorrupt, match="another program"):
        Store(path)
    assert path.read_bytes() == before
    assert not (tmp_path / "other.db.lock").exists()


def test_damaged_pages_are_reported_by_verify_and_refused_by_append(db_path: Path) -> None:
    with Store(db_path) as writer:
        writer.append(CASE, [event(seq, values={"text": "y" * 200}) for seq in range(1, 300)], case_row=case_row())
    data = bytearray(db_path.read_bytes())
    for page in (5, 20, 40):
        data[4096 * page + 8 : 4096 * page + 4000] = b"\x55" * 3992
    db_path.write_bytes(bytes(data))
    with Store(db_path, readonly=True) as reader:
        problems = reader.verify()  # what integrity_check says, then the walk that cannot finish
        assert problems and any("damaged" in problem.message for problem in problems)
    with Store(db_path) as writer, pytest.raises(StoreCorrupt, match="It has not been changed"):
        writer.append(CASE, [event(300)])
    assert db_path.read_bytes() == bytes(data)


def test_full_disk_raises_store_full_and_keeps_earlier_data(db_path: Path) -> None:
    saved_case(db_path, 3)
    with raw(db_path) as conn:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    with Store(db_path, max_page_count=pages + 1) as writer:
        bulky = [event(seq, values={"blob": "x" * 3000}) for seq in range(4, 20)]
        with pytest.raises(StoreFull, match="disk is full.*Nothing already saved was lost"):
            writer.append(CASE, bulky, status="done")
        assert [e.seq for e in writer.events(CASE)] == [1, 2, 3]
        assert writer.list_cases()[0].status == "in_progress"
    with Store(db_path) as writer:
        writer.append(CASE, [event(4)])
        assert writer.verify() == []


def test_read_only_file_refuses_to_open_for_writing(db_path: Path) -> None:
    saved_case(db_path, 1)
    db_path.chmod(0o400)
    try:
        if can_write_despite(db_path):
            pytest.skip("permissions do not bind this user (root); read-only mode is tested separately")
        with pytest.raises(StoreReadOnly, match="read-only"):
            Store(db_path)
        with Store(db_path, readonly=True) as reader:
            assert len(reader.events(CASE)) == 1
    finally:
        db_path.chmod(0o600)


def test_read_only_mode_refuses_every_write(db_path: Path) -> None:
    saved_case(db_path, 1)
    before = db_path.read_bytes()
    with Store(db_path, readonly=True) as reader:
        writes = [
            lambda: reader.append(CASE, [event(2)]),
            lambda: reader.append("20261122-002", [], case_row=case_row("20261122-002")),
            lambda: reader.staff.add_staff("Ann", "nurse"),
            lambda: reader.staff.set_staff_active(1, False),
            lambda: reader.staff.meta_set("k", "v"),
        ]
        for write in writes:
            with pytest.raises(StoreReadOnly, match="read-only"):
                write()
        assert len(reader.events(CASE)) == 1
    assert db_path.read_bytes() == before


def test_read_only_mode_on_missing_file_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "absent" / "none.db"
    with pytest.raises(StoreError, match="no checklist database"):
        Store(path, readonly=True)
    assert not path.parent.exists()


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("database or disk is full", StoreFull),
        ("attempt to write a readonly database", StoreReadOnly),
        ("database is locked", StoreLocked),
        ("file is not a database", StoreCorrupt),
        ("database disk image is malformed", StoreCorrupt),
        ("unable to open database file", StoreError),
    ],
)
def test_sqlite_errors_become_one_line_store_errors(message: str, kind: type[StoreError]) -> None:
    error = translate(sqlite3.OperationalError(message), Path("/data/c.db"))
    assert type(error) is kind
    assert "/data/c.db" in str(error) and "\n" not in str(error)


# -- backup ---------------------------------------------------------------------------------------


def test_backup_is_an_owner_only_copy_that_verifies_clean(store: Store, tmp_path: Path) -> None:
    new_case(store, 4)
    dest = tmp_path / "backups" / "copy.db"
    dest.parent.mkdir()
    store.backup(dest)
    store.append(CASE, [event(5)])  # the live program carries on
    assert mode(dest) == 0o600
    with Store(dest, readonly=True) as copy:
        assert copy.verify() == []
        assert len(copy.events(CASE)) == 4
    assert [p.name for p in dest.parent.iterdir() if "partial" in p.name] == []


def test_backup_refuses_to_overwrite_the_live_database(store: Store, db_path: Path) -> None:
    new_case(store, 1)
    with pytest.raises(StoreError, match="live database"):
        store.backup(db_path)
    with pytest.raises(StoreError, match="live database"):
        store.backup(db_path.parent / ".." / db_path.parent.name / db_path.name)
    assert store.verify() == []


def test_backup_to_a_missing_folder_is_a_clear_error(store: Store, tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        store.backup(tmp_path / "nowhere" / "copy.db")


# -- case list ------------------------------------------------------------------------------------


def test_list_cases_is_newest_first_and_honours_limit(store: Store) -> None:
    days = [date(2026, 11, 20), date(2026, 11, 22), date(2026, 11, 21)]
    for day in days:
        for _ in range(2):
            new_case(store, 1, store.next_case_id(day), day)
    listed = store.list_cases()
    assert [c.id for c in listed] == [
        "20261122-002",
        "20261122-001",
        "20261121-002",
        "20261121-001",
        "20261120-002",
        "20261120-001",
    ]
    assert listed[0] == CaseRow(
        id="20261122-002",
        created=(T0 + timedelta(minutes=1, seconds=5)).isoformat(timespec="microseconds"),
        service_date="2026-11-22",
        patient_name="Test Patient",
        mrn="MRN0001",
        procedure="kyphoplasty",
        levels="T12 L1",
        status="in_progress",
        event_count=1,
    )
    assert [c.id for c in store.list_cases(limit=2)] == ["20261122-002", "20261122-001"]


def test_list_cases_reads_the_date_index_without_sorting(store: Store) -> None:
    new_case(store, 1)
    traced: list[str] = []
    store._conn.set_trace_callback(traced.append)
    store.list_cases(limit=50)
    store._conn.set_trace_callback(None)
    (query,) = [sql for sql in traced if "from" in sql.lower() and "cases" in sql and "sqlite_master" not in sql]
    plan = " ".join(str(row[-1]) for row in store._conn.execute("EXPLAIN QUERY PLAN " + query))
    assert "cases_by_date" in plan and "TEMP B-TREE" not in plan, plan


def test_next_case_id_counts_that_days_cases_and_skips_taken_ids(store: Store) -> None:
    day = date(2026, 11, 22)
    assert store.next_case_id(day) == "20261122-001"
    new_case(store, 1, "20261122-002", day)  # e.g. made on another machine and merged
    assert store.next_case_id(day) == "20261122-003"
    assert store.next_case_id(date(2026, 11, 23)) == "20261123-001"


def test_case_exists(store: Store) -> None:
    assert not store.case_exists(CASE)
    new_case(store, 1)
    assert store.case_exists(CASE)


# -- staff and settings ---------------------------------------------------------------------------


def test_staff_are_listed_with_pin_flag_and_can_be_deactivated(store: Store) -> None:
    ann = store.staff.add_staff("Ann", "nurse", pin_hash="scrypt$abc")
    bob = store.staff.add_staff("Bob", "radiographer")
    assert store.staff.list_staff() == [
        {"id": ann, "name": "Ann", "role": "nurse", "has_pin": True, "active": True},
        {"id": bob, "name": "Bob", "role": "radiographer", "has_pin": False, "active": True},
    ]
    assert store.staff.staff_pin_hash(ann) == "scrypt$abc"
    assert store.staff.staff_pin_hash(bob) is None
    store.staff.set_staff_active(bob, False)
    assert [s["name"] for s in store.staff.list_staff()] == ["Ann"]
    assert [s["active"] for s in store.staff.list_staff(active_only=False)] == [True, False]


def test_same_name_twice_in_one_role_is_refused(store: Store) -> None:
    store.staff.add_staff("Ann", "nurse")
    store.staff.add_staff("Ann", "operator")
    with pytest.raises(StoreError, match="already on the staff list"):
        store.staff.add_staff("Ann", "nurse")
    assert len(store.staff.list_staff()) == 2


def test_unknown_staff_id_is_a_store_error(store: Store) -> None:
    with pytest.raises(StoreError, match="no staff member"):
        store.staff.staff_pin_hash(42)
    with pytest.raises(StoreError, match="no staff member"):
        store.staff.set_staff_active(42, True)


def test_meta_values_are_saved_and_replaced(db_path: Path) -> None:
    with Store(db_path) as writer:
        assert writer.staff.meta_get("site") is None
        writer.staff.meta_set("site", "Room 3")
        writer.staff.meta_set("site", "Room 4")
    with Store(db_path, readonly=True) as reader:
        assert reader.staff.meta_get("site") == "Room 4"


# -- properties -----------------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.dictionaries(st.text(max_size=10), json_values, max_size=5), actor=st.text(min_size=1, max_size=30))
def test_any_json_values_round_trip_and_verify_clean(store: Store, values: dict, actor: str) -> None:
    case_id = store.next_case_id(date(2026, 11, 22))
    (stored,) = store.append(case_id, [event(1, case_id, values=values, actor=actor)], case_row=case_row(case_id))
    (reread,) = store.events(case_id)
    assert reread == stored
    assert reread.compute_hash() == stored.hash


def test_verify_catches_a_case_list_entry_edited_to_show_another_patient(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    setup = {"patient": {"name": "Test Patient", "weight_kg": 70.0, "mrn": "MRN0001"}, "procedure": "kyphoplasty"}
    setup["levels"] = [{"level": "T12", "sides": ["left"]}, {"level": "L1", "sides": ["left"]}]
    with open_store(path) as store:
        store.append(CASE, [event(1, values={"setup": setup})], case_row=case_row())
        assert store.verify() == []
    raw = sqlite3.connect(path)
    raw.execute("UPDATE cases SET patient_name = 'Someone Else' WHERE id = ?", [CASE])
    raw.commit()
    raw.close()
    with open_store(path, readonly=True) as store:
        problems = store.verify()
    assert [(p.case_id, "patient_name" in p.message) for p in problems] == [(CASE, True)]


def test_a_signed_case_takes_only_addenda_whatever_writes_to_it(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    with open_store(path) as store:
        store.append(CASE, [event(1)], case_row=case_row())
        signature = {"name": "Dr A", "role": "operator", "meaning": "author"}  # the lock comes from this event
        store.append(CASE, [event(2, kind="signature", values=signature)], status="signed")
        with pytest.raises(StoreError, match="only an addendum"):
            store.append(CASE, [event(3)])
        store.append(CASE, [event(3, kind="addendum")], status="amended")
    with open_store(path) as reopened:  # the rule holds after a restart too
        with pytest.raises(StoreError, match="only an addendum"):
            reopened.append(CASE, [event(4)])
        assert [e.kind for e in reopened.events(CASE)][-1] == "addendum"


def test_per_case_caches_stay_bounded_over_many_cases(store: Store) -> None:
    """A workstation open for weeks: the writer's per-case memory does not grow with every case."""
    from checklist_app.store.store import MAX_CACHED_CASES

    for n in range(MAX_CACHED_CASES * 3):
        case_id = f"20261122-{n + 1:03d}"
        new_case(store, 2, case_id)
        store.append(case_id, [event(3, case_id)], status="in_progress")
    assert len(store._chains._heads) == len(store._chains._status) == MAX_CACHED_CASES
    first = "20261122-001"  # long forgotten by the caches: still appended to correctly from disk
    assert [e.seq for e in store.append(first, [event(4, first)])] == [4]
