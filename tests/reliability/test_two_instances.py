"""Two programs on one database: the second writer is refused naming the first; never two writers."""

from __future__ import annotations

from pathlib import Path

import pytest

from checklist_app.service import ChecklistService
from checklist_app.store import open_store

from .harness import SERVICE_DRIVER, Child, assert_one_line_error, run_cli
from .ledger import LEDGER

RACES = 6


def _driver(db: Path, home: Path, *extra: str) -> Child:
    return Child.start([str(SERVICE_DRIVER), str(db), *extra], home)


def test_second_writer_process_is_refused_naming_the_first_and_the_first_carries_on(tmp_path: Path) -> None:
    db = tmp_path / "data" / "checklist.sqlite3"
    first = _driver(db, tmp_path / "first", "--cases", "2", "--hold-after", "40")
    assert first.read_until("HOLD"), first.stderr
    ready = next(line for line in first.lines if line.startswith("READY"))
    pid = ready.split()[1]

    second = run_cli(tmp_path, "demo", "--cases", "1", "--db", str(db))
    LEDGER.add("instances.second_writer_refused")
    assert_one_line_error(second, "already open in another checklist window", f"process {pid}")
    assert not second.out
    second_driver = _driver(db, tmp_path / "second")
    assert second_driver.read_until("REFUSED") and second_driver.finish() == 3
    assert f"process {pid}" in second_driver.lines[-1]

    # Readers are welcome while the writer works.
    assert run_cli(tmp_path, "verify", "--db", str(db)).code == 0
    assert run_cli(tmp_path, "cases", "--db", str(db)).code == 0

    assert first.finish() == 0 and first.lines[-1] == "DONE", first.stderr
    service = ChecklistService.open(db, readonly=True)
    try:
        assert [row.status for row in service.list_cases()] == ["signed", "signed"]
        assert service.store.verify() == []
    finally:
        service.close()


def test_two_writers_started_together_never_both_write(tmp_path: Path) -> None:
    """Both start on a database that does not exist yet; exactly one may create and write it."""
    for race in range(RACES):
        db = tmp_path / f"race{race}" / "checklist.sqlite3"
        pair = [_driver(db, tmp_path / f"race{race}-{who}", "--cases", "1", "--hold-after", "5") for who in "ab"]
        outcomes = []
        for child in pair:
            while (line := child.next_line()) is not None and not line.startswith(("HOLD", "REFUSED")):
                pass
            outcomes.append(line or "ENDED")
        LEDGER.add("instances.simultaneous_starts")
        assert sorted(o.split()[0] for o in outcomes) == ["HOLD", "REFUSED"], (outcomes, [c.stderr for c in pair])
        refusal = next(o for o in outcomes if o.startswith("REFUSED"))
        assert "already open in another checklist window" in refusal, refusal  # not "corrupt" mid-creation
        codes = sorted(child.finish() for child in pair)
        assert codes == [0, 3]
        service = ChecklistService.open(db, readonly=True)
        try:
            assert len(service.list_cases()) == 1 and service.store.verify() == []
        finally:
            service.close()


def test_two_demo_programs_on_one_database_leave_it_intact(tmp_path: Path) -> None:
    """Whatever the timing, each demo either writes all its cases or is refused; nothing is mixed."""
    db = tmp_path / "data" / "checklist.sqlite3"
    run_cli(tmp_path, "demo", "--cases", "1", "--db", str(db))
    children = [
        Child.start(
            ["-m", "checklist_app", "demo", "--cases", "3", "--seed", str(i), "--db", str(db)], tmp_path / f"d{i}"
        )
        for i in range(2)
    ]
    finished = []
    for child in children:
        code = child.finish()
        finished.append(code)
        if code:
            assert "already open in another checklist window" in child.stderr, child.stderr
    LEDGER.add("instances.concurrent_demos", 2)
    written = sum(3 for code in finished if code == 0)
    service = ChecklistService.open(db, readonly=True)
    try:
        assert len(service.list_cases()) == 1 + written
        assert service.store.verify() == []
    finally:
        service.close()


def test_folder_created_by_another_program_at_the_same_moment_is_not_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race above, made certain: the folder appears between the check and the mkdir."""
    folder = tmp_path / "new-site"
    db = folder / "checklist.sqlite3"
    real_is_dir = Path.is_dir

    def appears_meanwhile(self: Path) -> bool:
        if self == folder and not real_is_dir(self):
            self.mkdir()  # the other program wins the mkdir just after our check
            return False
        return real_is_dir(self)

    monkeypatch.setattr(Path, "is_dir", appears_meanwhile)
    LEDGER.add("instances.simultaneous_starts")
    store = open_store(db)  # must open (or be refused as locked), not fail with "File exists"
    store.close()
