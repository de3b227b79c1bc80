"""Disk faults: read-only file or folder, full disk, failing writes, a locked database.

For each fault: a clear message on the command line and through the service, nothing already
saved is lost, the unsaved tick is not shown as done, and once the fault clears the very same
call succeeds.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import stat
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from checklist_app.domain.clock import FakeClock
from checklist_app.domain.state import PENDING
from checklist_app.service import ChecklistService
from checklist_app.store import Store, StoreError, StoreFull, StoreLocked, StoreReadOnly
from tests.conftest import START, STEP_VALUES, setup_kwargs

from .harness import assert_one_line_error, digest, held_by_another_program, integrity, raw, run_cli, saved_case
from .ledger import LEDGER

ROOT = os.geteuid() == 0


# -- helpers --------------------------------------------------------------------------------------


def next_tick(service: ChecklistService, case_id: str) -> dict[str, Any]:
    """The keyword arguments of the tick the nurse makes next."""
    current = service.state(case_id).current
    assert current is not None
    step = current.spec.id
    return {
        "case_id": case_id,
        "step": step,
        "level": current.level,
        "side": current.side,
        "values": STEP_VALUES.get(step),
    }


def assert_not_saved(service: ChecklistService, tick: dict[str, Any], stored: int) -> None:
    """Nothing of the failed tick reached the disk or the state the window shows."""
    case_id = tick["case_id"]
    assert len(service.store.events(case_id)) == stored
    state = service.state(case_id)
    assert len(state.events) == stored
    assert state.instance(tick["step"], tick["level"], tick["side"]).status == PENDING


def assert_saved(service: ChecklistService, tick: dict[str, Any], stored: int) -> None:
    state = service.record_step(**tick)
    assert state.instance(tick["step"], tick["level"], tick["side"]).status != PENDING
    assert len(service.store.events(tick["case_id"])) == stored + 1
    assert service.store.verify() == []


def reopen(db: Path, **kwargs: Any) -> ChecklistService:
    return ChecklistService(Store(db, **kwargs), clock=FakeClock(START.replace(hour=9)))


@contextmanager
def unwritable(how: str, *paths: Path) -> Iterator[None]:
    """Make files or folders unwritable: by permissions (binds non-root users) or `chattr +i` (binds root)."""
    if how == "chmod":
        if ROOT:
            pytest.skip("running as root: file permissions do not stop root (the chattr variant covers it)")
        modes = {p: stat.S_IMODE(p.stat().st_mode) for p in paths}
        for p in paths:
            p.chmod(0o500 if p.is_dir() else 0o400)
        try:
            yield
        finally:
            for p, mode in modes.items():
                p.chmod(mode)
        return
    if not ROOT:
        pytest.skip("chattr +i needs root (the chmod variant covers other users)")
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed, so nothing can make a file read-only for root")
    done = subprocess.run(["chattr", "+i", *map(str, paths)], capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"this filesystem does not support chattr +i: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", *map(str, paths)], capture_output=True, check=True)


# -- read-only --------------------------------------------------------------------------------------


def test_tick_in_read_only_mode_is_refused_clearly_then_saved_once_writable(db_path: Path) -> None:
    case_id, stored = saved_case(db_path)
    before = digest(db_path)
    service = reopen(db_path, readonly=True)
    try:
        tick = next_tick(service, case_id)
        with pytest.raises(StoreReadOnly, match="read-only; nothing can be saved"):
            service.record_step(**tick)
        assert_not_saved(service, tick, stored)
    finally:
        service.close()
    LEDGER.add("faults.read_only_mode")
    assert digest(db_path) == before
    service = reopen(db_path)
    try:
        assert_saved(service, tick, stored)
    finally:
        service.close()


@pytest.mark.parametrize("how", ["chmod", "chattr"])
def test_read_only_database_file_is_reported_at_start_and_nothing_is_lost(
    db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], how: str
) -> None:
    case_id, stored = saved_case(db_path)
    with unwritable(how, db_path):
        before = digest(db_path)
        assert_one_line_error(run_cli(tmp_path, "demo", "--cases", "1", "--db", str(db_path)), "read-only")
        with pytest.raises(StoreReadOnly, match="read-only"):
            ChecklistService.open(db_path)
        viewer = ChecklistService.open(db_path, readonly=True)
        try:
            assert len(viewer.store.events(case_id)) == stored and viewer.store.verify() == []
        finally:
            viewer.close()
        assert digest(db_path) == before
    LEDGER.add(f"faults.read_only_file_{how}")
    service = reopen(db_path)
    try:
        assert_saved(service, next_tick(service, case_id), stored)
    finally:
        service.close()


def test_database_file_turning_read_only_while_open_fails_the_tick_then_retry_succeeds(db_path: Path) -> None:
    case_id, stored = saved_case(db_path)
    service = reopen(db_path)
    try:
        tick = next_tick(service, case_id)
        wal = db_path.with_name(db_path.name + "-wal")
        with unwritable("chattr", db_path, wal):  # -shm stays writable: it is memory-mapped
            with pytest.raises(StoreError, match="Nothing was saved"):
                service.record_step(**tick)
            assert_not_saved(service, tick, stored)
        LEDGER.add("faults.file_read_only_while_open")
        assert_saved(service, tick, stored)  # the same service, as the window would retry
    finally:
        service.close()


@pytest.mark.parametrize("how", ["chmod", "chattr"])
def test_new_database_in_read_only_folder_is_refused_naming_the_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], how: str
) -> None:
    folder = tmp_path / "locked-folder"
    folder.mkdir()
    db = folder / "new.sqlite3"
    with unwritable(how, folder):
        outcome = run_cli(tmp_path, "demo", "--cases", "1", "--db", str(db))
        assert_one_line_error(outcome, "cannot write in the folder", str(folder))
        with pytest.raises(StoreReadOnly, match="Cannot write in the folder"):
            ChecklistService.open(db)
        assert list(folder.iterdir()) == []
    LEDGER.add(f"faults.read_only_new_folder_{how}")
    service = ChecklistService.open(db)
    service.close()


@pytest.mark.parametrize("how", ["chmod", "chattr"])
def test_saved_database_in_read_only_folder_says_the_folder_is_read_only(
    db_path: Path, tmp_path: Path, how: str
) -> None:
    saved_case(db_path)
    with unwritable(how, db_path.parent):
        outcome = run_cli(tmp_path, "demo", "--cases", "1", "--db", str(db_path))
        LEDGER.add(f"faults.read_only_folder_{how}")
        # The cause is the folder (SQLite must create the -wal file there), not a missing or unreadable file.
        assert_one_line_error(outcome, "folder", "read-only")


@pytest.mark.parametrize("how", ["chmod", "chattr"])
def test_saved_database_in_read_only_folder_can_still_be_viewed_and_verified(
    db_path: Path, tmp_path: Path, how: str
) -> None:
    """A database on read-only media (a backup share, a copied folder) must still open for viewing."""
    case_id, _ = saved_case(db_path)
    with unwritable(how, db_path.parent):
        for args in (("verify",), ("cases",), ("show", case_id)):
            outcome = run_cli(tmp_path, *args, "--db", str(db_path))
            LEDGER.add(f"faults.read_only_folder_{how}_viewer")
            assert outcome.code == 0, (args, outcome)


# -- full disk ----------------------------------------------------------------------------------------


def test_full_disk_refuses_the_tick_keeps_everything_and_the_same_tick_saves_after_space_is_freed(
    db_path: Path,
) -> None:
    case_id, _ = saved_case(db_path, steps_done=1)
    with raw(db_path) as conn:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    clock = FakeClock(START.replace(hour=9))
    service = ChecklistService(Store(db_path, max_page_count=pages), clock=clock)
    try:
        for _ in range(15):  # tick by tick (all before the first needle) until the limit refuses one
            tick = next_tick(service, case_id)
            stored = len(service.store.events(case_id))
            clock.advance(minutes=1)
            try:
                service.record_step(**tick)
            except StoreFull as exc:
                error = exc
                break
        else:
            raise AssertionError("the size limit was never reached")
        LEDGER.add("faults.disk_full_tick")
        assert "disk is full" in str(error) and "Nothing already saved was lost" in str(error)
        assert_not_saved(service, tick, stored)
        assert service.store.verify() == []
        # Space is freed while the program keeps running: the nurse taps again.
        service.store._reader().execute("PRAGMA max_page_count = 1000000")  # test-only: lift the simulated limit
        assert_saved(service, tick, stored)
    finally:
        service.close()


def test_full_disk_while_starting_a_case_leaves_no_half_case(db_path: Path) -> None:
    saved_case(db_path, steps_done=0)
    with raw(db_path) as conn:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    service = ChecklistService(Store(db_path, max_page_count=pages), clock=FakeClock(START))
    try:
        before = service.list_cases()
        for _ in range(300):
            try:
                service.start_case(**setup_kwargs(indication_detail="x" * 1500))
            except StoreFull:
                break
            before = service.list_cases()
        else:
            raise AssertionError("the size limit was never reached")
        LEDGER.add("faults.disk_full_start_case")
        assert service.list_cases() == before and service.store.verify() == []
        service.store._reader().execute("PRAGMA max_page_count = 1000000")  # test-only: lift the simulated limit
        service.start_case(**setup_kwargs())
        assert len(service.list_cases()) == len(before) + 1
    finally:
        service.close()


def _file_size_limit(limit: int):
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with EFBIG instead of killing us
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_write_failure_from_the_operating_system_stops_the_demo_with_one_line_and_loses_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A real failing write(2) (file size limit): every case reported as saved is intact."""
    db = tmp_path / "data" / "checklist.sqlite3"
    limited = run_cli(
        tmp_path, "demo", "--cases", "30", "--seed", "5", "--db", str(db), preexec_fn=_file_size_limit(1_200_000)
    )
    LEDGER.add("faults.os_write_failure")
    assert_one_line_error(limited, "could not", "nothing was saved")
    reported = [line.split()[0] for line in limited.out.splitlines()]
    assert reported, "the limit should allow a few cases before failing"
    assert integrity(db) == ["ok"]
    viewer = ChecklistService.open(db, readonly=True)
    try:
        rows = {row.id: row for row in viewer.list_cases()}
        assert all(rows[case].status == "signed" for case in reported)
        assert viewer.store.verify() == []
    finally:
        viewer.close()
    again = run_cli(tmp_path, "demo", "--cases", "1", "--seed", "6", "--db", str(db))
    assert again.code == 0, again
    assert run_cli(tmp_path, "verify", "--db", str(db)).code == 0


# -- locked by another program --------------------------------------------------------------------------


def test_locked_database_refuses_the_tick_as_busy_and_the_same_tick_saves_after_release(
    db_path: Path, tmp_path: Path
) -> None:
    case_id, stored = saved_case(db_path)
    service = reopen(db_path)
    try:
        tick = next_tick(service, case_id)
        with held_by_another_program(db_path, tmp_path) as holder:
            with pytest.raises(StoreLocked, match="busy in another program. Nothing was saved"):
                service.record_step(**tick)
            assert_not_saved(service, tick, stored)
            holder.finish()
            assert "RELEASED" in holder.lines
        LEDGER.add("faults.locked_tick")
        assert_saved(service, tick, stored)
    finally:
        service.close()


def test_locked_database_gives_one_line_on_the_command_line_and_readers_still_work(
    db_path: Path, tmp_path: Path
) -> None:
    case_id, stored = saved_case(db_path)
    with held_by_another_program(db_path, tmp_path):
        assert_one_line_error(run_cli(tmp_path, "demo", "--cases", "1", "--db", str(db_path)), "busy")
        assert run_cli(tmp_path, "verify", "--db", str(db_path)).code == 0
        assert case_id in run_cli(tmp_path, "cases", "--db", str(db_path)).out
    LEDGER.add("faults.locked_cli")
    service = ChecklistService.open(db_path, readonly=True)
    try:
        assert [row.id for row in service.list_cases()] == [case_id]  # the refused demo left no half case
        assert len(service.store.events(case_id)) == stored
    finally:
        service.close()
    assert run_cli(tmp_path, "demo", "--cases", "1", "--db", str(db_path)).code == 0
