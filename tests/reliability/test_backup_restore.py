"""Backups that never destroy and restores into a new file (issue 12, item 1).

The data-loss bug of the review: `checklist-app --db OTHER backup -o LIVE` while a window had LIVE
open replaced LIVE and lost every case in it, and exited 0. Every destination rule has a test here,
run against real files written by the real program; the live database must hash the same after
every refusal.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from checklist_app.store import Store, StoreError, open_store
from checklist_app.store.anchors import manifest_path

from .harness import assert_one_line_error, cli_in_process, digest, raw, run_cli
from .ledger import LEDGER


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pristine") / "live.sqlite3"
    assert run_cli(path.parent, "demo", "--cases", "2", "--seed", "5", "--db", str(path)).code == 0
    return path


@pytest.fixture
def live(pristine: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "live.sqlite3"
    shutil.copyfile(pristine, copy)
    os.chmod(copy, 0o600)
    return copy


@pytest.fixture
def other(pristine: Path, tmp_path: Path) -> Path:
    """Another database (the --db of the backup command in the review's scenario)."""
    copy = tmp_path / "other.sqlite3"
    shutil.copyfile(pristine, copy)
    os.chmod(copy, 0o600)
    return copy


def backup(capsys, db: Path, dest: Path, *extra: str):
    LEDGER.add("security.backup_checks")
    return cli_in_process(capsys, "backup", "-o", str(dest), "--db", str(db), *extra)


def test_backup_onto_a_database_open_in_a_window_is_refused_and_it_keeps_every_case(capsys, live, other) -> None:
    """The review's data-loss scenario, with --force too: the destination's writer lock is held."""
    with open_store(live) as window:  # the room window holds LIVE
        cases = [c.id for c in window.list_cases()]
        before = digest(live)
        for extra in ((), ("--force",)):
            assert_one_line_error(backup(capsys, other, live, *extra), "live database")
        assert digest(live) == before
        assert [c.id for c in window.list_cases()] == cases and window.verify() == []


def test_backup_never_overwrites_an_existing_file_without_force(capsys, live, tmp_path) -> None:
    old = tmp_path / "old-backup.sqlite3"
    old.write_bytes(b"last week's backup")
    assert_one_line_error(backup(capsys, live, old), "already exists", "--force")
    assert old.read_bytes() == b"last week's backup"
    assert not manifest_path(old).exists()


def test_force_replaces_an_old_backup_that_is_not_in_use(capsys, live, tmp_path) -> None:
    old = tmp_path / "nightly.sqlite3"
    assert backup(capsys, live, old).code == 0
    with raw(live) as conn:
        conn.execute("PRAGMA user_version")  # the live file is untouched by the copy
    assert_one_line_error(backup(capsys, live, old), "already exists")
    outcome = backup(capsys, live, old, "--force")
    assert outcome.code == 0, outcome
    with Store(old, readonly=True) as copy:
        assert copy.verify() == []


def test_force_never_replaces_a_database_with_an_open_journal(capsys, live, other) -> None:
    wal = other.with_name(other.name + "-wal")
    wal.write_bytes(b"\0" * 64)  # another program has it open in WAL mode
    before = digest(other)
    assert_one_line_error(backup(capsys, live, other, "--force"), "live database")
    assert digest(other) == before


def test_force_never_replaces_a_fifo_or_a_device(capsys, live, tmp_path) -> None:
    fifo = tmp_path / "pipe.sqlite3"
    os.mkfifo(fifo)
    assert_one_line_error(backup(capsys, live, fifo, "--force"), "not a regular file")
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    device = tmp_path / "null.sqlite3"
    device.symlink_to(os.devnull)
    assert_one_line_error(backup(capsys, live, device, "--force"), "another folder")


def test_force_never_follows_a_link_out_of_the_folder(capsys, live, tmp_path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = elsewhere / "precious.sqlite3"
    target.write_bytes(b"precious")
    backups = tmp_path / "backups"
    backups.mkdir()
    link = backups / "copy.sqlite3"
    link.symlink_to(target)
    assert_one_line_error(backup(capsys, live, link, "--force"), "another folder")
    assert target.read_bytes() == b"precious"


def test_the_live_database_through_a_symlink_is_still_the_live_database(capsys, live, tmp_path) -> None:
    alias = tmp_path / "alias.sqlite3"
    alias.symlink_to(live)
    before = digest(live)
    for extra in ((), ("--force",)):
        assert_one_line_error(backup(capsys, live, alias, *extra), "live database")
    assert digest(live) == before


def test_the_default_database_is_never_a_backup_destination(live, tmp_path) -> None:
    default = tmp_path / "app-data" / "checklist.sqlite3"
    default.parent.mkdir()
    shutil.copyfile(live, default)
    before = digest(default)
    env = {"CHECKLIST_APP_DB": str(default)}
    outcome = run_cli(tmp_path, "--db", str(live), "backup", "-o", str(default), "--force", env_extra=env)
    assert_one_line_error(outcome, "live database")
    assert digest(default) == before


def test_backup_goes_through_a_temporary_file_and_leaves_nothing_on_failure(live, tmp_path) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    # A name the file system takes, but whose temporary sibling (".NAME.PID.partial") it cannot:
    # the copy fails before anything is written, and nothing may be left, not even a partial file.
    dest = folder / ("b" * 250)
    with open_store(live, readonly=True) as store, pytest.raises(StoreError, match="Could not write"):
        store.backup(dest)
    assert list(folder.iterdir()) == []


def test_backup_writes_a_manifest_of_every_case_head_with_its_own_hash(capsys, live, tmp_path) -> None:
    dest = tmp_path / "copy.sqlite3"
    outcome = backup(capsys, live, dest)
    assert outcome.code == 0 and "Manifest written" in outcome.out
    manifest = json.loads(manifest_path(dest).read_text(encoding="utf-8"))
    with open_store(live, readonly=True) as store:
        heads = [
            {"case": c.id, "seq": len(store.events(c.id)), "head": store.events(c.id)[-1].hash}
            for c in store.list_cases()
        ]
    assert sorted(manifest["cases"], key=lambda h: h["case"]) == sorted(heads, key=lambda h: h["case"])
    assert len(manifest["manifest_hash"]) == 64
    assert stat.S_IMODE(manifest_path(dest).stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir() if "partial" in p.name] == []


def test_restore_writes_a_new_verified_file_and_keeps_the_old_one(capsys, live, tmp_path) -> None:
    copy = tmp_path / "copy.sqlite3"
    assert backup(capsys, live, copy).code == 0
    before = digest(live)
    restored = tmp_path / "restored.sqlite3"
    outcome = cli_in_process(capsys, "restore", str(copy), "-o", str(restored), "--db", str(live))
    assert outcome.code == 0 and "verified" in outcome.out, outcome
    assert digest(live) == before
    assert cli_in_process(capsys, "verify", "--db", str(restored)).code == 0
    assert stat.S_IMODE(restored.stat().st_mode) == 0o600


def test_restore_never_replaces_a_file(capsys, live, tmp_path) -> None:
    copy = tmp_path / "copy.sqlite3"
    assert backup(capsys, live, copy).code == 0
    for target in (live, tmp_path / "other.txt"):
        if not target.exists():
            target.write_text("keep me")
        before = digest(target)
        outcome = cli_in_process(capsys, "restore", str(copy), "-o", str(target), "--db", str(live))
        assert_one_line_error(outcome)
        assert digest(target) == before


def test_restore_refuses_a_backup_that_does_not_verify_and_writes_nothing(capsys, live, tmp_path) -> None:
    copy = tmp_path / "copy.sqlite3"
    assert backup(capsys, live, copy).code == 0
    with raw(copy) as conn:
        conn.execute("UPDATE events SET actor = 'Someone Else' WHERE seq = 3")
    restored = tmp_path / "restored.sqlite3"
    outcome = cli_in_process(capsys, "restore", str(copy), "-o", str(restored), "--db", str(live))
    assert_one_line_error(outcome, "does not verify", "nothing was restored")
    assert not restored.exists() and [p.name for p in tmp_path.iterdir() if "partial" in p.name] == []


def test_restore_checks_the_backup_against_its_manifest(capsys, live, tmp_path) -> None:
    """A backup whose whole case was removed (undetectable in the file alone) is caught by its manifest."""
    copy = tmp_path / "copy.sqlite3"
    assert backup(capsys, live, copy).code == 0
    with raw(copy) as conn:
        victim = conn.execute("SELECT id FROM cases ORDER BY id").fetchone()[0]
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute("DELETE FROM events WHERE case_id = ?", [victim])
        conn.execute("DELETE FROM cases WHERE id = ?", [victim])
    restored = tmp_path / "restored.sqlite3"
    outcome = cli_in_process(capsys, "restore", str(copy), "-o", str(restored), "--db", str(live))
    assert_one_line_error(outcome, "does not verify")
    assert not restored.exists()
